"""The events server: Server-Sent Events for the pages that watch something (``core.live``).

``uvicorn config.live_server:application`` serves ``GET /events/?token=…``: the token's topics, as
``data:`` lines, each time a service publishes on one of them; ``GET /events/healthz`` answers "ok".

Why a process of its own, and ASGI: the pages stay on the WSGI tier (gunicorn), where each worker
keeps its PostgreSQL connection open between requests; Django under ASGI does not keep them for its
sync views (each request would open a new connection), and a stream held open for hours would pin a
sync worker each. This small raw ASGI app holds hundreds of idle streams in one event loop and never
touches the database: it checks the signed token (``core.live.live_topics``: settings and
``django.core.signing`` only, no ORM) and relays the broker's Redis pub/sub.

One Redis pub/sub connection per process serves every stream (``Hub``): a topic is subscribed when
its first watcher comes and unsubscribed when its last one goes. Each stream has a bounded queue; a
client that cannot keep up is ended (it reconnects and its page fetches what it missed) rather than
fed a gap. When Redis is unreachable, hangs or restarts, the streams end and the browsers retry
after ``retry`` (polling meanwhile); the next stream connects the hub again.

Tokens are credentials in a query string: the access log keeps the path only (``_PathOnly``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import redis
import redis.asyncio as aioredis
from django.conf import settings
from django.core import signing
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import NoBackoff

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

from core.live import CHANNEL_PREFIX, live_topics
from workers.control import sentinel_address

logger = logging.getLogger("uvicorn.error").getChild("events")  # uvicorn's handlers and level: one log

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

RETRY_MILLISECONDS = 5000  # how long a browser waits before it opens a stream again
REDIS_TIMEOUT_SECONDS = 5  # to connect, and for a subscription to be confirmed
DOWN_REMEMBERED_SECONDS = 2  # after a failed connect, streams end at once rather than each wait to fail
QUEUE_SIZE = 64  # messages a stream may have waiting; one more and it is ended
PING = b": ping\n\n"
CLOSE = b""  # in a stream's queue: end the response
STREAM_HEADERS = [
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache, no-transform"),
    (b"x-accel-buffering", b"no"),  # nginx: pass each event on at once
    (b"access-control-allow-origin", b"*"),  # the token is the credential; no cookie is sent or read
]


class Stream:
    """One browser's stream: its topics and what is waiting to be sent to it."""

    def __init__(self, topics: list[str], abort: Callable[[], object]) -> None:
        self.topics = list(dict.fromkeys(topics))
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=QUEUE_SIZE + 1)  # + room for CLOSE
        self.closed = False
        self.abort = abort

    def offer(self, chunk: bytes) -> None:
        """Queue ``chunk``. A stream that already has ``QUEUE_SIZE`` waiting is stuck sending to a client
        that does not read: it is aborted, not waited for."""
        if self.closed:
            return
        if self.queue.qsize() >= QUEUE_SIZE:
            self.close()
            self.abort()
            return
        self.queue.put_nowait(chunk)

    def close(self) -> None:
        """End the response after nothing more (what is still queued is dropped)."""
        if self.closed:
            return
        self.closed = True
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(CLOSE)


def sse_data(payload: bytes) -> bytes:
    """An SSE event carrying ``payload`` (one ``data:`` line per line of it)."""
    return b"".join(b"data: " + line + b"\n" for line in payload.split(b"\n")) + b"\n"


def sse_event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\n".encode() + sse_data(json.dumps(data).encode())


def broker_client(url: str) -> aioredis.Redis:
    """An asyncio client of the broker's Redis (``redis+socket://``, ``redis://``, ``rediss://`` or
    ``sentinel://``, as ``workers.control.redis_client`` reads them) that never retries by itself: a
    failure must reach the hub, which ends the streams rather than hide a gap in them."""
    options: dict[str, Any] = {
        "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
        "socket_timeout": REDIS_TIMEOUT_SECONDS,  # sends; the pub/sub read itself waits without limit
        "retry": Retry(NoBackoff(), 0),
    }
    parts = urlsplit(url)
    if parts.scheme == "redis+socket":
        return aioredis.Redis(unix_socket_path=parts.path, **options)
    if parts.scheme == "sentinel":
        address = sentinel_address(url)
        sentinel_options = {"password": address.sentinel_password, "socket_timeout": REDIS_TIMEOUT_SECONDS}
        sentinels = Sentinel(address.hosts, sentinel_kwargs=sentinel_options, **options)
        master = settings.CELERY_SENTINEL_MASTER
        return sentinels.master_for(master, db=address.db, password=address.password, **options)
    return aioredis.Redis.from_url(url, **options)


