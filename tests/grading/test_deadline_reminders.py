"""The hourly beat task that reminds a cohort's learners of a lab deadline a day ahead."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from cohorts.models import Cohort, CohortMember, LabDeadline
from config.celery_app import app as celery_app
from core.models import NotificationKind, Role, User
from grading.reminders import deadline_remind, deadline_reminders_send
from grading.tasks import deadline_reminders
from labs import run_events, services
from labs.models import Lab, Run
from notifications.models import Notification
from tests.factories import UserFactory
from tests.labs import conftest as labs_conftest
from tests.labs.conftest import VALID_CODE

lab = labs_conftest.lab  # the labs tests' fixture: a tiny published lab


def cohort_with(*learners: User, slug: str = "spring") -> Cohort:
    cohort = Cohort.objects.create(slug=slug, name=slug.title(), starts_on=date(2025, 1, 1), ends_on=date(2030, 1, 1))
    for learner in learners:
        CohortMember.objects.create(cohort=cohort, learner=learner)
    return cohort


def deadline_in(cohort: Cohort, lab: Lab, hours: float) -> LabDeadline:
    return LabDeadline.objects.create(cohort=cohort, lab=lab, due_at=timezone.now() + timedelta(hours=hours))


def reminders_of(user: User) -> list[Notification]:
    return list(Notification.objects.filter(user=user, kind=NotificationKind.DEADLINE))


def run_with_predictions(lab: Lab, learner: User, predictions: list[int]) -> Run:
    run = services.submission_create(learner=learner, lab=lab, source="api", code=VALID_CODE)
    run_events.run_event_apply(
        run_id=run.pk,
        token=run.token,
        event={"kind": "finished", "result": {"state": "succeeded", "predictions": predictions}},
    )
    run.refresh_from_db()
    return run


@pytest.mark.django_db
def test_a_deadline_due_within_a_day_reminds_each_learner_once_even_if_the_task_runs_twice(
    lab: Lab, learner: User, other_learner: User
) -> None:
    deadline = deadline_in(cohort_with(learner, other_learner), lab, hours=23)

    assert deadline_reminders() == 2
    assert deadline_reminders.apply().get() == 0  # the next hour's beat

    for user in (learner, other_learner):
        [reminder] = reminders_of(user)
        assert reminder.url == "/labs/tiny/"
        assert reminder.title.startswith("Tiny lab is due in ")
    deadline.refresh_from_db()
    assert deadline.reminded_at is not None


@pytest.mark.django_db
def test_a_second_beat_that_read_the_deadline_before_the_first_claimed_it_notifies_no_one(
    lab: Lab, learner: User
) -> None:
    deadline = deadline_in(cohort_with(learner), lab, hours=23)
    now = timezone.now()
    # Both beats saw reminded_at empty; the conditional update lets only the first through.
    assert deadline_remind(deadline_id=deadline.pk, now=now) == 1
    assert deadline_remind(deadline_id=deadline.pk, now=now) == 0
    assert len(reminders_of(learner)) == 1


@pytest.mark.django_db
def test_a_deadline_more_than_a_day_away_waits_for_a_later_beat(lab: Lab, learner: User) -> None:
    deadline = deadline_in(cohort_with(learner), lab, hours=25)

    assert deadline_reminders() == 0
    deadline.refresh_from_db()
    assert deadline.reminded_at is None and reminders_of(learner) == []

    assert deadline_reminders_send(now=timezone.now() + timedelta(hours=2)) == 1
    assert len(reminders_of(learner)) == 1


@pytest.mark.django_db
def test_a_past_deadline_is_not_reminded(lab: Lab, learner: User) -> None:
    deadline_in(cohort_with(learner), lab, hours=-1)
    assert deadline_reminders() == 0 and reminders_of(learner) == []


@pytest.mark.django_db
def test_learners_who_already_passed_the_lab_are_not_reminded(lab: Lab, learner: User, other_learner: User) -> None:
    assert run_with_predictions(lab, learner, [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]).passed is True
    assert run_with_predictions(lab, other_learner, [2] * 10).passed is False  # tried, not passed
    deadline_in(cohort_with(learner, other_learner), lab, hours=23)

    deadline_reminders()

    assert reminders_of(learner) == []
    assert len(reminders_of(other_learner)) == 1


@pytest.mark.django_db
def test_only_the_deadlines_cohort_is_reminded(lab: Lab, learner: User, other_learner: User) -> None:
    deadline_in(cohort_with(learner, slug="spring"), lab, hours=23)
    cohort_with(other_learner, slug="autumn")
    outsider = UserFactory(role=Role.LEARNER)

    deadline_reminders()

    assert len(reminders_of(learner)) == 1
    assert reminders_of(other_learner) == [] and reminders_of(outsider) == []


@pytest.mark.django_db
def test_the_reminder_reads_in_each_learners_language(lab: Lab, learner: User, other_learner: User) -> None:
    learner.preferred_language = "zh-hans"
    learner.save()
    deadline = deadline_in(cohort_with(learner), lab, hours=23)
    deadline_in(cohort_with(other_learner, slug="autumn"), lab, hours=23)

    deadline_reminders_send(now=deadline.due_at - timedelta(hours=5))

    [reminder] = reminders_of(learner)
    assert "小实验" in reminder.title and "5\xa0小时" in reminder.title
    [reminder] = reminders_of(other_learner)
    assert reminder.title == "Tiny lab is due in 5\xa0hours and you have no passing run yet"


def test_the_task_is_on_the_beat_schedule_and_the_default_queue() -> None:
    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "grading.tasks.deadline_reminders"]
    assert len(entries) == 1 and entries[0]["schedule"] <= 3600
    assert "grading.tasks.deadline_reminders" in celery_app.tasks
    assert celery_app.amqp.router.route({}, "grading.tasks.deadline_reminders")["queue"].name == "default"
