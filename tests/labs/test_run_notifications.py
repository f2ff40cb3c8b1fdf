"""A learner hears once that their run ended, however often the worker's events arrive."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.mail import EmailMessage
from django.utils import timezone

from core.models import NotificationKind, User
from labs import run_events, services, sweeper
from labs.models import Lab, Run
from notifications.models import Notification
from tests.labs.conftest import VALID_CODE

PERFECT = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]


def queued_run(lab: Lab, learner: User) -> Run:
    return services.submission_create(learner=learner, lab=lab, source="api", code=VALID_CODE)


def event(run: Run, kind: str, **fields: object) -> None:
    run_events.run_event_apply(run_id=run.pk, token=run.token, event={"kind": kind, **fields})


def finished(run: Run, **result: object) -> None:
    event(run, "finished", result={"state": "succeeded", "device": "cpu", **result})


def run_notifications(learner: User) -> list[Notification]:
    return list(Notification.objects.filter(user=learner, kind=NotificationKind.RUN_FINISHED))


@pytest.mark.django_db
def test_a_scored_run_notifies_its_learner_once_even_when_the_finished_event_is_redelivered(
    lab: Lab, learner: User, mailoutbox: list[EmailMessage], django_capture_on_commit_callbacks: object
) -> None:
    run = queued_run(lab, learner)
    event(run, "claimed", worker="w")
    with django_capture_on_commit_callbacks(execute=True):
        finished(run, predictions=[0, 1, 2, 0, 1, 2, 0, 1, 0, 0])
    with django_capture_on_commit_callbacks(execute=True):
        finished(run, predictions=PERFECT)  # the same message delivered again
        run_events.run_score(run_id=run.pk)  # and a late rescore
        sweeper.runs_sweep()

    [notification] = run_notifications(learner)
    assert notification.title == "Tiny lab: score 0.9 — passed"
    assert notification.url == f"/labs/runs/{run.pk}/"
    assert [m.subject for m in mailoutbox] == ["Tiny lab: score 0.9 — passed"]
    assert mailoutbox[0].to == [learner.email]


@pytest.mark.django_db
def test_a_score_below_the_threshold_says_not_passed(lab: Lab, learner: User) -> None:
    run = queued_run(lab, learner)
    finished(run, predictions=[2] * 10)
    assert [n.title for n in run_notifications(learner)] == ["Tiny lab: score 0.3 — not passed"]


@pytest.mark.django_db
def test_unusable_predictions_notify_the_failure_reason(lab: Lab, learner: User) -> None:
    run = queued_run(lab, learner)
    finished(run, predictions=[0, 1])
    [notification] = run_notifications(learner)
    assert notification.title.startswith("Tiny lab: failed: ") and "2 predictions" in notification.title


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("state", "reason", "title"),
    [
        ("failed", "limit: memory", "Tiny lab: failed: limit: memory"),
        ("timed_out", "limit: time", "Tiny lab: timed out: limit: time"),
    ],
)
def test_a_run_ending_in_the_sandbox_notifies_once_with_its_reason(
    lab: Lab, learner: User, state: str, reason: str, title: str
) -> None:
    run = queued_run(lab, learner)
    event(run, "running")
    for _ in range(2):  # redelivered
        event(run, "finished", result={"state": state, "reason": reason})
    assert [n.title for n in run_notifications(learner)] == [title]


@pytest.mark.django_db
def test_a_run_the_learner_cancelled_notifies_no_one(lab: Lab, learner: User) -> None:
    queued = queued_run(lab, learner)
    services.run_cancel(run=queued)
    running = queued_run(lab, learner)
    event(running, "claimed", worker="w")
    services.run_cancel(run=running)
    event(running, "finished", result={"state": "cancelled", "reason": "cancelled: by user"})
    assert run_notifications(learner) == []


@pytest.mark.django_db
def test_a_retried_attempt_is_silent_and_the_final_platform_failure_notifies_once(lab: Lab, learner: User) -> None:
    run = queued_run(lab, learner)
    event(run, "claimed", worker="w1")
    event(run, "lost")
    assert run_notifications(learner) == []  # retrying: nothing to tell yet
    run.refresh_from_db()
    event(run, "lost")
    event(run, "lost")  # redelivered
    assert [n.title for n in run_notifications(learner)] == ["Tiny lab: failed: platform: worker lost"]


@pytest.mark.django_db
def test_the_sweeper_notifies_each_expired_run_once(lab: Lab, learner: User, other_learner: User) -> None:
    forgotten = [queued_run(lab, learner), queued_run(lab, other_learner)]
    Run.objects.filter(pk__in=[r.pk for r in forgotten]).update(sent_at=timezone.now() - timedelta(days=2))

    assert sweeper.runs_sweep()["expired"] == 2
    assert sweeper.runs_sweep()["expired"] == 0

    for user in (learner, other_learner):
        assert [n.title for n in run_notifications(user)] == ["Tiny lab: failed: platform: no worker picked the run up"]
