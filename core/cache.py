"""The site's cache: Redis shared by every web process and the site workers, never a reason to fail.

Pages keep what costs queries in the cache (a user's role and unread count, sessions, rendered
fragments) so that it is computed once per change, not once per request. Two rules hold that up:

- **Failing open.** ``ResilientRedisCache`` treats a Redis that is away or slow as an empty cache:
  reads miss, writes are dropped, and the failure is remembered for ``DOWN_REMEMBERED_SECONDS`` in
  the process, so a page meeting a hung cache pays its short timeout once every few seconds, not
  on every lookup (as ``core.broker`` does for the broker).
- **Invalidate twice.** A change forgets a cached value at once (so the rest of its own transaction
  and tests see it) and again when its transaction commits (so a request that read the old rows
  between the two and cached them is forgotten too). Fragments are keyed on *generations*: a
  number per thing they depend on, changed by the services that change it; a fragment is
  never deleted, it becomes unreachable.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import redis
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.db import transaction

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 0.5  # to connect and for each reply: a cache that answers slower is of no use
DOWN_REMEMBERED_SECONDS = 5
GENERATION_PREFIX = "gen:"

F = TypeVar("F", bound=Callable[..., Any])
_MISSING = object()  # the answer of a failed get is the caller's default


def _fail_open(default: Any = None) -> Callable[[F], F]:
    """Run a cache operation; on a Redis error (or while one is remembered) answer ``default``."""

    def decorate(method: F) -> F:
        @functools.wraps(method)
        def wrapper(self: ResilientRedisCache, *args: Any, **kwargs: Any) -> Any:
            if time.monotonic() >= self._down_until:
                try:
                    return method(self, *args, **kwargs)
                except (redis.RedisError, OSError) as exc:
                    logger.warning("cache unreachable, serving without it for %s s: %s", DOWN_REMEMBERED_SECONDS, exc)
                    self._down_until = time.monotonic() + DOWN_REMEMBERED_SECONDS
            if default is _MISSING:
                return kwargs["default"]
            return default() if callable(default) else default

        return wrapper  # type: ignore[return-value]

    return decorate


class _OneClientPerPool(RedisCacheClient):
    """Django's client builds a ``redis.Redis`` on every operation (a page makes ten or so; each
    costs 0.2 ms of setting up response callbacks): keep one per connection pool instead (a
    ``redis.Redis`` is safe to share between threads: each command borrows a pool connection)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, redis.Redis] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> redis.Redis:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ResilientRedisCache(RedisCache):
    """Django's Redis cache with short timeouts, failing open (see the module's docstring), and a
    ``clear()`` that removes only this cache's own keys: the cache may share a Redis database with
    other users (the test suite's broker, a developer's own keys), which ``FLUSHDB`` would empty."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = params.setdefault("OPTIONS", {})
        options.setdefault("socket_connect_timeout", TIMEOUT_SECONDS)
        options.setdefault("socket_timeout", TIMEOUT_SECONDS)
        options.setdefault("retry_on_timeout", False)
        super().__init__(server, params)
        self._class = _OneClientPerPool
        self._down_until = 0.0

    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        return self._get(key, version, default=default)

    @_fail_open(_MISSING)
    def _get(self, key: str, version: int | None, *, default: Any) -> Any:
        return super().get(key, default, version)

    @_fail_open(dict)
    def get_many(self, keys: Iterable[str], version: int | None = None) -> dict[str, Any]:
        return super().get_many(keys, version)

    @_fail_open(False)
    def add(self, key: str, value: Any, timeout: Any = 300, version: int | None = None) -> bool:
        return super().add(key, value, timeout, version)

    @_fail_open(None)
    def set(self, key: str, value: Any, timeout: Any = 300, version: int | None = None) -> None:
        super().set(key, value, timeout, version)

    @_fail_open(list)
    def set_many(self, data: dict[str, Any], timeout: Any = 300, version: int | None = None) -> list[str]:
        return super().set_many(data, timeout, version)

    @_fail_open(False)
    def touch(self, key: str, timeout: Any = 300, version: int | None = None) -> bool:
        return super().touch(key, timeout, version)

    @_fail_open(False)
    def delete(self, key: str, version: int | None = None) -> bool:
        return super().delete(key, version)

    @_fail_open(None)
    def delete_many(self, keys: Iterable[str], version: int | None = None) -> None:
        super().delete_many(keys, version)

    @_fail_open(False)
    def has_key(self, key: str, version: int | None = None) -> bool:
        return super().has_key(key, version)

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        return super().incr(key, delta, version)  # a missing key raises ValueError, as Django's does

    @_fail_open(dict)
    def add_many(self, data: dict[str, Any], timeout: Any = 300, version: int | None = None) -> dict[str, Any]:
        """Set each key that is missing (SET NX) in one round trip; answer what every key holds after."""
        client, serializer = self._cache.get_client(None, write=True), self._cache._serializer
        made = {self.make_and_validate_key(key, version=version): key for key in data}
        expiry = self.get_backend_timeout(timeout)
        with client.pipeline(transaction=False) as pipe:
            for redis_key, key in made.items():
                pipe.set(redis_key, serializer.dumps(data[key]), ex=expiry, nx=True)
                pipe.get(redis_key)
            replies = pipe.execute()[1::2]
        return {
            key: data[key] if raw is None else serializer.loads(raw)
            for key, raw in zip(made.values(), replies, strict=True)
        }

    @_fail_open(None)
    def clear(self) -> None:
        client = self._cache.get_client(None, write=True)
        pattern = self.make_key("*")
        for batch in _batches(client.scan_iter(match=pattern, count=500), 500):
            client.delete(*batch)


def _batches(items: Iterable[Any], size: int) -> Iterable[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def cache_forget(*keys: str) -> None:
    """Forget cached values now and again when the current transaction commits."""
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))


def cache_generations(*names: str) -> dict[str, int]:
    """The current generation of each named thing (one round trip; two when some are new). A thing never seen, or whose
    number the cache evicted, gets a new number: never 0, never one an older fragment was keyed on."""
    keys = [GENERATION_PREFIX + name for name in names]
    found = cache.get_many(keys)
    missing = {key: time.time_ns() for key in keys if key not in found}
    if missing and hasattr(cache, "add_many"):  # Redis: one more round trip for all of them
        found.update(cache.add_many(missing, None) or missing)
    elif missing:
        for key, value in missing.items():
            found[key] = value if cache.add(key, value, None) else cache.get(key, value)
    return {name: found[GENERATION_PREFIX + name] for name in names}


def cache_bump(*names: str) -> None:
    """Make every fragment keyed on these things' generations unreachable, now and at commit."""

    def bump() -> None:
        now = time.time_ns()
        cache.set_many({GENERATION_PREFIX + name: now for name in names}, None)

    bump()
    transaction.on_commit(bump)
