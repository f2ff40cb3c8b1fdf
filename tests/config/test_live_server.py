"""The events server (config/live_server.py), driven over a real socket: uvicorn in a process of its
own, the test broker's real Redis, tokens made by ``core.live`` and messages sent by ``live_publish``.

The server runs with a database URL nobody answers at: it must never need one.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
import redis
from django.conf import settings
from django.core import signing

from config import embedded_broker
from config.live_server import serve_command
from core.live import TOKEN_SALT, live_publish, live_token
from tests.deploy.test_compose_ha import sentinel_cluster  # noqa: F401 - a fixture: real sentinels
from workers import control

REPO = Path(__file__).resolve().parent.parent.parent
NO_DATABASE = "postgres://nobody@127.0.0.1:9/nothing"  # port 9 (discard): refused


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(*, broker_url: str, log: Path, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "CELERY_BROKER_URL": broker_url,
        "CELERY_RESULT_BACKEND": broker_url,
        "DATABASE_URL": NO_DATABASE,
        "LIVE_HEARTBEAT_SECONDS": "1",
        **(env or {}),
    }
    with log.open("w") as out:
        process = subprocess.Popen(
            serve_command(host="127.0.0.1", port=port), cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if get(port, "/events/healthz")[0] == 200:
                return process, port
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"the events server did not answer: {log.read_text()}")


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=15)


def get(port: int, path: str) -> tuple[int, str]:
    """Status and body of a request that ends (not a stream)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
        response = b""
        while chunk := conn.recv(65536):
            response += chunk
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode()


