"""Claims and cancel flags, kept in the broker's Redis.

A lab worker has no database, but it always has the broker. Two keys per run attempt:
``labs:claim:<run>:<token>`` is set once (SET NX) by the worker that takes the job, so a
message redelivered after a worker died is recognised instead of run a second time;
``labs:cancel:<run>:<token>`` is set by the site and polled by the running supervisor
(cancelling through a flag, not ``revoke(terminate=True)``, lets the sandbox be torn
down properly).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import redis

CLAIM_TTL_SECONDS = 7 * 24 * 3600


def redis_client(broker_url: str) -> redis.Redis:
    parts = urlsplit(broker_url)
    if parts.scheme == "redis+socket":
        return redis.Redis(unix_socket_path=parts.path, socket_timeout=10)
    return redis.Redis.from_url(broker_url, socket_timeout=10)


def _claim_key(run_id: int, token: str) -> str:
    return f"labs:claim:{run_id}:{token}"


def _cancel_key(run_id: int, token: str) -> str:
    return f"labs:cancel:{run_id}:{token}"


def claim(client: redis.Redis, *, run_id: int, token: str, worker: str) -> bool:
    """True for the first worker to take this attempt; False for any later delivery."""
    return bool(client.set(_claim_key(run_id, token), worker, nx=True, ex=CLAIM_TTL_SECONDS))


def claimed_by(client: redis.Redis, *, run_id: int, token: str) -> str | None:
    value = client.get(_claim_key(run_id, token))
    return value.decode() if value else None


def request_cancel(client: redis.Redis, *, run_id: int, token: str) -> None:
    client.set(_cancel_key(run_id, token), "1", ex=CLAIM_TTL_SECONDS)


def cancel_requested(client: redis.Redis, *, run_id: int, token: str) -> bool:
    return bool(client.exists(_cancel_key(run_id, token)))
