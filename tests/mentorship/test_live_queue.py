"""A mentor's open review queue hears when an item comes or goes (``user:<mentor id>``, ``what:
queue``; core.live): a mentee's run that ended, a review, a dismissal and its undoing. So do the
administrators' (their queue holds every learner's runs); other mentors' do not."""

from __future__ import annotations

import pytest
from django.test import Client

from cohorts.models import Cohort
from core.models import User
from labs import run_events
from labs import services as lab_services
from labs.models import Lab
from labs.publishing import reference_run_start
from mentorship import services
from mentorship.models import DismissReason, Rubric, Verdict
from tests.labs.conftest import VALID_CODE
from tests.live import heard, page_topics
from tests.mentorship.conftest import finished_run, levels_for

FAILED = {"kind": "finished", "result": {"state": "failed", "reason": "error: x"}}


def queue_hints(messages: list[dict]) -> set[str]:
    return {message["topic"] for message in messages if message.get("what") == "queue"}


@pytest.mark.django_db
def test_a_mentees_run_that_ends_tells_their_mentor_and_the_administrators(
    mentor: User,
    other_mentor: User,
    admin_user: User,
    learner: User,
    cohort: Cohort,
    lab: Lab,
    django_capture_on_commit_callbacks: object,
) -> None:
    run = lab_services.submission_create(learner=learner, lab=lab, source="web", code=VALID_CODE)
    with heard() as messages, django_capture_on_commit_callbacks(execute=True):
        run_events.run_event_apply(run_id=run.pk, token=run.token, event=FAILED)
    assert queue_hints(messages) == {f"user:{mentor.pk}", f"user:{admin_user.pk}"}  # not other_mentor's


@pytest.mark.django_db
def test_a_review_a_dismissal_and_its_undoing_each_tell_the_queues(
    mentor: User,
    learner: User,
    cohort: Cohort,
    lab: Lab,
    rubric: Rubric,
    django_capture_on_commit_callbacks: object,
) -> None:
    reviewed, dismissed = finished_run(learner, lab), finished_run(learner, lab)
    with heard() as messages, django_capture_on_commit_callbacks(execute=True):
        services.review_create(
            mentor=mentor, run=reviewed, verdict=Verdict.APPROVED, levels=levels_for(rubric, "Fully")
        )
    assert queue_hints(messages) == {f"user:{mentor.pk}"}
    assert {"topic": f"user:{learner.pk}", "what": "unread"} in messages  # the learner hears of the review
    for change in (
        lambda: services.dismissal_create(mentor=mentor, run=dismissed, reason=DismissReason.DUPLICATE),
        lambda: services.dismissal_undo(mentor=mentor, run=dismissed),
    ):
        with heard() as messages, django_capture_on_commit_callbacks(execute=True):
            change()
        assert queue_hints(messages) == {f"user:{mentor.pk}"}


@pytest.mark.django_db
def test_a_second_dismissal_changes_nothing_and_tells_nothing(
    mentor: User, learner: User, cohort: Cohort, lab: Lab, django_capture_on_commit_callbacks: object
) -> None:
    run = finished_run(learner, lab)
    services.dismissal_create(mentor=mentor, run=run, reason=DismissReason.DUPLICATE)
    with heard() as messages, django_capture_on_commit_callbacks(execute=True):
        services.dismissal_create(mentor=mentor, run=run, reason=DismissReason.DUPLICATE)
    assert messages == []


@pytest.mark.django_db
def test_a_reference_run_that_ends_tells_no_queue(
    admin_user: User, lab: Lab, django_capture_on_commit_callbacks: object
) -> None:
    Lab.objects.filter(pk=lab.pk).update(reference_solution=VALID_CODE)
    lab.refresh_from_db()
    run = reference_run_start(lab=lab, publish=False)
    with heard() as messages, django_capture_on_commit_callbacks(execute=True):
        run_events.run_event_apply(run_id=run.pk, token=run.token, event=FAILED)
    assert queue_hints(messages) == set()
    assert f"run:{run.pk}" in {message["topic"] for message in messages}  # its authoring page hears it


@pytest.mark.django_db
def test_the_queue_page_follows_only_its_mentors_own_topic(client: Client, mentor: User, cohort: Cohort) -> None:
    client.force_login(mentor)
    html = client.get("/mentoring/queue/").content.decode()
    assert page_topics(html) == [f"user:{mentor.pk}"]
    assert 'data-what="queue"' in html and 'data-live-part="list"' in html
