"""Every notification that mentions a lab names it by its title, in the recipient's language, never
by its slug (a learner knows "Tiny lab" / "小实验", not "tiny")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from cohorts.models import Cohort, LabDeadline
from core.models import NotificationKind, User
from grading.reminders import deadline_remind
from labs import run_events
from labs import services as lab_services
from labs.models import Lab
from mentorship import services as mentorship_services
from mentorship.models import Verdict
from notifications.models import Notification
from tests.labs.conftest import VALID_CODE, lab  # noqa: F401 - the fixture: slug "tiny", "Tiny lab" / "小实验"
from tests.mentorship.conftest import cohort, finished_run, other_mentor  # noqa: F401 - the fixtures

PERFECT = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]


def run_finished(learner: User, mentor: User, cohort: Cohort, lab: Lab) -> None:  # noqa: F811
    run = lab_services.submission_create(learner=learner, lab=lab, source="api", code=VALID_CODE)
    event = {"kind": "finished", "result": {"state": "succeeded", "predictions": PERFECT}}
    run_events.run_event_apply(run_id=run.pk, token=run.token, event=event)


def review_posted(learner: User, mentor: User, cohort: Cohort, lab: Lab) -> None:  # noqa: F811
    mentorship_services.review_create(mentor=mentor, run=finished_run(learner, lab), verdict=Verdict.APPROVED)


def deadline(learner: User, mentor: User, cohort: Cohort, lab: Lab) -> None:  # noqa: F811
    now = timezone.now()
    due = LabDeadline.objects.create(cohort=cohort, lab=lab, due_at=now + timedelta(hours=5))
    deadline_remind(deadline_id=due.pk, now=now)


MAKERS: dict[str, Callable[[User, User, Cohort, Lab], None]] = {
    NotificationKind.RUN_FINISHED: run_finished,
    NotificationKind.REVIEW_POSTED: review_posted,
    NotificationKind.DEADLINE: deadline,
}


def test_every_kind_but_background_jobs_mentions_a_lab_and_is_covered_here() -> None:
    # A reveal names its challenge by title (tests/challenges/test_reveal.py), not a lab.
    no_lab = {NotificationKind.JOB_FINISHED, NotificationKind.CHALLENGE_REVEALED}
    assert set(MAKERS) == set(NotificationKind.values) - no_lab


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "title"), [("en", "Tiny lab"), ("zh-hans", "小实验")])
@pytest.mark.parametrize("kind", list(MAKERS))
def test_a_notification_names_the_lab_by_its_title_in_the_recipients_language(
    kind: str,
    language: str,
    title: str,
    learner: User,
    mentor: User,
    cohort: Cohort,  # noqa: F811
    lab: Lab,  # noqa: F811
) -> None:
    learner.preferred_language = language
    learner.save(update_fields=["preferred_language"])

    MAKERS[kind](learner, mentor, cohort, lab)

    [notification] = Notification.objects.filter(user=learner, kind=kind)
    assert title in notification.title
    assert lab.slug not in notification.title
