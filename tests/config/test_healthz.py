import subprocess

import pytest
from django.db import connection
from django.test import Client


@pytest.mark.django_db
def test_healthz_reports_database_and_broker(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert set(body["broker"]["queues"]) == {"default", "gpu", "cpu"}
    assert isinstance(body["workers"], dict)


@pytest.mark.worker
@pytest.mark.django_db
def test_healthz_lists_the_workers_that_answer(client: Client, site_worker: subprocess.Popen) -> None:
    workers = client.get("/healthz").json()["workers"]
    assert any(queues == ["default"] for queues in workers.values())


@pytest.mark.django_db
def test_healthz_is_503_when_the_broker_is_unreachable(client: Client, settings: object) -> None:
    settings.CELERY_BROKER_URL = "redis+socket:///nonexistent/broker.sock"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"]["ok"] is False


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
