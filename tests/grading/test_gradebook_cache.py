"""The gradebook's rows are cached (grading.gradebook): no change a cell depends on may leave it stale.

Each test renders the gradebook (which fills the cache), makes one kind of change the way the
platform makes it (a service, a run's events, the Django admin), renders again and looks for the
new value."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from cohorts.models import Cohort, CohortMember, LabDeadline
from core.models import Role, User
from courses import services as course_services
from courses.models import Course, Lesson
from grading.selectors import gradebook_build, gradebook_members
from grading.services import grade_override_create, gradebook_csv
from labs import run_events
from labs import services as lab_services
from labs.models import Lab, Run
from mentorship import services as mentorship_services
from tests.factories import CohortFactory, LessonFactory, UserFactory, course_with_lessons
from tests.labs.conftest import VALID_CODE, lab  # noqa: F401 - the fixture
from tests.mentorship.conftest import levels_for, rubric_create
from tests.page_cache import cold_and_warm_queries

URL = "/cohorts/autumn/gradebook/"
RIGHT = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]  # the tiny lab's hidden labels: accuracy 1.0, 100 points
SIX_RIGHT = [0, 1, 2, 0, 1, 2, 1, 2, 0, 1]  # accuracy 0.6 of the 0.8 asked: 75 points


@pytest.fixture
def autumn(lab: Lab, learner: User, mentor: User) -> Cohort:  # noqa: F811 - the lab fixture
    """``learner`` (mentor ``mentor``) in a cohort graded on the tiny lab (due in a week) and a
    course of four lessons, in which the learner is enrolled."""
    cohort = CohortFactory(slug="autumn")
    CohortMember.objects.create(cohort=cohort, learner=learner, mentor=mentor)
    LabDeadline.objects.create(cohort=cohort, lab=lab, due_at=timezone.now() + dt.timedelta(days=7))
    course = course_with_lessons(modules=2, lessons_per_module=2, slug="autumn-course")
    cohort.courses.add(course)
    course_services.enrollment_create(user=learner, course=course)
    return cohort


def cells(client: Client, learner: User) -> str:
    """The learner's row as the gradebook shows it now, tags and spaces squeezed out."""
    response = client.get(URL)
    assert response.status_code == 200
    row = response.content.decode().split(f'data-testid="gradebook-row-{learner.username}"')[1].split("</tr>")[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))


def finish(learner: User, lab: Lab, predictions: list[int]) -> Run:  # noqa: F811 - a lab, not the fixture
    """A run through its real end: submitted, then the worker's "finished" event, scored by the site."""
    run = lab_services.submission_create(learner=learner, lab=lab, source="api", code=VALID_CODE)
    event = {"kind": "finished", "result": {"state": "succeeded", "predictions": predictions}}
    run_events.run_event_apply(run_id=run.pk, token=run.token, event=event)
    run.refresh_from_db()
    return run


@pytest.fixture
def admin_client(client: Client, admin_user: User) -> Client:
    admin_user.is_superuser = True  # the Django admin's forms too
    admin_user.save(update_fields=["is_superuser"])
    client.force_login(admin_user)
    return client


@pytest.mark.django_db
def test_a_run_that_ends_shows_at_once(admin_client: Client, autumn: Cohort, learner: User, lab: Lab) -> None:  # noqa: F811
    assert "no run" in cells(admin_client, learner)
    run = finish(learner, lab, RIGHT)
    row = cells(admin_client, learner)
    assert f"100.00 #{run.pk}" in row and "no run" not in row


@pytest.mark.django_db
def test_a_better_run_replaces_the_counted_one(admin_client: Client, autumn: Cohort, learner: User, lab: Lab) -> None:  # noqa: F811
    finish(learner, lab, SIX_RIGHT)
    assert "75.00" in cells(admin_client, learner)
    best = finish(learner, lab, RIGHT)
    assert f"100.00 #{best.pk}" in cells(admin_client, learner)


