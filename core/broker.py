"""The broker's Redis as the site uses it: give up at once when it is away, and say whether it is.

The site keeps only small things in the broker's Redis (the dispatch lock, cancel flags, the marks
of sent runs: ``workers.control``), and everything that touches them treats a ``RedisError`` as
"later": the next dispatch or sweep does the work. So the site's client gives up after
``TIMEOUT_SECONDS`` and never retries by itself: a web request that meets a stopped broker answers in
milliseconds, and one that meets a hung broker (or a network that drops packets) in about a second,
where redis-py's own retries take about 4 s on a unix socket and the lab workers' client waits 10 s.
Web requests ask ``broker_reachable`` before they touch it, so a hung broker costs that second once
every few seconds per process, not on every request.
"""

from __future__ import annotations

import time

import redis
from django.conf import settings

from workers import control

TIMEOUT_SECONDS = 1  # to connect, and for each reply: the site asks it for small things only
DOWN_REMEMBERED_SECONDS = 5

_down_until: dict[str, float] = {}  # broker URL -> until when this process takes it to be away


def redis_client() -> redis.Redis:
    """The site's client of the broker's Redis (web processes, the site worker, the sweeper)."""
    return control.redis_client(settings.CELERY_BROKER_URL, timeout=TIMEOUT_SECONDS, retry=False)


def broker_reachable() -> bool:
    """Whether the broker answers a PING now. A failure is remembered for ``DOWN_REMEMBERED_SECONDS``
    in this process, so that run pages polling every second while a broker hangs do not each wait
    ``TIMEOUT_SECONDS`` for it; a success is not remembered, so an outage shows at once."""
    url = settings.CELERY_BROKER_URL
    if time.monotonic() < _down_until.get(url, 0):
        return False
    try:
        redis_client().ping()
    except redis.RedisError:
        _down_until[url] = time.monotonic() + DOWN_REMEMBERED_SECONDS
        return False
    _down_until.pop(url, None)
    return True
