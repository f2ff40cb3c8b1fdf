"""What the tests of cached page parts share."""

from __future__ import annotations

from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext


def cold_and_warm_queries(client: Client, url: str) -> tuple[int, int]:
    """Queries of ``url`` right after the cache is emptied, then again with what that request kept."""
    cache.clear()
    with CaptureQueriesContext(connection) as cold:
        client.get(url)
    with CaptureQueriesContext(connection) as warm:
        client.get(url)
    return len(cold), len(warm)
