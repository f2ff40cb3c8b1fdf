"""The same message delivered twice changes nothing: job messages to real lab workers, events to the site.

A broker redelivers a message whose worker died before acknowledging it, and the site or a
worker may send one twice. Compared with one delivery: the same state, score, curve, log,
notifications and quota.
"""

from __future__ import annotations

import base64
import contextlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import transaction

from config.celery_app import app as celery_app
from core.models import User
from labs import dispatch, services
from labs.demo_seed import demo_lab_seed
from labs.models import Lab, Run, RunState
from labs.validation import runs_counted_today
from tests.reliability.lab_workers import (
    HEARTBEAT_SECONDS,
    TRAINING_SOLUTION,
    finished_notifications,
    site_queue_drained,
    start_lab_worker,
    wait_for,
)
from workers import control
from workers.jobspec import RUN_TASK

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def two_lab_workers(
    django_db_setup: None, django_db_blocker: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Path]]:
    """Two lab workers on the cpu queue; yields their logs."""
    control.redis_client(django_settings.CELERY_BROKER_URL).delete("cpu", "gpu")
    base = tmp_path_factory.mktemp("two-lab-workers")
    workers, logs = [], []
    try:
        for n in (1, 2):
            workers.append(start_lab_worker(base / f"worker{n}", base / "jobs"))
            logs.append(base / f"worker{n}" / "cpu-gpu.log")
        yield logs
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=60)


@pytest.fixture
def lab(settings: object) -> Lab:
    settings.LAB_HEARTBEAT_SECONDS = HEARTBEAT_SECONDS
    return demo_lab_seed("linear-regression")


def submitted(lab: Lab, learner: User) -> Run:
    return services.submission_create(learner=learner, lab=lab, source="api", code=TRAINING_SOLUTION)


def deliver_again(run: Run, token: str, label: str) -> str:
    """The run's job message once more (the same body; a task id of its own, to read what it did)."""
    spec = {**dispatch.job_spec(run), "token": token}
    result = celery_app.send_task(RUN_TASK, args=[spec], queue="cpu", task_id=f"run-{run.pk}-{token}-{label}")
    return result.get(timeout=120)


def ended(run: Run, logs: list[Path]) -> Run:
    def final() -> bool:
        run.refresh_from_db()
        return run.is_final

    wait_for(f"run {run.pk} ends", final, timeout=180, logs=logs)
    return run


def test_a_job_message_delivered_again_while_it_runs_or_after_it_ended_changes_nothing(
    lab: Lab, learner: User, site_worker: subprocess.Popen, two_lab_workers: list[Path]
) -> None:
    once = ended(submitted(lab, learner), two_lab_workers)
    twice = submitted(lab, learner)

    def training() -> bool:
        twice.refresh_from_db()
        return twice.state == RunState.RUNNING and bool(twice.curve)

    wait_for("the run trains", training, timeout=180, logs=two_lab_workers)
    token = twice.token
    assert deliver_again(twice, token, "while-running") == "duplicate"  # the other worker took it
    ended(twice, two_lab_workers)
    assert deliver_again(twice, token, "after-the-end") == "duplicate"
    site_queue_drained()

    twice.refresh_from_db()
    assert (twice.state, twice.attempt, twice.token, twice.reason) == (once.state, 1, token, "")
    assert twice.state == RunState.SUCCEEDED and twice.score == pytest.approx(once.score, rel=1e-6)
    assert [point["step"] for point in twice.curve] == [point["step"] for point in once.curve] == list(range(20))
    assert [len(finished_notifications(run)) for run in (once, twice)] == [1, 1]
    assert runs_counted_today(learner_id=learner.pk, lab=lab) == 2


