"""Shared fixtures: personas, the real broker, and a real Celery worker process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from core import embedded_broker
from core.celery import app as celery_app
from core.models import Role, User
from tests.factories import UserFactory

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    # Throttling and rate limits count in the cache; one test's requests must not throttle the next.
    cache.clear()


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


def start_worker(*, queues: str, log_dir: Path, extra_env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start ``celery worker`` as a separate process on the test database and broker."""
    name = f"test-{queues.replace(',', '-')}-{uuid.uuid4().hex[:6]}@%h"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "core.settings_test",
        "DATABASE_URL": test_database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND,
        **(extra_env or {}),
    }
    log = open(log_dir / f"{queues.replace(',', '-')}.log", "w")  # noqa: SIM115 - lives as long as the worker
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "core",
            "worker",
            "-Q",
            queues,
            "-n",
            name,
            "-c",
            "1",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    _wait_for_worker(process, name.replace("%h", os.uname().nodename), log.name)
    return process


def _wait_for_worker(process: subprocess.Popen, name: str, log_path: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"worker exited with {process.returncode}:\n{Path(log_path).read_text()[-3000:]}")
        if celery_app.control.ping(destination=[name], timeout=0.5):
            return
    process.kill()
    raise RuntimeError(f"worker {name} did not answer within {timeout}s:\n{Path(log_path).read_text()[-3000:]}")


def stop_worker(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def site_worker(
    django_db_setup: None, django_db_blocker: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[subprocess.Popen]:
    """A real worker process consuming the ``default`` queue, on the test database."""
    process = start_worker(queues="default", log_dir=tmp_path_factory.mktemp("workers"))
    yield process
    stop_worker(process)
