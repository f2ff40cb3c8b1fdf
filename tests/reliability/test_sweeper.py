"""The sweeper moves a run on from every non-final state it can be stuck in, and leaves live runs alone.

The runs' workers here are the worker side's own code on the real broker: ``control.claim`` (what
a lab worker does when it takes a job) and ``control.KeepAlive`` (its heartbeat while it works).
A claimant that "dies" simply stops beating, and its heartbeat expires in the broker.
"""

from __future__ import annotations

import contextlib
import json
import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from core.models import User
from labs import run_events, services, sweeper
from labs.models import Lab, Run, RunState
from tests.labs import conftest as labs_conftest
from tests.reliability.lab_workers import HEARTBEAT_SECONDS, finished_notifications
from workers import control

pytestmark = pytest.mark.django_db(transaction=True)

lab = labs_conftest.lab  # the fixture: a tiny lab with a real dataset (10 hidden test labels)

PERFECT = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]


@pytest.fixture
def broker(settings: object, monkeypatch: pytest.MonkeyPatch) -> object:
    """The real broker, with a short heartbeat for the sweeper (settings) and the claimants (env)."""
    settings.LAB_HEARTBEAT_SECONDS = HEARTBEAT_SECONDS
    monkeypatch.setenv("LAB_HEARTBEAT_SECONDS", str(HEARTBEAT_SECONDS))
    client = control.redis_client(django_settings.CELERY_BROKER_URL)
    client.delete("cpu", "gpu")
    yield client
    client.delete("cpu", "gpu")


def submitted(lab: Lab, learner: User) -> Run:
    return services.submission_create(learner=learner, lab=lab, source="api", code=labs_conftest.VALID_CODE)


def event(run: Run, kind: str, **fields: object) -> None:
    run_events.run_event_apply(run_id=run.pk, token=run.token, event={"kind": kind, **fields})


def queued_job_ids(client: object) -> list[str]:
    return [json.loads(message)["headers"]["id"] for message in client.lrange("cpu", 0, -1)]


