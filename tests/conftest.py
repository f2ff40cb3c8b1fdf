"""Shared fixtures: personas, the real broker, and a real Celery worker process."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from config import embedded_broker, worker_processes
from config.celery_app import app as celery_app
from core import login_throttle
from core.models import Role, User
from tests.factories import UserFactory
from workers import control

REPO = worker_processes.REPO


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    # Throttling and rate limits count in the cache (and sign-in's in a copy per process too); one
    # test's requests must not throttle the next.
    cache.clear()
    login_throttle._local.clear()


@pytest.fixture(scope="session", autouse=True)
def broker_url() -> Iterator[str]:
    """The configured broker: the embedded one (started here) or Redis from CELERY_BROKER_URL."""
    url = settings.CELERY_BROKER_URL
    process = None
    if embedded_broker.is_embedded(url, settings.EMBEDDED_BROKER_DIR):
        process = embedded_broker.ensure_running(url)
    celery_app.control.purge()  # leftovers from an earlier, interrupted session
    yield url
    if process is not None:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def learner(db: None) -> User:
    return UserFactory(role=Role.LEARNER, username="lena")


@pytest.fixture
def other_learner(db: None) -> User:
    return UserFactory(role=Role.LEARNER, username="omar")


@pytest.fixture
def mentor(db: None) -> User:
    return UserFactory(role=Role.MENTOR, username="maria")


@pytest.fixture
def api(learner: User) -> APIClient:
    """An API client signed in as the learner persona."""
    client = APIClient()
    client.force_authenticate(learner)
    return client


@pytest.fixture
def admin_user(db: None) -> User:
    return UserFactory(role=Role.ADMIN, username="ada")


def test_database_url() -> str:
    """A URL for the database the tests use, for processes the tests start."""
    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        return f"sqlite:///{name}"
    parts = urlsplit(settings.DATABASE_URL)
    return urlunsplit(parts._replace(path=f"/{name}"))


test_database_url.__test__ = False  # a helper, not a test


def start_worker(*, queues: str, log_dir: Path) -> subprocess.Popen:
    """A real worker process on the test database and broker."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": test_database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND,
    }
    return worker_processes.start_worker(queues=queues, log_dir=log_dir, env=env)


@pytest.fixture(scope="session")
def site_worker(
    django_db_setup: None, django_db_blocker: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[subprocess.Popen]:
    """A real worker process consuming the ``default`` queue, on the test database."""
    process = start_worker(queues="default", log_dir=tmp_path_factory.mktemp("workers"))
    yield process
    worker_processes.stop_worker(process)


@pytest.fixture(scope="module")
def lab_worker(
    django_db_setup: None, django_db_blocker: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[subprocess.Popen]:
    """A real lab worker (queues cpu and gpu, sandbox and warm pool), for one test module."""
    control.redis_client(settings.CELERY_BROKER_URL).delete("cpu", "gpu")  # jobs of rolled-back runs
    process = start_worker(queues="cpu,gpu", log_dir=tmp_path_factory.mktemp("lab-worker"))
    yield process
    worker_processes.stop_worker(process)
