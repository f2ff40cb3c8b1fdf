"""Gradebook, grade page, leaderboards and the CSV export, through the pages (see gradebook_setup)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cohorts.background import job_result_text
from cohorts.models import CohortMember, Job, JobState, LabDeadline
from core.models import NotificationKind, Role, User
from courses.models import LessonCompletion
from grading.models import GradeOverride
from grading.services import grade_override_create
from grading.tasks import gradebook_export
from notifications.models import Notification
from tests.factories import CohortFactory, UserFactory, course_with_lessons
from tests.grading.gradebook_setup import (  # noqa: F401 - fixtures
    DAY,
    DUE,
    Spring,
    make_lab,
    make_review,
    make_run,
    other_mentor_fixture,
    outside_mentor_fixture,
    spring_fixture,
)

GRADEBOOK = "/cohorts/spring/gradebook/"


def board(html: str) -> str:
    """The leaderboard table alone (the page's header names the viewer)."""
    return html.split('data-testid="leaderboard"')[1].split("</table>")[0]


def html_of(client: Client, url: str, user: User | None) -> tuple[int, str]:
    if user is not None:
        client.force_login(user)
    response = client.get(url)
    return response.status_code, response.content.decode()


# --- Who sees the gradebook ----------------------------------------------------------------


@pytest.mark.django_db
def test_an_administrator_sees_every_learner(client: Client, spring: Spring, admin_user: User) -> None:
    status, html = html_of(client, GRADEBOOK, admin_user)
    assert status == 200
    assert 'data-testid="gradebook-row-lena"' in html and 'data-testid="gradebook-row-omar"' in html


@pytest.mark.django_db
def test_a_mentor_sees_only_their_mentees(
    client: Client,
    spring: Spring,
    mentor: User,
    other_mentor: User,
) -> None:
    status, html = html_of(client, GRADEBOOK, mentor)
    assert status == 200
    assert 'data-testid="gradebook-row-lena"' in html and "gradebook-row-omar" not in html
    _, html = html_of(client, GRADEBOOK, other_mentor)
    assert "gradebook-row-omar" in html and "gradebook-row-lena" not in html


@pytest.mark.django_db
def test_a_mentor_from_outside_the_cohort_gets_404(
    client: Client,
    spring: Spring,
    outside_mentor: User,
) -> None:
    assert html_of(client, GRADEBOOK, outside_mentor)[0] == 404


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["learner", "other_learner"])
def test_learners_cannot_open_the_gradebook(client: Client, spring: Spring, persona: str, request) -> None:
    user = request.getfixturevalue(persona)
    assert html_of(client, GRADEBOOK, user)[0] == 404
    assert client.post(f"{GRADEBOOK}export/").status_code == 404
    assert client.post(f"{GRADEBOOK}overrides/", {"learner": user.pk, "score": "100", "reason": "x"}).status_code == 404
    assert not Job.objects.exists() and not GradeOverride.objects.exists()


@pytest.mark.django_db
def test_anonymous_is_sent_to_sign_in(client: Client, spring: Spring) -> None:
    for url in (GRADEBOOK, "/grades/", "/cohorts/spring/leaderboard/", "/labs/digits/leaderboard/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response.url


# --- What the gradebook shows --------------------------------------------------------------


@pytest.mark.django_db
def test_the_gradebook_shows_points_penalties_reviews_progress_and_result(
    client: Client, spring: Spring, admin_user: User
) -> None:
    _, html = html_of(client, GRADEBOOK, admin_user)
    lena_digits = html.split('data-testid="cell-lena-digits"')[1].split("</td>")[0]
    assert "<strong>80.00</strong>" in lena_digits
    assert "2 days late, −20" in lena_digits
    assert f"#{spring.lena_late_run.pk}" in lena_digits  # the run that counts
    assert "review 80.00" in lena_digits
    assert "not reviewed" in html.split('data-testid="cell-lena-prices"')[1].split("</td>")[0]
    assert "50.00 %" in html  # lena's course progress
    assert 'data-testid="final-lena"><strong>71.00</strong>' in html
    assert 'data-testid="final-omar"><strong>30.00</strong>' in html
    assert 'data-testid="export-csv"' in html


@pytest.mark.django_db
def test_a_policy_with_every_weight_zero_says_so(client: Client, spring: Spring, admin_user: User) -> None:
    spring.cohort.lab_weight = spring.cohort.review_weight = spring.cohort.course_weight = 0
    spring.cohort.save()
    status, html = html_of(client, GRADEBOOK, admin_user)
    assert status == 200
    assert 'data-testid="gradebook-error"' in html and "weight" in html


# --- Overrides -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_mentor_overrides_a_mentees_lab_and_the_history_stays(
    client: Client, spring: Spring, mentor: User, learner: User
) -> None:
    client.force_login(mentor)
    first = {"learner": learner.pk, "lab": spring.digits.pk, "score": "90", "reason": "Late because of an outage"}
    assert client.post(f"{GRADEBOOK}overrides/", first).status_code == 302
    second = {**first, "score": "95.5", "reason": "Re-marked after the review"}
    assert client.post(f"{GRADEBOOK}overrides/", second).status_code == 302
    html = client.get(GRADEBOOK).content.decode()
    assert "<strong>95.50</strong>" in html.split('data-testid="cell-lena-digits"')[1].split("</td>")[0]
    history = html.split('data-testid="override-history"')[1]
    assert history.index("Re-marked after the review") < history.index("Late because of an outage")
    assert "replaced" in history
    assert GradeOverride.objects.count() == 2


