"""Claims and cancel flags, kept in the broker's Redis.

A lab worker has no database, but it always has the broker. Two keys per run attempt:
``labs:claim:<run>:<token>`` is set once (SET NX) by the worker that takes the job, so a
message redelivered after a worker died is recognised instead of run a second time;
``labs:cancel:<run>:<token>`` is set by the site and polled by the running supervisor
(cancelling through a flag, not ``revoke(terminate=True)``, lets the sandbox be torn
down properly).

A third key tells a live attempt from a dead one: ``labs:alive:<run>:<token>`` is set with
the claim and refreshed every third of ``LAB_HEARTBEAT_SECONDS`` while the worker works on
the job; when it has the result it holds ``finished`` instead (for a week). It expires
within ``LAB_HEARTBEAT_SECONDS`` of the worker's death (SIGKILL, machine gone), which is
how a redelivered message and the site's sweeper know the claimant is gone, long before
the broker's visibility timeout or the run's wall limit.
"""

from __future__ import annotations

import logging
import os
import threading
from enum import StrEnum
from types import TracebackType
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel

logger = logging.getLogger(__name__)

CLAIM_TTL_SECONDS = 7 * 24 * 3600
FINISHED = "finished"


def heartbeat_seconds() -> int:
    """How long an attempt's heartbeat lives without a refresh (``LAB_HEARTBEAT_SECONDS``, 30)."""
    return max(3, int(os.environ.get("LAB_HEARTBEAT_SECONDS", "30")))


class Attempt(StrEnum):
    """What the broker's Redis knows about one attempt of a run."""

    UNCLAIMED = "unclaimed"  # no worker took it (or Redis lost its memory)
    ALIVE = "alive"  # its worker is working on it
    FINISHED = "finished"  # its worker has the result and is reporting it
    GONE = "gone"  # taken, but its worker stopped beating: it died


def redis_client(broker_url: str, *, timeout: float = 10, retry: bool = True) -> redis.Redis:
    """A client of the broker's Redis. ``timeout`` bounds connecting and each reply; ``retry=False``
    gives up at the first failure instead of redis-py's own retries (about 4 s on a unix socket):
    the site's web requests must not wait for a broker that is away (``core.broker``)."""
    options: dict[str, object] = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    if not retry:
        options["retry"] = Retry(NoBackoff(), 0)
    parts = urlsplit(broker_url)
    if parts.scheme == "redis+socket":
        return redis.Redis(unix_socket_path=parts.path, **options)
    if parts.scheme == "sentinel":
        return _sentinel_master(broker_url, options)
    return redis.Redis.from_url(broker_url, **options)


def sentinel_master_name(environ: Any = None) -> str:
    """``CELERY_SENTINEL_MASTER``: the name the sentinels know the broker's primary by."""
    name = (os.environ if environ is None else environ).get("CELERY_SENTINEL_MASTER", "")
    if not name:
        raise ValueError("a sentinel:// broker URL needs CELERY_SENTINEL_MASTER (the primary's name, e.g. academy)")
    return name


class SentinelAddress(NamedTuple):
    """Where the sentinels of a ``sentinel://`` broker URL are, and what to ask them for."""

    hosts: list[tuple[str, int]]
    db: int
    password: str | None  # the primary's
    sentinel_password: str | None  # the sentinels' own (CELERY_SENTINEL_PASSWORD)


def sentinel_address(broker_url: str) -> SentinelAddress:
    """``sentinel://host:port/db;sentinel://…`` (Celery's form), parsed once for the sync clients here and
    the events server's asyncio one (``config.live_server``)."""
    urls = [urlsplit(url) for url in broker_url.split(";") if url]
    return SentinelAddress(
        hosts=[(url.hostname or "localhost", url.port or 26379) for url in urls],
        db=int((urls[0].path or "/0").strip("/") or 0),
        password=urls[0].password,
        sentinel_password=os.environ.get("CELERY_SENTINEL_PASSWORD") or None,
    )


def _sentinel_master(broker_url: str, options: dict[str, object]) -> redis.Redis:
    """The primary the sentinels of ``broker_url`` name: a client that follows a failover (redis-py asks
    the sentinels again when its primary goes)."""
    address = sentinel_address(broker_url)
    sentinels = Sentinel(
        address.hosts,
        sentinel_kwargs={"password": address.sentinel_password, "socket_timeout": options["socket_timeout"]},
        **options,
    )
    return sentinels.master_for(sentinel_master_name(), db=address.db, password=address.password, **options)


def _claim_key(run_id: int, token: str) -> str:
    return f"labs:claim:{run_id}:{token}"


def _cancel_key(run_id: int, token: str) -> str:
    return f"labs:cancel:{run_id}:{token}"


def _alive_key(run_id: int, token: str) -> str:
    return f"labs:alive:{run_id}:{token}"


# The claim and the first heartbeat in one step: a second delivery never sees a claim without one.
_CLAIM_SCRIPT = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then
    redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[3])
    return 1
