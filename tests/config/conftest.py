"""The broker as the health and metrics tests need it: no lab worker registered, no lab queue."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from django.conf import settings as django_settings

from workers import control, gpu_stats


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    """The broker's Redis, without lab queues or lab worker records before and after the test."""
    client = control.redis_client(django_settings.CELERY_BROKER_URL)
    _forget_lab_workers(client)
    yield client
    _forget_lab_workers(client)


def _forget_lab_workers(client: redis.Redis) -> None:
    names = [name.decode() for name in client.smembers(gpu_stats.WORKERS_KEY)]
    client.delete("cpu", "gpu", gpu_stats.WORKERS_KEY, *(f"{gpu_stats.RECORD_PREFIX}{name}" for name in names))