@pytest.mark.django_db
def test_a_mentor_cannot_override_another_mentors_mentee(
    client: Client, spring: Spring, mentor: User, other_learner: User
) -> None:
    client.force_login(mentor)
    data = {"learner": other_learner.pk, "lab": "", "score": "100", "reason": "Because"}
    assert client.post(f"{GRADEBOOK}overrides/", data).status_code == 400
    assert not GradeOverride.objects.exists()


@pytest.mark.django_db
def test_an_override_without_a_reason_is_refused(
    client: Client, spring: Spring, admin_user: User, learner: User
) -> None:
    client.force_login(admin_user)
    response = client.post(f"{GRADEBOOK}overrides/", {"learner": learner.pk, "lab": "", "score": "70", "reason": " "})
    assert response.status_code == 400
    assert not GradeOverride.objects.exists()


@pytest.mark.django_db
def test_the_override_service_checks_who_and_what(
    spring: Spring,
    learner: User,
    other_learner: User,
    mentor: User,
    admin_user: User,
    outside_mentor: User,
) -> None:
    cohort, digits = spring.cohort, spring.digits
    ok = {"cohort": cohort, "learner": learner, "lab": digits, "score": "70", "reason": "Checked by hand"}
    for by in (outside_mentor, learner, other_learner):
        with pytest.raises(PermissionDenied):
            grade_override_create(**ok, by=by)
    with pytest.raises(PermissionDenied):  # maria does not mentor omar
        grade_override_create(**{**ok, "learner": other_learner}, by=mentor)
    for field, value in [("score", "100.01"), ("score", "-1"), ("score", "abc"), ("reason", "  ")]:
        with pytest.raises(ValidationError) as raised:
            grade_override_create(**{**ok, field: value}, by=admin_user)
        assert field in raised.value.message_dict
    with pytest.raises(ValidationError) as raised:
        grade_override_create(**{**ok, "lab": make_lab("elsewhere")}, by=admin_user)
    assert "lab" in raised.value.message_dict
    with pytest.raises(ValidationError) as raised:
        grade_override_create(**{**ok, "learner": UserFactory(role=Role.LEARNER)}, by=admin_user)
    assert "learner" in raised.value.message_dict
    assert not GradeOverride.objects.exists()
    made = grade_override_create(**{**ok, "score": "100"}, by=mentor)
    assert (made.score, made.by) == (Decimal("100.00"), mentor)
    assert grade_override_create(**{**ok, "lab": None, "score": 0}, by=admin_user).lab is None


# --- A learner's grade page ----------------------------------------------------------------


@pytest.mark.django_db
def test_the_grade_page_explains_the_grade(client: Client, spring: Spring, learner: User, admin_user: User) -> None:
    cohort = spring.cohort
    grade_override_create(
        cohort=cohort, learner=learner, lab=spring.prices, score=60, reason="First look", by=admin_user
    )
    grade_override_create(cohort=cohort, learner=learner, lab=spring.prices, score=90, reason="Fair", by=admin_user)
    grade_override_create(cohort=cohort, learner=learner, lab=None, score=85, reason="Excellent project", by=admin_user)
    status, html = html_of(client, "/grades/", learner)
    assert status == 200
    card = html.split('data-testid="grades-spring"')[1]
    assert 'data-testid="final-grade">85.00' in card and "pass mark 60" in card
    assert "Excellent project" in card and "computed: 68.00" in card  # 0.6 × 85 + 0.3 × 40 + 0.1 × 50
    digits = card.split('data-testid="lab-digits"')[1].split("</tr>")[0]
    assert f'href="/labs/runs/{spring.lena_late_run.pk}/"' in digits
    assert "−20 (2 days late)" in digits
    assert "100.00 points before penalty" in digits
    assert "80.00</a>" in digits and "(8 / 10)" in digits  # review points, linked to the review
    prices = card.split('data-testid="lab-prices"')[1].split("</tr>")[0]
    assert "<strong>90.00</strong>" in prices
    assert prices.index("Fair") < prices.index("First look")  # the history, newest first