class Hub:
    """This process's one pub/sub connection, shared by every stream, with a count of watchers per topic.

    A stream is *ready* once Redis has confirmed the subscription to each of its topics, so a page
    that fetches on ``ready`` misses no change made after its fetch. A heartbeat task pings Redis
    and every stream each ``LIVE_HEARTBEAT_SECONDS``; a ping Redis leaves unanswered for a whole
    beat, or any error, ends every stream (``_fail``) and the next stream connects afresh."""

    def __init__(self, url: str, heartbeat: float) -> None:
        self.url = url
        self.heartbeat = heartbeat
        self.lock = asyncio.Lock()
        self.pubsub: aioredis.client.PubSub | None = None
        self.tasks: list[asyncio.Task] = []  # the current connection's reader and heartbeat
        self.closing: set[asyncio.Task] = set()  # each connection's disconnect, once those two stop
        self.watchers: dict[str, set[Stream]] = {}
        self.unconfirmed: dict[str, int] = {}  # topic -> SUBSCRIBE commands Redis has not confirmed yet
        self.confirmed: dict[str, asyncio.Future[None]] = {}
        self.answered = True  # whether Redis answered the last ping
        self.down_until = 0.0  # until when (monotonic) a failed connect is not tried again

    async def join(self, stream: Stream) -> bool:
        """Follow the stream's topics; False (and the stream ended) when Redis cannot be reached."""
        try:
            pubsub = await self._connected()
        except (redis.RedisError, OSError, TimeoutError) as exc:
            logger.debug("cannot reach Redis: %s", exc)  # each browser retries: the loss itself is logged once
            stream.close()
            return False
        try:
            fresh = [topic for topic in stream.topics if not self.watchers.get(topic)]
            for topic in stream.topics:
                self.watchers.setdefault(topic, set()).add(stream)
            for topic in fresh:
                self.unconfirmed[topic] = self.unconfirmed.get(topic, 0) + 1
                self.confirmed.setdefault(topic, asyncio.get_running_loop().create_future())
            if fresh:
                await pubsub.subscribe(*(CHANNEL_PREFIX + topic for topic in fresh))
            waits = [asyncio.shield(self.confirmed[topic]) for topic in stream.topics]
            await asyncio.wait_for(asyncio.gather(*waits), REDIS_TIMEOUT_SECONDS)
        except (redis.RedisError, OSError, TimeoutError) as exc:
            self._fail(f"subscribing: {exc.__class__.__name__}: {exc}", pubsub)
            stream.close()
        return not stream.closed  # closed meanwhile: the connection was lost

    async def leave(self, stream: Stream) -> None:
        """Stop following the stream's topics; the last watcher of a topic unsubscribes it."""
        idle, pubsub = self._forget(stream), self.pubsub
        if idle and pubsub is not None:
            try:
                await pubsub.unsubscribe(*(CHANNEL_PREFIX + topic for topic in idle))
            except (redis.RedisError, OSError) as exc:
                self._fail(f"unsubscribing: {exc.__class__.__name__}: {exc}", pubsub)

    def streams(self) -> set[Stream]:
        return set().union(*self.watchers.values()) if self.watchers else set()

    def end_streams(self) -> None:
        """End every stream and drop the connection (the server is stopping)."""
        self._fail(None, self.pubsub)

    async def close(self) -> None:
        """End every stream and wait for the connection to close (the app's shutdown)."""
        self.end_streams()
        await asyncio.gather(*self.closing, return_exceptions=True)

    def _forget(self, stream: Stream) -> list[str]:
        """Take the stream off its topics; the topics nobody watches any more."""
        idle = []
        for topic in stream.topics:
            watchers = self.watchers.get(topic)
            if watchers is None or stream not in watchers:
                continue  # a topic listed twice, or the hub failed since
            watchers.discard(stream)
            if not watchers:
                del self.watchers[topic]
                self.confirmed.pop(topic, None)
                idle.append(topic)
        return idle

    async def _connected(self) -> aioredis.client.PubSub:
        async with self.lock:  # one connection, however many streams arrive at once
            if self.pubsub is None:
                if time.monotonic() < self.down_until:
                    raise redis.ConnectionError("unreachable a moment ago")
                client = broker_client(self.url)
                pubsub = client.pubsub()
                try:
                    await asyncio.wait_for(pubsub.connect(), REDIS_TIMEOUT_SECONDS)
                except BaseException:
                    self.down_until = time.monotonic() + DOWN_REMEMBERED_SECONDS
                    await pubsub.aclose()
                    await client.aclose()
                    raise
                self.pubsub, self.answered = pubsub, True
                self.tasks = [asyncio.create_task(self._read(pubsub)), asyncio.create_task(self._beat(pubsub))]
                closing = asyncio.create_task(self._close_on_end(client, pubsub, list(self.tasks)))
                self.closing.add(closing)
                closing.add_done_callback(self.closing.discard)
            return self.pubsub

    async def _read(self, pubsub: aioredis.client.PubSub) -> None:
        try:
            while True:
                self._dispatch(await pubsub.get_message(timeout=None))
        except Exception as exc:  # noqa: BLE001 - whatever stops the reader ends the streams it fed
            self._fail(f"reading: {exc.__class__.__name__}: {exc}", pubsub)

    def _dispatch(self, message: dict[str, Any] | None) -> None:
        if message is None:
            return
        kind = message["type"]
        if kind == "pong":
            self.answered = True
            return
        topic = message["channel"].decode()[len(CHANNEL_PREFIX) :]
        if kind == "message":
            chunk = sse_data(message["data"])
            for stream in list(self.watchers.get(topic, ())):
                stream.offer(chunk)
        elif kind == "subscribe" and topic in self.unconfirmed:
            self.unconfirmed[topic] -= 1
            future = self.confirmed.get(topic)
            if not self.unconfirmed[topic] and future is not None and not future.done():
                future.set_result(None)

    async def _beat(self, pubsub: aioredis.client.PubSub) -> None:
        try:
            while True:
                await asyncio.sleep(self.heartbeat)
                if not self.answered:
                    self._fail(f"no answer to a ping within {self.heartbeat} s", pubsub)
                    return
                self.answered = False
                await pubsub.ping()
                for stream in self.streams():
                    stream.offer(PING)
        except Exception as exc:  # noqa: BLE001 - as the reader's
            self._fail(f"pinging: {exc.__class__.__name__}: {exc}", pubsub)

    async def _close_on_end(self, client: aioredis.Redis, pubsub: aioredis.client.PubSub, tasks: list) -> None:
        """Once the reader or the heartbeat stops (an error, or ``close``), stop the other and disconnect."""
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await pubsub.aclose()
            await client.aclose()

    def _fail(self, why: str | None, pubsub: aioredis.client.PubSub | None) -> None:
        """End every stream and drop the connection ``pubsub`` (unless it was dropped already and
        another one serves now); the next stream connects again."""
        if pubsub is None or pubsub is not self.pubsub:
            return
        if why is not None:
            logger.warning("Redis pub/sub lost (%s); ending %d streams", why, len(self.streams()))
        for stream in self.streams():
            stream.close()
        for future in self.confirmed.values():
            if not future.done():
                future.set_result(None)  # its streams are closed: join() tells them apart
        self.watchers, self.unconfirmed, self.confirmed = {}, {}, {}
        self.pubsub = None
        current = asyncio.current_task()
        for task in self.tasks:  # the reader and the heartbeat; _close_on_end then disconnects
            if task is not current:
                task.cancel()


