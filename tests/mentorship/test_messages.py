"""Mentorship's words: counts in the singular or plural, fields named as the rest of the API names them
(in backticks, straight quotes), dismissals named and explained in the admin."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from cohorts.models import Cohort
from core.models import User
from labs.models import Lab
from mentorship import services
from mentorship.models import Rubric, Verdict
from tests.mentorship.conftest import finished_run, levels_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([999], "Line 999 is not in the code: its lines are numbered 1 to "),
        ([998, 999], "Lines 998, 999 are not in the code: its lines are numbered 1 to "),
    ],
)
def test_line_comments_outside_the_code_are_named_in_the_singular_or_plural(
    mentor: User, learner: User, cohort: Cohort, lab: Lab, lines: list[int], message: str
) -> None:
    run = finished_run(learner, lab)
    last = run.submission.code.count("\n") + 1
    with pytest.raises(services.MentorshipRefused) as refused:
        services.review_create(
            mentor=mentor, run=run, verdict=Verdict.CHANGES_REQUESTED, line_comments=[(n, "x") for n in lines]
        )
    assert refused.value.errors == [f"{message}{last}."]


def test_the_low_points_hint_names_the_field_in_backticks(
    mentor: User, learner: User, cohort: Cohort, lab: Lab, rubric: Rubric
) -> None:
    run = finished_run(learner, lab)
    api = APIClient()
    api.force_authenticate(mentor)
    body = {"verdict": "approved", "levels": {str(c): lv for c, lv in levels_for(rubric, "Missing").items()}}
    refused = api.post(f"/api/v1/runs/{run.pk}/reviews/", body, format="json")
    hint = "Send `confirm_low_points` set to true to approve anyway."
    assert refused.status_code == 400
    assert refused.json()["confirm_low_points"] == [hint] and refused.json()["errors"][-1] == hint


def test_the_admin_shows_a_dismissal_with_its_field_names_and_help(
    admin_user: User, mentor: User, learner: User, cohort: Cohort, lab: Lab
) -> None:
    User.objects.filter(pk=admin_user.pk).update(is_superuser=True)
    dismissal, _created = services.dismissal_create(mentor=mentor, run=finished_run(learner, lab), reason="starter")
    client = Client()
    client.force_login(admin_user)
    listing = client.get("/admin/mentorship/dismissal/").content.decode()
    assert "Select dismissal to change" in listing and "Dismissed at" in listing
    page = client.get(f"/admin/mentorship/dismissal/{dismissal.pk}/change/").content.decode()
    assert "Dismissed at" in page and "Undone by" in page
    assert "The mentor's words; required for the reason “other”." in page
    assert "Empty while the dismissal is in effect." in page