@pytest.mark.django_db
def test_the_grade_page_shows_only_ones_own_grades(client: Client, spring: Spring, other_learner: User) -> None:
    _, html = html_of(client, "/grades/", other_learner)
    assert 'data-testid="final-grade">30.00' in html
    assert "71.00" not in html


@pytest.mark.django_db
def test_a_learner_outside_any_cohort_sees_an_explanation(client: Client, learner: User) -> None:
    assert 'data-testid="no-cohort"' in html_of(client, "/grades/", learner)[1]


@pytest.mark.django_db
def test_a_mentor_finds_their_gradebooks_on_the_grades_page(client: Client, spring: Spring, mentor: User) -> None:
    assert 'href="/cohorts/spring/gradebook/"' in html_of(client, "/grades/", mentor)[1]


# --- Leaderboards --------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_lab_leaderboard_ranks_best_or_latest_runs_under_nicknames(
    client: Client, spring: Spring, learner: User, other_learner: User
) -> None:
    client.force_login(other_learner)
    best = board(client.get("/labs/digits/leaderboard/").content.decode())
    assert best.index(str(other_learner)) < best.index("NightOwl")  # omar's 0.9 beats lena's 0.8
    assert "0.9000" in best and "0.4000" not in best
    assert learner.display_name not in best
    latest = board(client.get("/labs/digits/leaderboard/?rule=latest").content.decode())
    assert latest.index("NightOwl") < latest.index(str(other_learner))  # 0.8 (lena's latest) beats 0.4
    assert "0.4000" in latest and "0.9000" not in latest
    fallback = board(client.get("/labs/digits/leaderboard/?rule=nonsense").content.decode())  # best, the default
    assert fallback.index(str(other_learner)) < fallback.index("NightOwl") and "0.9000" in fallback


@pytest.mark.django_db
def test_the_lab_page_links_to_its_leaderboard(client: Client, spring: Spring, learner: User) -> None:
    assert 'href="/labs/digits/leaderboard/"' in html_of(client, "/labs/digits/", learner)[1]


@pytest.mark.django_db
def test_lower_is_better_leaderboard_puts_the_smallest_error_first(
    client: Client, spring: Spring, other_learner: User
) -> None:
    make_run(other_learner, spring.prices, 0.5, DUE)
    html = board(html_of(client, "/labs/prices/leaderboard/", other_learner)[1])
    assert html.index("NightOwl") < html.index(str(other_learner))


@pytest.mark.django_db
def test_the_cohort_leaderboard_is_for_members_their_mentors_and_admins(
    client: Client,
    spring: Spring,
    learner: User,
    other_learner: User,
    mentor: User,
    admin_user: User,
    outside_mentor: User,
) -> None:
    url = "/cohorts/spring/leaderboard/"
    for user in (learner, other_learner, mentor, admin_user):
        assert html_of(client, url, user)[0] == 200
    assert html_of(client, url, outside_mentor)[0] == 404
    assert html_of(client, url, UserFactory(role=Role.LEARNER))[0] == 404
    html = board(html_of(client, url, other_learner)[1])
    assert html.index("NightOwl") < html.index(str(other_learner))
    assert "71.00" in html and learner.display_name not in html


# --- CSV export ----------------------------------------------------------------------------


def export_rows(client: Client, user: User) -> tuple[Job, list[dict[str, str]]]:
    client.force_login(user)
    response = client.post(f"{GRADEBOOK}export/")
    job = Job.objects.get(requested_by=user)
    assert response.status_code == 302 and response.url == job.get_absolute_url()
    assert (job.kind, job.state, job.cohort.slug) == (Job.Kind.GRADEBOOK_EXPORT, JobState.QUEUED, "spring")
    gradebook_export.apply(args=[job.pk])
    job.refresh_from_db()
    return job, list(csv.DictReader(io.StringIO(job_result_text(job))))


