import subprocess

import pytest
import redis
from django.db import connection
from django.test import Client

from core.models import User
from workers import gpu_stats


def lab_worker_register(client: redis.Redis, name: str, queues: list[str]) -> None:
    """What a lab worker's heartbeat publishes at start-up (``workers.gpu_stats.Publisher``)."""
    gpu_stats.record_publish(client, gpu_stats.WorkerRecord(worker=name, queues=tuple(queues)), ttl_seconds=60)


@pytest.mark.django_db
def test_healthz_is_503_and_names_the_missing_lab_workers_when_none_is_registered(
    client: Client, broker: redis.Redis
) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"]["ok"] is True
    assert set(body["broker"]["queues"]) == {"default", "gpu", "cpu"}
    check = body["worker_check"]
    assert check["ok"] is False
    assert (check["per_queue"]["cpu"], check["per_queue"]["gpu"]) == (0, 0)
    assert any("no lab worker is registered" in problem for problem in check["missing"]), check


@pytest.mark.django_db
def test_healthz_is_ok_with_a_registered_lab_worker_and_counts_them_per_queue(
    client: Client, broker: redis.Redis
) -> None:
    lab_worker_register(broker, "lab@node-1", ["cpu", "gpu"])
    lab_worker_register(broker, "gpu@node-2", ["gpu"])
    response = client.get("/healthz")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok"
    check = body["worker_check"]
    assert (check["ok"], check["missing"]) == (True, [])
    assert (check["per_queue"]["cpu"], check["per_queue"]["gpu"]) == (1, 2)
    assert body["workers"]["lab@node-1"] == ["cpu", "gpu"]


@pytest.mark.worker
@pytest.mark.django_db
def test_healthz_lists_the_workers_that_answer(client: Client, site_worker: subprocess.Popen) -> None:
    workers = client.get("/healthz").json()["workers"]
    assert any(queues == ["default"] for queues in workers.values())


@pytest.mark.django_db
def test_healthz_forgets_a_lab_worker_whose_heartbeat_expired(client: Client, broker: redis.Redis) -> None:
    lab_worker_register(broker, "lab@node-1", ["cpu"])
    response = client.get("/healthz")
    assert response.status_code == 200, response.json()
    broker.delete(f"{gpu_stats.RECORD_PREFIX}lab@node-1")  # what the record's TTL does when the worker dies
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "lab@node-1" not in response.json()["workers"]


@pytest.mark.django_db
def test_healthz_is_503_when_the_broker_is_unreachable(client: Client, settings: object) -> None:
    settings.CELERY_BROKER_URL = "redis+socket:///nonexistent/broker.sock"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "degraded"
    assert response.json()["broker"]["ok"] is False


def test_healthz_is_503_unavailable_without_the_database(client: Client) -> None:
    response = client.get("/healthz")  # no django_db mark: the query is refused, as with a database that is down
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["database"]["ok"] is False


def test_livez_answers_without_touching_the_database_or_the_broker(client: Client, settings: object) -> None:
    settings.CELERY_BROKER_URL = "redis+socket:///nonexistent/broker.sock"
    response = client.get("/livez")  # no django_db mark: any query would raise
    assert (response.status_code, response.content) == (200, b"ok")


@pytest.mark.django_db
def test_readyz_is_ok_with_the_database_and_the_broker(client: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "database": {"ok": True, "detail": connection.vendor},
        "broker": {"ok": True},
        "status": "ok",
    }


@pytest.mark.django_db
def test_readyz_stays_200_and_says_degraded_when_the_broker_is_unreachable(client: Client, settings: object) -> None:
    """The web tier's readiness does not hang on the broker: runs wait on the site while it is away."""
    settings.CELERY_BROKER_URL = "redis+socket:///nonexistent/broker.sock"
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["broker"] == {"ok": False}


def test_readyz_is_503_without_the_database(client: Client) -> None:
    response = client.get("/readyz")  # no django_db mark: the query is refused, as with a database that is down
    assert response.status_code == 503
    assert response.json()["status"] == "unhealthy"


def test_the_administrators_home_names_the_missing_lab_workers(
    client: Client, admin_user: User, broker: redis.Redis
) -> None:
    client.force_login(admin_user)
    html = client.get("/").content.decode()
    assert 'data-testid="workers-missing"' in html and "no lab worker is registered" in html
    lab_worker_register(broker, "lab@node-1", ["cpu", "gpu"])
    html = client.get("/").content.decode()
    assert 'data-testid="workers-missing"' not in html and "lab@node-1" in html
