"""An approval with under half of the rubric's points needs an explicit confirmation: the service
refuses it, the page warns and asks "approve anyway", the API answers 400 unless
``confirm_low_points`` is true. And math in review comments is typeset where reviews are shown."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from cohorts.models import Cohort
from core.models import User
from labs.models import Lab
from mentorship import services
from mentorship.models import Review, Rubric, Verdict
from tests.mentorship.conftest import another_lab, finished_run, levels_for, queued_result

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("verdict", "choice", "refused"),
    [
        (Verdict.APPROVED, "Missing", True),  # 0 of 10
        (Verdict.APPROVED, "Partly", True),  # 4 of 10
        (Verdict.CHANGES_REQUESTED, "Missing", False),  # only approvals are questioned
        (Verdict.APPROVED, "Fully", False),
    ],
)
def test_an_approval_under_half_the_points_is_refused_without_the_confirmation(
    mentor: User, learner: User, cohort: Cohort, lab: Lab, rubric: Rubric, verdict: str, choice: str, refused: bool
) -> None:
    run = finished_run(learner, lab)
    levels = levels_for(rubric, choice)
    if refused:
        with pytest.raises(services.LowPointsRefused, match="under half"):
            services.review_create(mentor=mentor, run=run, verdict=verdict, levels=levels)
        assert not Review.objects.exists()
        services.review_create(mentor=mentor, run=run, verdict=verdict, levels=levels, confirm_low_points=True)
    else:
        services.review_create(mentor=mentor, run=run, verdict=verdict, levels=levels)
    assert Review.objects.count() == 1


def test_exactly_half_the_points_and_a_lab_without_rubric_need_no_confirmation(
    mentor: User, learner: User, cohort: Cohort, lab: Lab, rubric: Rubric
) -> None:
    first, second = rubric.criteria.all()
    half = {first.pk: first.levels.get(title_en="Fully").pk, second.pk: second.levels.get(title_en="Missing").pk}
    review = services.review_create(mentor=mentor, run=finished_run(learner, lab), verdict="approved", levels=half)
    assert (review.points, review.max_points) == (5, 10)
    no_rubric = queued_result(learner, another_lab(lab, "no-rubric"))
    assert services.review_create(mentor=mentor, run=no_rubric, verdict="approved").max_points == 0


def _form(rubric: Rubric, choice: str, **extra: str) -> dict[str, object]:
    data: dict[str, object] = {f"criterion_{c}": level for c, level in levels_for(rubric, choice).items()}
    return data | {"verdict": "approved", "comment": "", "line_comments": ""} | extra


def test_the_page_warns_and_needs_approve_anyway(
    client: Client, mentor: User, learner: User, cohort: Cohort, lab: Lab, rubric: Rubric
) -> None:
    run = finished_run(learner, lab)
    client.force_login(mentor)
    blank = client.get(f"/mentoring/runs/{run.pk}/review/").content.decode()
    assert 'id="low-points" data-testid="low-points-warning" role="alert" hidden' in blank  # until it applies
    assert '<script id="points-rule" type="application/json">' in blank and '"share": 0.5' in blank

    refused = client.post(f"/mentoring/runs/{run.pk}/review/", _form(rubric, "Missing"))
    html = refused.content.decode()
    assert refused.status_code == 400 and not Review.objects.exists()
    assert 'data-testid="low-points-warning" role="alert">' in html  # shown, not hidden
    assert 'data-testid="low-points-figure">0 / 10<' in html and "Approve anyway" in html
    assert "You are approving with 0 of 10 rubric points" in html

    confirmed = client.post(f"/mentoring/runs/{run.pk}/review/", _form(rubric, "Missing", confirm_low_points="on"))
    assert confirmed.status_code == 302 and Review.objects.get().points == 0


def test_the_api_answers_400_unless_confirm_low_points(
    mentor: User, learner: User, cohort: Cohort, lab: Lab, rubric: Rubric
) -> None:
    run = finished_run(learner, lab)
    api = APIClient()
    api.force_authenticate(mentor)
    body = {"verdict": "approved", "levels": {str(c): lv for c, lv in levels_for(rubric, "Partly").items()}}
    refused = api.post(f"/api/v1/runs/{run.pk}/reviews/", body, format="json")
    assert refused.status_code == 400 and not Review.objects.exists()
    assert "approving with 4 of 10 rubric points" in refused.json()["errors"][0]
    assert "confirm_low_points" in refused.json()["confirm_low_points"][0]
    created = api.post(f"/api/v1/runs/{run.pk}/reviews/", body | {"confirm_low_points": True}, format="json")
    assert created.status_code == 201 and created.json()["points"] == 4


def test_math_in_a_review_comment_is_typeset_where_reviews_are_shown(
    client: Client, mentor: User, learner: User, cohort: Cohort, lab: Lab
) -> None:
    run = finished_run(learner, lab)
    services.review_create(
        mentor=mentor,
        run=run,
        verdict=Verdict.CHANGES_REQUESTED,
        comment="Use $\\eta = 10^{-3}$ and\n\n$$L = -\\log p$$",
    )
    math = ('<span class="math inline">\\eta = 10^{-3}</span>', '<div class="math block">')
    for user, url in ((learner, run.get_absolute_url()), (mentor, f"/mentoring/runs/{run.pk}/review/")):
        client.force_login(user)
        html = client.get(url).content.decode()
        assert all(part in html for part in math), url
        assert "vendor/katex/katex.min.js" in html and "js/math.js" in html, url