def serve_command(*, host: str, port: int) -> list[str]:
    """How ``make run``, the tests and the benchmarks start this server (compose and Kubernetes say
    the same in their own words). On SIGTERM the streams end at once (``_end_streams_on_exit_signals``);
    ``--timeout-graceful-shutdown`` bounds whatever is still open after that."""
    app = "config.live_server:application"
    return [sys.executable, "-m", "uvicorn", app, "--host", host, "--port", str(port), *SERVE_OPTIONS]


SERVE_OPTIONS = ("--lifespan", "on", "--timeout-graceful-shutdown", "3")

_hub: Hub | None = None


def hub() -> Hub:
    global _hub
    if _hub is None:
        _hub = Hub(settings.CELERY_BROKER_URL, settings.LIVE_HEARTBEAT_SECONDS)
    return _hub


async def application(scope: Scope, receive: Receive, send: Send) -> None:
    """The ASGI entry point: lifespan, ``/events/`` and ``/events/healthz``."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
    elif scope["type"] != "http":
        return
    elif scope["path"] not in ("/events/", "/events/healthz"):
        await _plain(send, 404, "not found")
    elif scope["method"] != "GET":
        await _plain(send, 405, "GET only", [(b"allow", b"GET")])
    elif scope["path"] == "/events/healthz":
        await _plain(send, 200, "ok")
    else:
        await _events(scope, receive, send)


async def _events(scope: Scope, receive: Receive, send: Send) -> None:
    token = parse_qs(scope["query_string"].decode("latin-1")).get("token", [""])[0]
    try:
        topics = live_topics(token)
    except signing.SignatureExpired:
        await _plain(send, 403, "token expired: reload the page")
        return
    except signing.BadSignature:
        await _plain(send, 403, "bad or missing token")
        return
    await send({"type": "http.response.start", "status": 200, "headers": STREAM_HEADERS})
    await _chunk(send, f"retry: {RETRY_MILLISECONDS}\n\n".encode())
    relay: asyncio.Task | None = None
    stream = Stream(topics, abort=lambda: relay.cancel())
    relay = asyncio.create_task(_relay(stream, send))
    watcher = asyncio.create_task(_close_on_disconnect(receive, stream))
    try:
        await asyncio.wait([relay])
    finally:
        watcher.cancel()
        relay.cancel()
        await hub().leave(stream)
    if relay.cancelled():
        logger.warning("a client that does not read its stream is cut off")
        return  # the response left unfinished: uvicorn closes the connection
    if relay.exception() is not None:
        logger.error("a stream failed", exc_info=relay.exception())
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _relay(stream: Stream, send: Send) -> None:
    if await hub().join(stream):
        await _chunk(send, sse_event("ready", {"topics": stream.topics}))
        while chunk := await stream.queue.get():  # CLOSE, empty, ends it
            await _chunk(send, chunk)


async def _close_on_disconnect(receive: Receive, stream: Stream) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    stream.close()


async def _chunk(send: Send, body: bytes) -> None:
    await send({"type": "http.response.body", "body": body, "more_body": True})


async def _plain(send: Send, status: int, text: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = text.encode()
    start = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    start += [(b"access-control-allow-origin", b"*"), *(headers or [])]
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                hub()  # reads the settings now: a configuration error stops the server at start
            except Exception as exc:  # noqa: BLE001 - told to the server, which exits
                await send({"type": "lifespan.startup.failed", "message": repr(exc)})
                return
            _end_streams_on_exit_signals()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await hub().close()
            await send({"type": "lifespan.shutdown.complete"})
            return


def _end_streams_on_exit_signals() -> None:
    """On SIGTERM or SIGINT, end every stream at once, then let the server's own handler stop it.

    uvicorn stops by waiting for open responses to finish and only then tells the app (lifespan
    shutdown): streams never finish, so it would wait ``--timeout-graceful-shutdown`` and then cancel
    them mid-response. Ending them first lets each browser reconnect to a server that stays."""
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(signum)
        if not callable(previous):
            continue  # not the main thread's server (tests), or the default action: nothing to chain

        def end_streams(number: int, frame: object, previous: Callable = previous) -> None:
            loop.call_soon_threadsafe(lambda: hub().end_streams())
            previous(number, frame)

        signal.signal(signum, end_streams)


class _PathOnly(logging.Filter):
    """uvicorn's access log without the query string: the token in it is a credential."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3 and isinstance(record.args[2], str):
            record.args = (*record.args[:2], record.args[2].split("?", 1)[0], *record.args[3:])
        return True


logging.getLogger("uvicorn.access").addFilter(_PathOnly())
