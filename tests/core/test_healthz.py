import subprocess

import pytest
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
