"""A lab worker killed with SIGKILL in the middle of many runs: no run is lost, none is scored twice.

Real processes throughout: the session's site worker applies the events, lab workers that this
test starts run the jobs in the real sandbox, and the test kills them (main and pool process,
SIGKILL) while a run trains. The sweeper is called here as beat would call it.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from config.celery_app import app as celery_app
from core.models import User
from labs import dispatch, services, sweeper
from labs.demo_seed import demo_lab_seed
from labs.models import Run, RunState
from labs.validation import runs_counted_today
from tests.reliability.lab_workers import (
    HEARTBEAT_SECONDS,
    TRAINING_SOLUTION,
    assert_no_sandbox_left,
    final,
    finished_notifications,
    kill_hard,
    site_queue_drained,
    start_lab_worker,
    training,
    wait_for,
)
from workers import control
from workers.jobspec import RUN_TASK

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _state(run: Run) -> tuple[str, int]:
    run.refresh_from_db()
    return run.state, run.attempt


def _sweep_until(what: str, condition: Callable[[], bool], logs: list[Path], timeout: float) -> None:
    """Call the sweeper, as beat does, until ``condition`` holds."""
    wait_for(what, lambda: bool(sweeper.runs_sweep()) and condition(), timeout=timeout, logs=logs)


def test_killing_the_lab_worker_mid_runs_retries_or_fails_each_run_and_scores_each_once(
    learner: User, site_worker: subprocess.Popen, tmp_path: Path, settings: object
) -> None:
    settings.LAB_HEARTBEAT_SECONDS = HEARTBEAT_SECONDS
    broker = control.redis_client(django_settings.CELERY_BROKER_URL)
    broker.delete("cpu", "gpu")  # jobs of other tests' rolled-back runs
    lab = demo_lab_seed("linear-regression")
    jobs_dir = tmp_path / "jobs"
    jobs_dir.mkdir()
    logs = [tmp_path / f"worker{n}" / "cpu-gpu.log" for n in (1, 2, 3)]
    workers = [start_lab_worker(logs[0].parent, jobs_dir)]
    try:
        code = TRAINING_SOLUTION
        runs = [services.submission_create(learner=learner, lab=lab, source="api", code=code) for _ in range(6)]
        tokens = {run.pk: run.token for run in runs}
        # The second run is on its last attempt already: killing it fails it; the fourth is retried.
        Run.objects.filter(pk=runs[1].pk).update(attempt=settings.LAB_MAX_ATTEMPTS)
        last_chance, retried = runs[1], runs[3]

        wait_for("run 2 trains", lambda: training(last_chance), timeout=180, logs=logs)
        kill_hard(workers[0])
        _sweep_until("run 2 is failed", lambda: final(last_chance), logs, timeout=HEARTBEAT_SECONDS + 30)
        assert (last_chance.state, last_chance.reason) == (RunState.FAILED, "platform: worker lost")

        workers.append(start_lab_worker(logs[1].parent, jobs_dir))
        wait_for("run 4 trains", lambda: training(retried), timeout=180, logs=logs)
        kill_hard(workers[1])
        _sweep_until("run 4 is queued again", lambda: _state(retried) == (RunState.QUEUED, 2), logs, timeout=40)

        workers.append(start_lab_worker(logs[2].parent, jobs_dir))
        # The sweeper goes on running meanwhile, and must leave the live runs of the new worker alone.
        _sweep_until("every run ends", lambda: all(final(run) for run in runs), logs, timeout=240)

        # The killed attempts' messages come back (the broker redelivers an unacked message after its
        # visibility timeout): their claimant is dead, the worker says so, and the site ignores it.
        for run, token in ((last_chance, tokens[last_chance.pk]), (retried, tokens[retried.pk])):
            spec = {**dispatch.job_spec(run), "token": token}
            delivery = celery_app.send_task(RUN_TASK, args=[spec], queue="cpu", task_id=f"run-{run.pk}-{token}")
            assert delivery.get(timeout=60) == "lost"
        site_queue_drained()
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=60)

    for run in runs:
        run.refresh_from_db()
    assert [(r.state, r.attempt) for r in runs] == [
        (RunState.SUCCEEDED, 1),
        (RunState.FAILED, settings.LAB_MAX_ATTEMPTS),
        (RunState.SUCCEEDED, 1),
        (RunState.SUCCEEDED, 2),
        (RunState.SUCCEEDED, 1),
        (RunState.SUCCEEDED, 1),
    ]
    assert retried.reason == "" and retried.token != tokens[retried.pk]  # succeeded: the retry note is cleared
    scores = [r.score for r in runs if r.state == RunState.SUCCEEDED]
    assert scores == pytest.approx([scores[0]] * 5, rel=1e-6) and all(r.passed for r in runs if r.score is not None)
    # One "run finished" notification each: no run ended twice.
    assert [len(finished_notifications(r)) for r in runs] == [1] * 6
    # Only the attempt that was killed is dead in the broker; every run's final attempt reported its result.
    status = control.attempts_status(broker, [(r.pk, tokens[r.pk]) for r in runs] + [(retried.pk, retried.token)])
    gone, finished = control.Attempt.GONE, control.Attempt.FINISHED
    assert status == [finished, gone, finished, gone, finished, finished, finished]
    # The learner's quota counts the five runs that ran to their end, not the platform's failure.
    assert runs_counted_today(learner_id=learner.pk, lab=lab) == 5
    # The killed workers' sandboxes died with them.
    assert_no_sandbox_left(jobs_dir)
    # ... and their run folders went when the next worker started (a live run's folder is never touched).
    assert sorted(folder.name for folder in jobs_dir.glob("[0-9]*")) == []