@pytest.mark.django_db
def test_the_csv_export_job_writes_the_gradebook_and_notifies(client: Client, spring: Spring, admin_user: User) -> None:
    job, rows = export_rows(client, admin_user)
    assert job.state == JobState.DONE and job.finished_at is not None
    assert job.result_name.endswith(".csv")
    assert job.summary == {"learners": 2, "labs": 2, "passed": 1}
    assert [row["username"] for row in rows] == ["lena", "omar"]
    lena, omar = rows
    assert lena["digits: run"] == str(spring.lena_late_run.pk)
    assert (lena["digits: points"], lena["digits: days late"], lena["digits: review"]) == ("80.00", "2", "80.00")
    assert (lena["prices: points"], lena["prices: review"], lena["course %"]) == ("100.00", "", "50.00")
    assert (lena["final grade"], lena["passed"]) == ("71.00", "yes")
    assert (omar["digits: points"], omar["final grade"], omar["passed"]) == ("100.00", "30.00", "no")
    note = Notification.objects.get(user=admin_user, kind=NotificationKind.JOB_FINISHED)
    assert note.url == job.get_absolute_url()


@pytest.mark.django_db
def test_a_mentors_export_holds_only_their_mentees(client: Client, spring: Spring, mentor: User) -> None:
    _, rows = export_rows(client, mentor)
    assert [row["username"] for row in rows] == ["lena"]


@pytest.mark.django_db
def test_a_redelivered_export_changes_nothing(client: Client, spring: Spring, admin_user: User) -> None:
    job, _ = export_rows(client, admin_user)
    gradebook_export.apply(args=[job.pk])
    assert Notification.objects.filter(user=admin_user, kind=NotificationKind.JOB_FINISHED).count() == 1


@pytest.mark.django_db
def test_text_that_a_spreadsheet_would_run_is_written_as_text(
    client: Client, spring: Spring, admin_user: User, learner: User
) -> None:
    learner.display_name = "=HYPERLINK(1)"
    learner.save(update_fields=["display_name"])
    _, rows = export_rows(client, admin_user)
    assert rows[0]["name"] == "'=HYPERLINK(1)"


# --- Query budget --------------------------------------------------------------------------


def build_cohort(slug: str, *, learners: int, labs: int, admin: User) -> None:
    """A cohort of ``learners`` (each with a mentor) and ``labs`` labs: every learner has two runs
    and a review per lab, an override, and lessons done."""
    cohort = CohortFactory(slug=slug)
    course = course_with_lessons(modules=2, lessons_per_module=2, slug=f"{slug}-course")
    cohort.courses.add(course)
    lessons = list(course.lessons.all())
    lab_list = [make_lab(f"{slug}-lab-{n}") for n in range(labs)]
    for n, lab in enumerate(lab_list):
        LabDeadline.objects.create(cohort=cohort, lab=lab, due_at=DUE + n * DAY)
    for _ in range(learners):
        learner, mentor = UserFactory(role=Role.LEARNER), UserFactory(role=Role.MENTOR)
        CohortMember.objects.create(cohort=cohort, learner=learner, mentor=mentor)
        for lab in lab_list:
            make_run(learner, lab, 0.5, DUE - DAY)
            make_review(make_run(learner, lab, 0.7, DUE + DAY), mentor, 7)
        LessonCompletion.objects.bulk_create(LessonCompletion(user=learner, lesson=x) for x in lessons[:2])
        grade_override_create(cohort=cohort, learner=learner, lab=None, score=50, reason="Checked", by=admin)
        grade_override_create(cohort=cohort, learner=learner, lab=lab_list[0], score=60, reason="Checked", by=admin)


def count_queries(client: Client, url: str) -> int:
    cache.clear()  # cold, whatever was asked before: the same caches to fill at either size
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["gradebook/", "leaderboard/"])
def test_page_query_count_does_not_grow_with_the_cohort(client: Client, admin_user: User, page: str) -> None:
    client.force_login(admin_user)
    build_cohort("small", learners=2, labs=1, admin=admin_user)
    build_cohort("large", learners=12, labs=5, admin=admin_user)
    small = count_queries(client, f"/cohorts/small/{page}")
    large = count_queries(client, f"/cohorts/large/{page}")
    assert small == large, f"{page}: {small} queries for 2 learners × 1 lab, {large} for 12 × 5"