@pytest.mark.django_db
def test_a_mentors_review_shows_at_once(
    admin_client: Client,
    autumn: Cohort,
    learner: User,
    mentor: User,
    lab: Lab,  # noqa: F811
) -> None:
    run = finish(learner, lab, RIGHT)
    assert "not reviewed" in cells(admin_client, learner)
    rubric = rubric_create(lab)
    mentorship_services.review_create(mentor=mentor, run=run, verdict="approved", levels=levels_for(rubric, "Fully"))
    assert "review 100.00" in cells(admin_client, learner)


@pytest.mark.django_db
def test_a_completed_lesson_shows_at_once(admin_client: Client, autumn: Cohort, learner: User) -> None:
    assert "0.00 %" in cells(admin_client, learner)
    lesson = Lesson.objects.filter(course__slug="autumn-course").order_by("position").first()
    course_services.lesson_complete(user=learner, lesson=lesson)
    assert "25.00 %" in cells(admin_client, learner)
    course_services.lesson_uncomplete(user=learner, lesson=lesson)
    assert "0.00 %" in cells(admin_client, learner)


@pytest.mark.django_db
def test_an_override_shows_at_once(
    admin_client: Client,
    autumn: Cohort,
    learner: User,
    mentor: User,
    lab: Lab,  # noqa: F811
) -> None:
    cells(admin_client, learner)
    grade_override_create(cohort=autumn, learner=learner, lab=lab, score=42, reason="Checked by hand", by=mentor)
    assert "42.00 overridden" in cells(admin_client, learner)
    grade_override_create(cohort=autumn, learner=learner, lab=None, score=88.5, reason="Viva", by=mentor)
    assert "88.50 overridden pass" in cells(admin_client, learner)


