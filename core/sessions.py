"""Sessions read from the cache, written through to the database (``SESSION_ENGINE = "core.sessions"``).

Django's ``cached_db`` store, with one change: a session stays in the cache at most
``SESSION_CACHE_SECONDS``, not for its whole life. The cache fails open (``core.cache``): a sign-out
while Redis is unreachable deletes the database row but cannot delete the cached copy, which
would otherwise keep the signed-out session alive for weeks once Redis answers again. The bound
turns that into minutes; every other request still loads its session without a query.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends.cached_db import SessionStore as CachedDbStore

SESSION_CACHE_SECONDS = 300


class _Bounded:
    """A cache whose ``set`` keeps values at most ``SESSION_CACHE_SECONDS``; the rest passes through."""

    def __init__(self, cache: Any) -> None:
        self._cache = cache

    def set(self, key: str, value: Any, timeout: int | None = None) -> None:
        bound = SESSION_CACHE_SECONDS if timeout is None else min(timeout, SESSION_CACHE_SECONDS)
        self._cache.set(key, value, bound)

    async def aset(self, key: str, value: Any, timeout: int | None = None) -> None:
        bound = SESSION_CACHE_SECONDS if timeout is None else min(timeout, SESSION_CACHE_SECONDS)
        await self._cache.aset(key, value, bound)

    def __contains__(self, key: str) -> bool:  # special methods do not pass through __getattr__
        return key in self._cache

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cache, name)


class SessionStore(CachedDbStore):
    cache_key_prefix = "session:"

    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        self._cache = _Bounded(self._cache)
