"""The grading API: same scoping as the pages (see gradebook_setup for the cohort)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from cohorts.background import job_result_text
from cohorts.models import Job, JobState
from core.models import User
from grading.models import GradeOverride
from grading.tasks import gradebook_export
from tests.grading.gradebook_setup import (  # noqa: F401 - fixtures
    Spring,
    other_mentor_fixture,
    outside_mentor_fixture,
    spring_fixture,
)

GRADEBOOK = "/api/v1/cohorts/spring/gradebook/"
OVERRIDES = "/api/v1/cohorts/spring/overrides/"


def as_user(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.django_db
def test_gradebook_is_scoped_like_the_page(
    spring: Spring,
    admin_user: User,
    mentor: User,
    learner: User,
    outside_mentor: User,
) -> None:
    body = as_user(admin_user).get(GRADEBOOK).json()
    assert [row["username"] for row in body["rows"]] == ["lena", "omar"]
    assert [lab["slug"] for lab in body["labs"]] == ["digits", "prices"]
    assert body["error"] is None and body["policy"]["pass_mark"] == 60
    lena = body["rows"][0]["grade"]
    assert (lena["final"], lena["passed"], lena["lab_part"], lena["review_part"]) == (71.0, True, 90.0, 40.0)
    digits = lena["labs"][0]
    assert (digits["counted"]["run"], digits["counted"]["days_late"]) == (spring.lena_late_run.pk, 2)
    assert (digits["points"], digits["review_points"], digits["review"]["run"]) == (
        80.0,
        80.0,
        spring.lena_reviewed_run.pk,
    )
    assert [row["username"] for row in as_user(mentor).get(GRADEBOOK).json()["rows"]] == ["lena"]
    assert as_user(learner).get(GRADEBOOK).status_code == 404
    assert as_user(outside_mentor).get(GRADEBOOK).status_code == 404
    assert APIClient().get(GRADEBOOK).status_code in (401, 403)


@pytest.mark.django_db
def test_my_grades_are_my_own(spring: Spring, other_learner: User) -> None:
    body = as_user(other_learner).get("/api/v1/grades/").json()
    assert len(body) == 1 and body[0]["cohort"] == "spring"
    assert [row["username"] for row in body[0]["rows"]] == ["omar"]
    assert body[0]["rows"][0]["grade"]["final"] == 30.0


@pytest.mark.django_db
def test_overrides_through_the_api(spring: Spring, mentor: User, learner: User, other_learner: User) -> None:
    api = as_user(mentor)
    made = api.post(OVERRIDES, {"learner": learner.pk, "lab": "prices", "score": "42.5", "reason": "Re-run by hand"})
    assert made.status_code == 201
    assert (made.json()["lab"], made.json()["score"], made.json()["by"]) == ("prices", "42.50", str(mentor))
    final = api.post(OVERRIDES, {"learner": learner.pk, "score": 99, "reason": "Outstanding"}, format="json")
    assert final.status_code == 201 and final.json()["lab"] is None
    assert api.post(OVERRIDES, {"learner": other_learner.pk, "score": 99, "reason": "x"}).status_code == 403
    assert api.post(OVERRIDES, {"learner": learner.pk, "score": 101, "reason": "x"}).status_code == 400
    assert api.post(OVERRIDES, {"learner": learner.pk, "score": 50, "reason": ""}).status_code == 400
    assert api.post(OVERRIDES, {"learner": learner.pk, "lab": "nope", "score": 50, "reason": "x"}).status_code == 400
    assert GradeOverride.objects.count() == 2
    grade = as_user(learner).get("/api/v1/grades/").json()[0]["rows"][0]["grade"]
    assert (grade["final"], grade["override"]["reason"], grade["labs"][1]["points"]) == (99.0, "Outstanding", 42.5)


@pytest.mark.django_db
def test_export_starts_a_job(spring: Spring, admin_user: User, learner: User) -> None:
    response = as_user(admin_user).post(f"{GRADEBOOK}export/")
    assert response.status_code == 202
    job = Job.objects.get()
    assert response.json()["url"] == job.get_absolute_url() and response.json()["state"] == "queued"
    gradebook_export.apply(args=[job.pk])
    job.refresh_from_db()
    assert job.state == JobState.DONE and job_result_text(job).startswith("username,")
    assert as_user(learner).post(f"{GRADEBOOK}export/").status_code == 404


@pytest.mark.django_db
def test_lab_leaderboard_api(spring: Spring, learner: User, other_learner: User) -> None:
    api = as_user(learner)
    best = api.get("/api/v1/labs/digits/leaderboard/").json()
    assert [(e["rank"], e["name"], e["score"]) for e in best] == [(1, str(other_learner), 0.9), (2, "NightOwl", 0.8)]
    latest = api.get("/api/v1/labs/digits/leaderboard/", {"rule": "latest"}).json()
    assert [e["name"] for e in latest] == ["NightOwl", str(other_learner)]
    assert "learner_id" not in best[0]  # a nickname is not to be undone by an id
    assert api.get("/api/v1/labs/digits/leaderboard/", {"rule": "median"}).status_code == 400
    assert api.get("/api/v1/labs/nope/leaderboard/").status_code == 404