class Stream:
    """An EventSource, by hand: the response's head, then its events and comments as they come."""

    def __init__(self, port: int, token: str) -> None:
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.socket.sendall(f"GET /events/?token={token} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
        self.buffer = b""
        head = self._until(b"\r\n\r\n")
        self.status = int(head.split()[1])
        self.headers = dict(line.split(": ", 1) for line in head.decode().lower().split("\r\n")[1:] if ": " in line)
        self.ended = False

    def _until(self, separator: bytes) -> bytes:
        while separator not in self.buffer:
            chunk = self.socket.recv(65536)
            if not chunk:
                raise EOFError
            self.buffer += chunk
        part, self.buffer = self.buffer.split(separator, 1)
        return part

    def next_event(self) -> str:
        """The next SSE block (chunked framing skipped), e.g. ``data: {...}`` or ``: ping``; '' at the end."""
        while True:
            size = int(self._until(b"\r\n"), 16)
            if size == 0:
                self.ended = True
                return ""
            while len(self.buffer) < size + 2:
                chunk = self.socket.recv(65536)
                if not chunk:
                    raise EOFError
                self.buffer += chunk
            block, self.buffer = self.buffer[:size].decode(), self.buffer[size + 2 :]
            if block.strip():
                return block.strip()

    def next_data(self) -> dict:
        """The next message, skipping heartbeats."""
        while (event := self.next_event()).startswith(":"):
            pass
        assert event.startswith("data: "), event
        return json.loads(event.removeprefix("data: "))

    def ready(self) -> list[str]:
        assert self.next_event() == "retry: 5000"
        event, data = self.next_event().split("\n")
        assert event == "event: ready"
        return json.loads(data.removeprefix("data: "))["topics"]

    def close(self) -> None:
        self.socket.close()


def stream_once_ready(port: int, token: str, *, within: float = 10) -> Stream | None:
    """A stream opened again until one is ready (None if none is within ``within`` seconds)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        stream = Stream(port, token)
        assert stream.next_event() == "retry: 5000"
        if stream.next_event().startswith("event: ready"):
            return stream
        stream.close()
        time.sleep(0.5)
    return None


@pytest.fixture(scope="module")
def server_log(broker_url: str) -> Iterator[tuple[int, Path]]:
    """The events server on the test broker: its port and its log."""
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "events.log"
        process, port = start_server(broker_url=broker_url, log=log)
        yield port, log
        stop_server(process)


@pytest.fixture
def server(server_log: tuple[int, Path]) -> int:
    return server_log[0]


@pytest.fixture
def broker() -> redis.Redis:
    return control.redis_client(settings.CELERY_BROKER_URL)


def topic(kind: str) -> str:
    return f"{kind}:{uuid.uuid4().hex[:10]}"


def numsub(client: redis.Redis, name: str) -> int:
    return dict(client.pubsub_numsub(f"live:{name}"))[f"live:{name}".encode()]


def wait_for(condition: object, *, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.django_db
def test_a_stream_receives_the_messages_of_its_topics_only_in_order(
    server: int, django_capture_on_commit_callbacks: object
) -> None:
    run, user, other = topic("run"), topic("user"), topic("run")
    stream = Stream(server, live_token(topics=[run, user]))
    assert stream.status == 200
    assert stream.headers["content-type"] == "text/event-stream"
    assert stream.headers["cache-control"] == "no-cache, no-transform"
    assert stream.headers["x-accel-buffering"] == "no"
    assert stream.headers["access-control-allow-origin"] == "*"
    assert stream.ready() == [run, user]
    for step in range(10):
        with django_capture_on_commit_callbacks(execute=True):
            live_publish(other, state="running", step=step)
            live_publish(run, state="running", step=step)
        if step % 3 == 0:
            with django_capture_on_commit_callbacks(execute=True):
                live_publish(user, unread=step)
    received = [stream.next_data() for _ in range(14)]
    assert [m for m in received if m["topic"] == run] == [
        {"topic": run, "state": "running", "step": step} for step in range(10)
    ]
    assert [m["unread"] for m in received if m["topic"] == user] == [0, 3, 6, 9]
    stream.close()


@pytest.mark.django_db
def test_a_message_of_a_rolled_back_change_is_never_sent(
    server: int, django_capture_on_commit_callbacks: object
) -> None:
    run = topic("run")
    stream = Stream(server, live_token(topics=[run]))
    stream.ready()
    with django_capture_on_commit_callbacks(execute=False):
        live_publish(run, state="failed")  # the transaction never commits: no callback runs
    with django_capture_on_commit_callbacks(execute=True):
        live_publish(run, state="succeeded")
    assert stream.next_data() == {"topic": run, "state": "succeeded"}
    stream.close()


def test_a_bad_or_missing_token_is_refused_with_a_reason(server: int) -> None:
    forged = signing.dumps(["run:1"], salt="another salt")
    assert get(server, f"/events/?token={forged}") == (403, "bad or missing token")
    assert get(server, "/events/") == (403, "bad or missing token")


def test_an_expired_token_is_refused_with_a_reason(server: int) -> None:
    yesterday = time.time() - 2 * settings.LIVE_TOKEN_SECONDS
    with mock.patch("django.core.signing.time.time", return_value=yesterday):
        old = signing.dumps(["run:1"], salt=TOKEN_SALT, compress=True)
    assert get(server, f"/events/?token={old}") == (403, "token expired: reload the page")


def test_health_answers_and_other_paths_are_not_found(server: int) -> None:
    assert get(server, "/events/healthz") == (200, "ok")
    assert get(server, "/events/other")[0] == 404
    assert get(server, "/admin/")[0] == 404


def test_a_heartbeat_comes_while_nothing_happens(server: int) -> None:
    stream = Stream(server, live_token(topics=[topic("run")]))
    stream.ready()
    started = time.monotonic()
    assert stream.next_event() == ": ping"
    assert time.monotonic() - started < 3  # LIVE_HEARTBEAT_SECONDS=1 in the server
    stream.close()


def test_a_closed_stream_unsubscribes_its_topics(server: int, broker: redis.Redis) -> None:
    shared, own = topic("board"), topic("run")
    first = Stream(server, live_token(topics=[shared, own]))
    second = Stream(server, live_token(topics=[shared]))
    first.ready(), second.ready()
    assert (numsub(broker, shared), numsub(broker, own)) == (1, 1)
    first.close()
    wait_for(lambda: numsub(broker, own) == 0)
    assert numsub(broker, shared) == 1  # still watched by the second
    second.close()
    wait_for(lambda: numsub(broker, shared) == 0)


def test_many_streams_share_one_redis_connection(server: int, broker: redis.Redis) -> None:
    shared = topic("board")
    own = [topic("run") for _ in range(200)]
    streams = [Stream(server, live_token(topics=[shared, name])) for name in own]
    for stream in streams:
        stream.ready()
    assert {numsub(broker, name) for name in [shared, *own]} == {1}
    subscribers = [c for c in broker.client_list() if int(c.get("sub", 0)) >= len(own)]
    assert len(subscribers) == 1  # one connection holds all 201 subscriptions
    broker.publish(f"live:{shared}", json.dumps({"topic": shared}))
    assert {stream.next_data()["topic"] for stream in streams} == {shared}
    for stream in streams:
        stream.close()
    wait_for(lambda: numsub(broker, shared) == 0)


def test_streams_end_when_redis_goes_and_start_again_when_it_is_back(tmp_path: Path) -> None:
    broker_dir = Path(tempfile.mkdtemp(prefix="live-"))  # a unix socket's path must stay short
    url = embedded_broker.url_for(broker_dir)
    redis_server = embedded_broker.start(url)
    process, port = start_server(broker_url=url, log=tmp_path / "events.log")
    try:
        run = topic("run")
        stream = Stream(port, live_token(topics=[run]))
        stream.ready()
        redis_server.terminate()
        redis_server.wait(timeout=10)
        while stream.next_event():  # heartbeats, then the end
            pass
        assert stream.ended
        down = Stream(port, live_token(topics=[run]))
        assert (down.status, down.next_event(), down.next_event()) == (200, "retry: 5000", "")
        redis_server = embedded_broker.start(url)
        back = stream_once_ready(port, live_token(topics=[run]))  # as a browser does, every few seconds
        assert back is not None
        control.redis_client(url).publish(f"live:{run}", json.dumps({"topic": run, "state": "running"}))
        assert back.next_data() == {"topic": run, "state": "running"}
        back.close()
        assert get(port, "/events/healthz") == (200, "ok")
    finally:
        stop_server(process)
        redis_server.terminate()
        redis_server.wait(timeout=10)


def test_a_stream_that_cannot_keep_up_is_ended(server: int, broker: redis.Redis) -> None:
    slow = topic("run")
    stream = Stream(server, live_token(topics=[slow]))
    stream.ready()
    big = json.dumps({"topic": slow, "padding": "x" * 65536})
    for _ in range(600):  # ~40 MB that the client never reads: the socket's buffers fill, then its queue
        broker.publish(f"live:{slow}", big)
        if not numsub(broker, slow):
            break
    wait_for(lambda: numsub(broker, slow) == 0)
    stream.close()


def test_a_hung_redis_ends_the_streams_within_two_heartbeats(tmp_path: Path) -> None:
    broker_dir = Path(tempfile.mkdtemp(prefix="live-"))
    url = embedded_broker.url_for(broker_dir)
    redis_server = embedded_broker.start(url)
    process, port = start_server(broker_url=url, log=tmp_path / "events.log")
    try:
        stream = Stream(port, live_token(topics=[topic("run")]))
        stream.ready()
        redis_server.send_signal(signal.SIGSTOP)
        started = time.monotonic()
        while stream.next_event():
            pass
        assert time.monotonic() - started < 4  # LIVE_HEARTBEAT_SECONDS=1
        redis_server.send_signal(signal.SIGCONT)
        again = stream_once_ready(port, live_token(topics=[topic("run")]))
        assert again is not None
        again.close()
    finally:
        redis_server.send_signal(signal.SIGCONT)
        stop_server(process)
        redis_server.terminate()
        redis_server.wait(timeout=10)


def test_stopping_the_server_ends_its_streams_at_once(broker_url: str, tmp_path: Path) -> None:
    process, port = start_server(broker_url=broker_url, log=tmp_path / "events.log")
    streams = [Stream(port, live_token(topics=[topic("run")])) for _ in range(3)]
    for stream in streams:
        stream.ready()
    started = time.monotonic()
    process.terminate()
    for stream in streams:
        while stream.next_event():
            pass
    assert process.wait(timeout=10) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal it handled
    assert time.monotonic() - started < 2  # not uvicorn's graceful timeout (3 s): the streams were ended
    assert "Exception" not in (tmp_path / "events.log").read_text()


def test_streams_follow_a_sentinel_failover(sentinel_cluster: dict, tmp_path: Path) -> None:  # noqa: F811
    cluster = sentinel_cluster
    env = {"CELERY_SENTINEL_MASTER": cluster["master"]}
    process, port = start_server(broker_url=cluster["url"], log=tmp_path / "events.log", env=env)
    try:
        run = topic("run")
        stream = Stream(port, live_token(topics=[run]))
        stream.ready()
        redis.Redis(port=cluster["primary"]).publish(f"live:{run}", json.dumps({"topic": run}))
        assert stream.next_data() == {"topic": run}
        cluster["processes"]["primary"].send_signal(signal.SIGKILL)
        while stream.next_event():  # the primary is gone: the stream ends
            pass
        ask, master = cluster["sentinel"], cluster["master"]
        wait_for(lambda: ask.sentinel_get_master_addr_by_name(master)[1] == cluster["replica"], timeout=40)
        again = stream_once_ready(port, live_token(topics=[run]))
        assert again is not None  # the hub asked the sentinels for the new primary
        redis.Redis(port=cluster["replica"]).publish(f"live:{run}", json.dumps({"topic": run, "state": "running"}))
        assert again.next_data() == {"topic": run, "state": "running"}
        again.close()
    finally:
        stop_server(process)


def test_the_access_log_keeps_no_token(server_log: tuple[int, Path]) -> None:
    port, log = server_log
    token = live_token(topics=[topic("run")])
    stream = Stream(port, token)
    stream.ready()
    stream.close()
    wait_for(lambda: "GET /events/ HTTP/1.1" in log.read_text())
    assert token not in log.read_text()
    assert "?token" not in log.read_text()


def test_the_server_loads_no_orm() -> None:
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, config.live_server; print(sorted(m for m in sys.modules if m.startswith('django.db.models')))",
        ],
        cwd=REPO,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": NO_DATABASE},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert loaded.strip() == "[]"