@pytest.mark.django_db
def test_an_override_deleted_in_the_admin_goes_at_once(
    admin_client: Client, autumn: Cohort, learner: User, mentor: User
) -> None:
    override = grade_override_create(cohort=autumn, learner=learner, lab=None, score=88, reason="Viva", by=mentor)
    assert "88.00 overridden" in cells(admin_client, learner)
    response = admin_client.post(f"/admin/grading/gradeoverride/{override.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert "overridden" not in cells(admin_client, learner)


@pytest.mark.django_db
def test_a_deadline_moved_in_the_admin_makes_a_run_late_at_once(
    admin_client: Client,
    autumn: Cohort,
    learner: User,
    lab: Lab,  # noqa: F811
) -> None:
    finish(learner, lab, RIGHT)
    assert "late" not in cells(admin_client, learner)
    deadline = LabDeadline.objects.get(cohort=autumn, lab=lab)
    due = timezone.localtime(timezone.now() - dt.timedelta(days=2, hours=1))
    form = {"cohort": autumn.pk, "lab": lab.pk, "due_at_0": due.date(), "due_at_1": due.strftime("%H:%M:%S")}
    response = admin_client.post(f"/admin/cohorts/labdeadline/{deadline.pk}/change/", {**form, "weight": 1})
    assert response.status_code == 302
    assert "3 days late, −30" in cells(admin_client, learner)


@pytest.mark.django_db
def test_a_changed_policy_shows_at_once(admin_client: Client, autumn: Cohort, learner: User, lab: Lab) -> None:  # noqa: F811
    finish(learner, lab, RIGHT)
    assert "60.00 pass" in cells(admin_client, learner)  # 60 % of 100 for the lab; no review, no lesson
    autumn.review_weight = autumn.course_weight = 0
    autumn.save()
    assert "100.00 pass" in cells(admin_client, learner)
    autumn.pass_mark = 100
    autumn.lab_weight = 10
    autumn.course_weight = 90
    autumn.save()
    assert "10.00 not passed" in cells(admin_client, learner)


@pytest.mark.django_db
def test_a_lab_threshold_changed_shows_at_once(
    admin_client: Client,
    autumn: Cohort,
    learner: User,
    lab: Lab,  # noqa: F811
) -> None:
    finish(learner, lab, SIX_RIGHT)
    assert "75.00" in cells(admin_client, learner)
    lab.threshold = 0.6
    lab.save(update_fields=["threshold"])
    assert "100.00" in cells(admin_client, learner)


@pytest.mark.django_db
def test_a_lesson_added_to_the_course_shows_at_once(admin_client: Client, autumn: Cohort, learner: User) -> None:
    for lesson in Lesson.objects.filter(course__slug="autumn-course")[:2]:
        course_services.lesson_complete(user=learner, lesson=lesson)
    assert "50.00 %" in cells(admin_client, learner)
    course = Course.objects.get(slug="autumn-course")
    LessonFactory(module=course.modules.first(), position=5, slug="autumn-course-l5")
    assert "40.00 %" in cells(admin_client, learner)


@pytest.mark.django_db
def test_an_unsealed_run_shows_its_score_at_once(
    admin_client: Client,
    autumn: Cohort,
    learner: User,
    lab: Lab,  # noqa: F811
) -> None:
    run = finish(learner, lab, RIGHT)
    Run.objects.filter(pk=run.pk).update(sealed=True, sealed_score=run.score, score=None, passed=None)
    cache.clear()  # the row as a sealed run leaves it (the update above is no platform write)
    assert "no run" in cells(admin_client, learner)
    lab_services.runs_unseal(run_ids=[run.pk])
    assert f"100.00 #{run.pk}" in cells(admin_client, learner)


@pytest.mark.django_db
def test_a_deleted_run_goes_at_once(admin_client: Client, autumn: Cohort, learner: User, lab: Lab) -> None:  # noqa: F811
    run = finish(learner, lab, RIGHT)
    assert f"#{run.pk}" in cells(admin_client, learner)
    run.delete()
    assert "no run" in cells(admin_client, learner)


@pytest.mark.django_db
def test_a_new_name_shows_at_once(admin_client: Client, autumn: Cohort, learner: User) -> None:
    cells(admin_client, learner)
    learner.display_name = "Renamed Learner"
    learner.save(update_fields=["display_name"])
    assert "Renamed Learner" in cells(admin_client, learner)


@pytest.mark.django_db
def test_a_mentor_never_sees_rows_an_administrator_filled(
    client: Client, autumn: Cohort, admin_user: User, mentor: User, learner: User
) -> None:
    stranger = UserFactory(role=Role.LEARNER, username="stranger")
    CohortMember.objects.create(cohort=autumn, learner=stranger, mentor=UserFactory(role=Role.MENTOR))
    client.force_login(admin_user)
    assert "gradebook-row-stranger" in client.get(URL).content.decode()
    client.force_login(mentor)
    html = client.get(URL).content.decode()
    assert f"gradebook-row-{learner.username}" in html and "stranger" not in html


@pytest.mark.django_db
def test_the_csv_export_has_the_numbers_the_page_shows(
    admin_client: Client,
    admin_user: User,
    autumn: Cohort,
    learner: User,
    lab: Lab,  # noqa: F811
) -> None:
    finish(learner, lab, SIX_RIGHT)
    row = cells(admin_client, learner)
    book = gradebook_build(cohort=autumn, members=gradebook_members(user=admin_user, cohort=autumn))
    exported = gradebook_csv(book).splitlines()[1].split(",")
    points, final = exported[4], exported[-3]
    assert points == "75.00" and f" {points} " in row and f" {final} " in row


@pytest.mark.django_db
def test_a_warm_gradebook_reads_fewer_queries_than_a_cold_one(
    admin_client: Client,
    autumn: Cohort,
    learner: User,
    lab: Lab,  # noqa: F811
) -> None:
    finish(learner, lab, RIGHT)
    admin_client.get(URL)
    cold, warm = cold_and_warm_queries(admin_client, URL)
    assert warm < cold - 5, f"cold {cold}, warm {warm}"