end
return 0
"""


def claim(client: redis.Redis, *, run_id: int, token: str, worker: str) -> bool:
    """True for the first worker to take this attempt (its heartbeat starts); False for any later delivery."""
    keys = (_claim_key(run_id, token), _alive_key(run_id, token))
    return bool(client.eval(_CLAIM_SCRIPT, 2, *keys, worker, CLAIM_TTL_SECONDS, heartbeat_seconds()))


def attempts_status(client: redis.Redis, attempts: list[tuple[int, str]]) -> list[Attempt]:
    """The status of each (run id, token), in order, in one round trip."""
    if not attempts:
        return []
    keys = [key for run_id, token in attempts for key in (_claim_key(run_id, token), _alive_key(run_id, token))]
    values = client.mget(keys)
    statuses = []
    for claimed, alive in zip(values[::2], values[1::2], strict=True):
        if alive is not None:
            statuses.append(Attempt.FINISHED if alive.decode() == FINISHED else Attempt.ALIVE)
        else:
            statuses.append(Attempt.GONE if claimed is not None else Attempt.UNCLAIMED)
    return statuses


def attempt_status(client: redis.Redis, *, run_id: int, token: str) -> Attempt:
    return attempts_status(client, [(run_id, token)])[0]


class KeepAlive:
    """Beats an attempt's heartbeat from a thread while the worker works on it (a context manager).

    ``finished()`` turns the heartbeat into the ``finished`` mark, which lasts; the thread keeps
    writing it until the block ends, so a mark missed during a broker outage is set once the
    broker is back. A beat that fails (the broker restarting) is logged and tried again at the
    next one; each beat also sets the claim again, in case Redis came back without its data.
    """

    def __init__(self, client: redis.Redis, *, run_id: int, token: str, worker: str) -> None:
        self.client, self.run_id, self.token, self.worker = client, run_id, token, worker
        self.value = worker
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-run-{run_id}", daemon=True)

    def __enter__(self) -> KeepAlive:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
        if self.value == FINISHED:
            self.beat()

    def finished(self) -> None:
        self.value = FINISHED
        self.beat()

    def beat(self) -> bool:
        ttl = CLAIM_TTL_SECONDS if self.value == FINISHED else heartbeat_seconds()
        try:
            with self.client.pipeline(transaction=False) as pipe:
                pipe.set(_alive_key(self.run_id, self.token), self.value, ex=ttl)
                pipe.set(_claim_key(self.run_id, self.token), self.worker, nx=True, ex=CLAIM_TTL_SECONDS)
                pipe.execute()
        except redis.RedisError as exc:
            logger.warning("heartbeat of run %s failed (%s); trying again", self.run_id, exc)
            return False
        return True

    def _run(self) -> None:
        while not self._stop.wait(heartbeat_seconds() / 3):
            self.beat()


def claimed_by(client: redis.Redis, *, run_id: int, token: str) -> str | None:
    value = client.get(_claim_key(run_id, token))
    return value.decode() if value else None


def _progress_key(run_id: int, token: str) -> str:
    return f"labs:progress:{run_id}:{token}"


def progress_first_delivery(client: redis.Redis, *, run_id: int, token: str, seq: int) -> bool:
    """True the first time progress batch ``seq`` of an attempt comes (the site applies it then only)."""
    key = _progress_key(run_id, token)
    with client.pipeline() as pipe:
        pipe.sadd(key, seq)
        pipe.expire(key, CLAIM_TTL_SECONDS)
        added, _ = pipe.execute()
    return bool(added)


def progress_forget(client: redis.Redis, *, run_id: int, token: str, seq: int) -> None:
    """The site could not apply batch ``seq``: its next delivery (a retry) is the first again."""
    client.srem(_progress_key(run_id, token), seq)


def request_cancel(client: redis.Redis, *, run_id: int, token: str) -> None:
    client.set(_cancel_key(run_id, token), "1", ex=CLAIM_TTL_SECONDS)


def cancel_requested(client: redis.Redis, *, run_id: int, token: str) -> bool:
    return bool(client.exists(_cancel_key(run_id, token)))


# The site marks each job message it sends (``labs:queued:<run>:<token>``) in the same Redis
# as the queue. A run the database still calls queued whose mark is gone was sent to a broker
# that has since lost its memory (restarted without persistence), message and all: the
# sweeper sends it again. The mark outlives the queue timeout, so an old run expires instead.
def _queued_key(run_id: int, token: str) -> str:
    return f"labs:queued:{run_id}:{token}"


def mark_queued(client: redis.Redis, *, run_id: int, token: str, ttl_seconds: int) -> None:
    client.set(_queued_key(run_id, token), "1", ex=ttl_seconds)


def unmarked(client: redis.Redis, *, runs: list[tuple[int, str]]) -> list[int]:
    """The ids among ``(run_id, token)`` pairs whose queued mark is gone."""
    pipe = client.pipeline(transaction=False)
    for run_id, token in runs:
        pipe.exists(_queued_key(run_id, token))
    return [run_id for (run_id, _), found in zip(runs, pipe.execute(), strict=True) if not found]


# --- the GPU health of lab workers (workers.tasks' health gate) -------------------------------

GPU_HEALTH_PREFIX = "labs:gpu-health:"
GPU_HEALTH_TTL_SECONDS = 7 * 24 * 3600


def gpu_health_set(client: redis.Redis, worker: str, problem: str) -> None:
    """Record why ``worker`` left the ``gpu`` queue (operators: ``gpu_health_problems``)."""
    client.set(f"{GPU_HEALTH_PREFIX}{worker}", problem, ex=GPU_HEALTH_TTL_SECONDS)


def gpu_health_problems(client: redis.Redis) -> dict[str, str]:
    """Every lab worker that left the ``gpu`` queue for a failed GPU check, with the reason."""
    keys = sorted(client.scan_iter(match=f"{GPU_HEALTH_PREFIX}*", count=500))
    values = client.mget(keys) if keys else []
    return {
        (key.decode() if isinstance(key, bytes) else key)[len(GPU_HEALTH_PREFIX) :]: (
            value.decode() if isinstance(value, bytes) else value
        )
        for key, value in zip(keys, values, strict=True)
        if value is not None
    }
