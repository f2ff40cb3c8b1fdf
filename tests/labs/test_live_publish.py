"""A run's open pages hear of each of its changes (``run:<id>``, core.live) when the change commits and
never of one that rolls back; the run page's stream follows that run and its viewer's own topic only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from core.models import User
from labs import dispatch, run_events, services, sweeper
from labs.models import Lab, Run, RunState
from labs.publishing import reference_run_start
from tests.labs.conftest import VALID_CODE
from tests.live import heard, page_topics, topics_of

PERFECT = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]


def queued_run(lab: Lab, learner: User) -> Run:
    return services.submission_create(learner=learner, lab=lab, source="api", code=VALID_CODE)


def event(run: Run, kind: str, **fields: object) -> None:
    run_events.run_event_apply(run_id=run.pk, token=run.token, event={"kind": kind, **fields})


def states_told(messages: list[dict], run: Run) -> list[str | None]:
    return [message.get("state") for message in messages if message["topic"] == f"run:{run.pk}"]


class Boom(Exception):
    pass


def end_then_roll_back(run: Run) -> None:
    with transaction.atomic():
        event(run, "claimed", worker="lab@test", device="cpu")
        event(run, "finished", result={"state": "failed", "reason": "error: boom"})
        raise Boom


@pytest.mark.django_db
def test_each_step_of_a_run_tells_its_page_as_it_commits(
    lab: Lab, learner: User, django_capture_on_commit_callbacks: object
) -> None:
    run = queued_run(lab, learner)
    with heard() as messages, django_capture_on_commit_callbacks(execute=True):
        event(run, "claimed", worker="lab@test", device="cpu")
        event(run, "progress", events=[{"kind": "metrics", "step": 1, "t": 0.1, "metrics": {"loss": 0.5}}])
        event(run, "finished", result={"state": "succeeded", "predictions": PERFECT})
    assert states_told(messages, run) == ["preparing", "running", "scoring", "succeeded"]
    assert f"user:{learner.pk}" in topics_of(messages)  # and the badge: its learner was notified


@pytest.mark.django_db
def test_a_change_that_rolls_back_tells_no_one(
    lab: Lab, learner: User, django_capture_on_commit_callbacks: object
) -> None:
    run = queued_run(lab, learner)
    with heard() as messages, django_capture_on_commit_callbacks(execute=True), pytest.raises(Boom):
        end_then_roll_back(run)
    assert messages == []
    assert Run.objects.get(pk=run.pk).state == RunState.QUEUED


@pytest.mark.django_db
def test_a_replayed_event_that_changes_nothing_tells_nothing(
    lab: Lab, learner: User, django_capture_on_commit_callbacks: object
) -> None:
    run = queued_run(lab, learner)
    event(run, "claimed", worker="lab@test", device="cpu")
    event(run, "finished", result={"state": "failed", "reason": "error: boom"})
    with heard() as messages, django_capture_on_commit_callbacks(execute=True):
        event(run, "finished", result={"state": "failed", "reason": "error: boom"})
        run_events.run_event_apply(run_id=run.pk, token="stale", event={"kind": "running"})
    assert messages == []


@pytest.mark.django_db
def test_a_lost_worker_retry_and_the_last_failure_are_told(
    lab: Lab, learner: User, django_capture_on_commit_callbacks: object
) -> None:
    run = queued_run(lab, learner)
    event(run, "claimed", worker="lab@test")
    with heard() as messages, django_capture_on_commit_callbacks(execute=True):
        event(run, "lost")
        event(Run.objects.get(pk=run.pk), "lost")
    assert states_told(messages, run) == ["queued", "failed"]


@pytest.mark.django_db
def test_a_cancel_is_told(lab: Lab, learner: User, django_capture_on_commit_callbacks: object) -> None:
    queued, running = queued_run(lab, learner), queued_run(lab, learner)
    event(running, "running")
    with heard() as messages, django_capture_on_commit_callbacks(execute=True):
        services.run_cancel(run=queued)
        services.run_cancel(run=running)  # the worker is asked to stop: its progress says so
    assert states_told(messages, queued) == ["cancelled"]
    assert states_told(messages, running) == [None]


@pytest.mark.django_db
def test_the_sweepers_moves_are_told(
    lab: Lab, learner: User, settings: object, django_capture_on_commit_callbacks: object
) -> None:
    expired = queued_run(lab, learner)
    Run.objects.filter(pk=expired.pk).update(sent_at=timezone.now() - timedelta(days=2))
    with heard() as messages, django_capture_on_commit_callbacks(execute=True):
        sweeper.runs_sweep()
    assert states_told(messages, expired) == ["failed"]


@pytest.mark.django_db
def test_sending_a_waiting_run_and_unsealing_one_are_told(
    lab: Lab, learner: User, django_capture_on_commit_callbacks: object
) -> None:
    waiting = queued_run(lab, learner)
    sealed = services.submission_create(learner=learner, lab=lab, source="api", code=VALID_CODE, sealed=True)
    Run.objects.filter(pk=sealed.pk).update(state=RunState.SUCCEEDED, sealed_score=0.9)
    with heard() as messages, django_capture_on_commit_callbacks(execute=True):
        dispatch.run_enqueue(run_id=waiting.pk)  # the page stops saying it waits its turn
        services.runs_unseal(run_ids=[sealed.pk])
    assert states_told(messages, waiting) == ["queued"]
    assert states_told(messages, sealed) == ["succeeded"]


# --- The pages' tokens ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_run_page_follows_that_run_and_its_viewer(client: Client, lab: Lab, learner: User) -> None:
    run = queued_run(lab, learner)
    client.force_login(learner)
    assert page_topics(client.get(run.get_absolute_url()).content.decode()) == [f"user:{learner.pk}", f"run:{run.pk}"]
    assert page_topics(client.get("/labs/submissions/").content.decode()) == [f"user:{learner.pk}"]


@pytest.mark.django_db
def test_no_page_of_a_learner_follows_another_learners_run(
    client: Client, lab: Lab, learner: User, other_learner: User
) -> None:
    theirs = queued_run(lab, other_learner)
    client.force_login(learner)
    assert client.get(theirs.get_absolute_url()).status_code == 404
    for url in ("/", "/labs/", f"/labs/{lab.slug}/", "/labs/submissions/"):
        assert f"run:{theirs.pk}" not in page_topics(client.get(url).content.decode())


@pytest.mark.django_db
def test_the_authoring_page_follows_its_active_reference_run(client: Client, lab: Lab, admin_user: User) -> None:
    client.force_login(admin_user)
    Lab.objects.filter(pk=lab.pk).update(reference_solution=VALID_CODE)
    lab.refresh_from_db()
    run = reference_run_start(lab=lab, publish=False)
    url = f"/labs/authoring/{lab.slug}/"
    assert page_topics(client.get(url).content.decode()) == [f"user:{admin_user.pk}", f"run:{run.pk}"]
    Run.objects.filter(pk=run.pk).update(state=RunState.SUCCEEDED, score=1.0)
    assert page_topics(client.get(url).content.decode()) == [f"user:{admin_user.pk}"]
