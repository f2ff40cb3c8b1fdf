"""The broker behind Redis Sentinel: Celery's transport options name the primary, and the platform's own
Redis client (claims, heartbeats, cancel flags, dispatch lock, health) asks the sentinels for it too.
A real failover is exercised in tests/deploy (primary, replica and three sentinels)."""

from __future__ import annotations

import pytest
from redis.sentinel import SentinelConnectionPool

from workers import celery_app, control

SENTINELS = "sentinel://sentinel-1:26379/0;sentinel://sentinel-2:26379/0;sentinel://:secret@sentinel-3:26380/0"


def test_the_lab_workers_celery_settings_name_the_primary() -> None:
    config = celery_app.config_from_env({"CELERY_BROKER_URL": SENTINELS, "CELERY_SENTINEL_MASTER": "academy"})
    assert config["broker_url"] == SENTINELS
    assert config["broker_transport_options"]["master_name"] == "academy"
    assert config["result_backend_transport_options"]["master_name"] == "academy"
    with pytest.raises(Exception, match="CELERY_SENTINEL_MASTER"):
        celery_app.config_from_env({"CELERY_BROKER_URL": SENTINELS})
    plain = celery_app.config_from_env({"CELERY_BROKER_URL": "redis://redis:6379/0"})
    assert "master_name" not in plain["broker_transport_options"]


def test_the_platforms_redis_client_asks_the_sentinels_for_the_primary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CELERY_SENTINEL_MASTER", "academy")
    client = control.redis_client(SENTINELS, timeout=2)  # builds, connects on first use
    pool = client.connection_pool
    assert isinstance(pool, SentinelConnectionPool) and pool.service_name == "academy"
    hosts = [
        (c.connection_pool.connection_kwargs["host"], c.connection_pool.connection_kwargs["port"])
        for c in pool.sentinel_manager.sentinels
    ]
    assert hosts == [("sentinel-1", 26379), ("sentinel-2", 26379), ("sentinel-3", 26380)]
    monkeypatch.delenv("CELERY_SENTINEL_MASTER")
    with pytest.raises(ValueError, match="CELERY_SENTINEL_MASTER"):
        control.redis_client(SENTINELS)