def test_a_duplicate_whose_claimant_lives_is_ignored_and_one_whose_claimant_died_is_retried(
    lab: Lab, learner: User, site_worker: subprocess.Popen, two_lab_workers: list[Path], monkeypatch: object
) -> None:
    """The first delivery's worker is played here (the worker side's own claim and heartbeat), so
    that it can be alive, then dead, exactly when the duplicate comes."""
    monkeypatch.setenv("LAB_HEARTBEAT_SECONDS", str(HEARTBEAT_SECONDS))
    broker = control.redis_client(django_settings.CELERY_BROKER_URL)
    with contextlib.ExitStack() as claimant:
        with transaction.atomic():  # the job message leaves when this commits: after the claim
            run = submitted(lab, learner)
            token = run.token
            assert control.claim(broker, run_id=run.pk, token=token, worker="first@test")
        claimant.enter_context(control.KeepAlive(broker, run_id=run.pk, token=token, worker="first@test"))
        # So the real message reaches a real worker as a second delivery, while its claimant lives.
        assert celery_app.AsyncResult(f"run-{run.pk}-{token}").get(timeout=120) == "duplicate"
        site_queue_drained()
        run.refresh_from_db()
        assert (run.state, run.attempt, run.token) == (RunState.QUEUED, 1, token)
    # The claimant is gone (its heartbeat expires): the next delivery says so, and the run is retried.
    wait_for(
        "the heartbeat expires",
        lambda: control.attempt_status(broker, run_id=run.pk, token=token) == control.Attempt.GONE,
        timeout=HEARTBEAT_SECONDS + 10,
    )
    assert deliver_again(run, token, "claimant-dead") == "lost"
    ended(run, two_lab_workers)
    # Succeeded on its second attempt: the retry's note is cleared, the attempt number keeps the history.
    assert (run.state, run.attempt, run.reason) == (RunState.SUCCEEDED, 2, "")
    assert len(finished_notifications(run)) == 1 and runs_counted_today(learner_id=learner.pk, lab=lab) == 1


@contextlib.contextmanager
def site_workers_paused() -> Iterator[None]:
    """The site workers stop taking events (Celery's remote control) until the block ends."""
    names = [name for reply in celery_app.control.ping(timeout=2) for name in reply if name.startswith("test-default-")]
    assert names, "no site worker answers"
    replies = celery_app.control.cancel_consumer("default", destination=names, reply=True, timeout=5)
    assert len(replies) == len(names), replies
    try:
        yield
    finally:
        celery_app.control.add_consumer("default", destination=names, reply=True, timeout=5)


def test_every_event_of_a_run_delivered_twice_changes_nothing(
    lab: Lab, learner: User, site_worker: subprocess.Popen, two_lab_workers: list[Path]
) -> None:
    once = ended(submitted(lab, learner), two_lab_workers)
    broker = control.redis_client(django_settings.CELERY_BROKER_URL)
    site_queue_drained()
    with site_workers_paused():
        twice = submitted(lab, learner)
        job = celery_app.AsyncResult(f"run-{twice.pk}-{twice.token}")
        assert job.get(timeout=180) == "succeeded"  # every event of the run is in the queue now
        # Each message exactly as the worker sent it, twice in a row, in the order sent.
        events = broker.lrange("default", 0, -1)[::-1]
        broker.delete("default")
        for message in events:
            broker.lpush("default", message, message)
    site_queue_drained()

    twice.refresh_from_db()
    kinds = [_kind(message) for message in events]
    assert kinds[0] == "claimed" and kinds[-1] == "finished" and kinds.count("progress") >= 2
    assert (twice.state, twice.attempt, twice.reason) == (once.state, 1, "")
    assert twice.score == pytest.approx(once.score, rel=1e-6)
    assert [point["step"] for point in twice.curve] == [point["step"] for point in once.curve] == list(range(20))
    assert twice.log == once.log and twice.log.count("step 19\n") == 1
    assert [len(finished_notifications(run)) for run in (once, twice)] == [1, 1]
    assert runs_counted_today(learner_id=learner.pk, lab=lab) == 2


def _kind(message: bytes) -> str:
    body = json.loads(base64.b64decode(json.loads(message)["body"]))
    return body[0][2]["kind"]