def test_the_sweeper_moves_each_stuck_run_on_and_leaves_live_ones_alone(
    lab: Lab,
    learner: User,
    broker: object,
    settings: object,
) -> None:
    settings.LAB_MAX_ACTIVE_PER_LEARNER = 20  # one learner's runs in every state (fair share: test_dispatch.py)
    long_ago = timezone.now() - timedelta(hours=2)
    lab.submissions_per_day = 100
    lab.save()
    runs = {name: submitted(lab, learner) for name in _STUCK + _LIVE}
    Run.objects.filter(pk=runs["unsent"].pk).update(queued_at=long_ago, sent_at=None)
    Run.objects.filter(pk=runs["never picked up"].pk).update(sent_at=timezone.now() - timedelta(days=2))
    Run.objects.filter(pk=runs["scoring"].pk).update(state=RunState.SCORING, predictions=PERFECT, updated_at=long_ago)
    # Claimed by workers that die at once (they never beat again) ...
    for name in _DEAD:
        assert control.claim(broker, run_id=runs[name].pk, token=runs[name].token, worker="dead@test")
    event(runs["preparing, claimant dead"], "claimed", worker="dead@test")
    for name in ("running, claimant dead", "last attempt"):
        event(runs[name], "claimed", worker="dead@test")
        event(runs[name], "progress", seq=1, events=[{"kind": "metrics", "step": 1, "metrics": {"loss": 1.0}}])
    Run.objects.filter(pk=runs["last attempt"].pk).update(attempt=django_settings.LAB_MAX_ATTEMPTS)
    # ... and by workers that live on.
    with contextlib.ExitStack() as alive:
        beating = {}
        for name in _LIVE:
            run = runs[name]
            assert control.claim(broker, run_id=run.pk, token=run.token, worker="alive@test")
            beating[name] = alive.enter_context(
                control.KeepAlive(broker, run_id=run.pk, token=run.token, worker="alive@test")
            )
        for name in ("preparing, claimant alive", "running, claimant alive", "running, result on its way", "hung"):
            event(runs[name], "claimed", worker="alive@test")
        for name in ("running, claimant alive", "running, result on its way", "hung"):
            event(runs[name], "running")
        beating["running, result on its way"].finished()
        # All of them silent (no event) for longer than a heartbeat's life; one past its wall limit too.
        silent = [runs[name].pk for name in (*_DEAD, *_LIVE)]
        a_minute_ago = timezone.now() - timedelta(minutes=1)
        Run.objects.filter(pk__in=silent).update(updated_at=a_minute_ago)
        Run.objects.filter(pk__in=silent, state=RunState.QUEUED).update(sent_at=timezone.now() - timedelta(seconds=30))
        Run.objects.filter(pk=runs["hung"].pk).update(started_at=long_ago)
        first_tokens = {name: run.token for name, run in runs.items()}
        broker.delete("cpu")  # the submissions' own job messages: only the sweeper's are looked at below
        _wait_until_dead(broker, [runs[name] for name in _DEAD])

        counts = sweeper.runs_sweep()
        again = sweeper.runs_sweep()

    for run in runs.values():
        run.refresh_from_db()
    # resent 0: the unsent run went out with the dispatch that the first retried run triggers.
    assert counts == {"resent": 0, "expired": 1, "lost": 5, "rescored": 1}
    assert again == {"resent": 0, "expired": 0, "lost": 0, "rescored": 0}
    assert runs["unsent"].sent_at is not None
    assert (runs["never picked up"].state, runs["never picked up"].reason) == (
        RunState.FAILED,
        "platform: no worker picked the run up",
    )
    assert (runs["scoring"].state, runs["scoring"].score) == (RunState.SUCCEEDED, 1.0)
    for name in ("queued, claimant dead", "preparing, claimant dead", "running, claimant dead", "hung"):
        run = runs[name]
        retrying = "platform: worker lost; retrying (attempt 2)"
        assert (run.state, run.attempt, run.reason) == (RunState.QUEUED, 2, retrying), name
        assert run.token != first_tokens[name] and run.sent_at is not None and run.curve == []
    assert (runs["last attempt"].state, runs["last attempt"].reason) == (RunState.FAILED, "platform: worker lost")
    for name in _LIVE[:-1]:
        assert (runs[name].state, runs[name].attempt, runs[name].token) == (
            _LIVE_STATE[name],
            1,
            first_tokens[name],
        ), name
    # Every retried attempt is queued again under its new token; the unsent run is sent now.
    expected_jobs = {f"run-{runs[n].pk}-{runs[n].token}" for n in (*_RETRIED, "unsent")}
    assert set(queued_job_ids(broker)) == expected_jobs
    # The attempts the site gave up on are flagged: a worker still holding one stops it; a late
    # pickup of the expired message does nothing.
    for name in (*_RETRIED, "last attempt", "never picked up"):
        assert control.cancel_requested(broker, run_id=runs[name].pk, token=first_tokens[name]), name
    # Each run that ended was announced once; the runs put back in the queue not at all.
    assert {name: len(finished_notifications(run)) for name, run in runs.items()} == {
        name: int(name in ("never picked up", "scoring", "last attempt")) for name in runs
    }


def _wait_until_dead(client: object, runs: list[Run]) -> None:
    """The dead claimants' heartbeats expire (a few seconds: the broker's own clock)."""
    deadline = time.monotonic() + HEARTBEAT_SECONDS + 10
    while time.monotonic() < deadline:
        statuses = control.attempts_status(client, [(run.pk, run.token) for run in runs])
        if set(statuses) == {control.Attempt.GONE}:
            return
        time.sleep(0.2)
    pytest.fail(f"heartbeats still alive: {statuses}")


_DEAD = ("queued, claimant dead", "preparing, claimant dead", "running, claimant dead", "last attempt")
_RETRIED = ("queued, claimant dead", "preparing, claimant dead", "running, claimant dead", "hung")
_STUCK = ("unsent", "never picked up", "scoring", "queued, claimant dead", "preparing, claimant dead")
_STUCK += ("running, claimant dead", "last attempt")
_LIVE = ("queued, claimant alive", "preparing, claimant alive", "running, claimant alive")
_LIVE += ("running, result on its way", "hung")
_LIVE_STATE = {
    "queued, claimant alive": RunState.QUEUED,
    "preparing, claimant alive": RunState.PREPARING,
    "running, claimant alive": RunState.RUNNING,
    "running, result on its way": RunState.RUNNING,
}
