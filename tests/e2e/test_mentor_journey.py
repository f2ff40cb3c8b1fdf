"""A mentor opens the review queue, reviews a run with the rubric and a line comment, and the
learner sees the review on the run page — in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from cohorts.models import Cohort
from core.models import User
from labs.models import Lab
from mentorship.models import Rubric
from tests.e2e.conftest import login
from tests.factories import PASSWORD
from tests.mentorship.conftest import finished_run

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_mentor_reviews_a_run_with_the_rubric_and_the_learner_sees_it(
    page: Page,
    mentor: User,
    learner: User,
    cohort: Cohort,
    lab: Lab,
    rubric: Rubric,
) -> None:
    run = finished_run(learner, lab, passed=False)
    login(page, mentor.username, PASSWORD)
    expect(page.get_by_test_id("home-queue")).to_contain_text("1")
    page.get_by_test_id("home-queue").click()
    page.get_by_test_id(f"review-{run.pk}").click()

    for criterion, level in (("Correctness", "Partly (2)"), ("Code quality", "Fully (5)")):
        page.locator("fieldset.rubric .criterion", has_text=criterion).get_by_label(level).check()
    page.get_by_label("changes requested").check()
    page.fill("#id_comment", "Good start. Lower the **learning rate**.")
    page.locator(".code-lines .ln[data-line='3']").click()  # starts "3: " in the line-comments box
    page.locator("#id_line_comments").press_sequentially("return the trained model here")
    page.get_by_test_id("post-review").click()
    expect(page.get_by_test_id("queue-empty")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    login(page, learner.username, PASSWORD)
    page.goto(run.get_absolute_url())
    review = page.get_by_test_id("review")
    expect(review.get_by_test_id("review-verdict")).to_have_text("changes requested")
    expect(review.get_by_test_id("review-points")).to_have_text("7 / 10")
    expect(review.locator("strong")).to_have_text("learning rate")
    expect(page.get_by_test_id("line-comment-3")).to_contain_text("return the trained model here")


def test_an_approval_with_low_points_is_questioned_and_math_in_the_comment_is_typeset(
    page: Page, mentor: User, learner: User, cohort: Cohort, lab: Lab, rubric: Rubric
) -> None:
    run = finished_run(learner, lab, passed=False)
    login(page, mentor.username, PASSWORD)
    page.goto(f"/mentoring/runs/{run.pk}/review/")
    warning = page.get_by_test_id("low-points-warning")
    for criterion in ("Correctness", "Code quality"):
        page.locator("fieldset.rubric .criterion", has_text=criterion).get_by_label("Missing (0)").check()
    page.get_by_label("approved", exact=True).check()
    expect(warning).to_be_visible()
    expect(page.get_by_test_id("low-points-figure")).to_have_text("0 / 10")
    page.get_by_label("changes requested").check()
    expect(warning).to_be_hidden()  # only approvals are questioned
    page.get_by_label("approved", exact=True).check()
    page.fill("#id_comment", "Your loss is $L = -\\log p$, not its square.")
    page.get_by_test_id("post-review").click()
    expect(page.get_by_test_id("confirm-low-points")).to_be_focused()  # not posted: asked first
    page.get_by_test_id("confirm-low-points").check()
    page.get_by_test_id("post-review").click()
    expect(page.get_by_test_id("queue-empty")).to_be_visible()

    page.goto(run.get_absolute_url())
    typeset = page.get_by_test_id("review").locator(".math.inline .katex")
    expect(typeset).to_be_visible()
    expect(page.get_by_test_id("review-points")).to_have_text("0 / 10")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_mentoring_cohort_and_grade_pages_fit_a_phone(
    page: Page, admin_user: User, learner: User, cohort: Cohort, lab: Lab, rubric: Rubric, language: str
) -> None:
    run = finished_run(learner, lab)
    page.set_viewport_size({"width": 375, "height": 740})
    login(page, admin_user.username, PASSWORD)
    page.context.add_cookies([{"name": "django_language", "value": language, "url": page.url}])
    pages = [
        "/mentoring/",
        "/mentoring/queue/",
        f"/mentoring/runs/{run.pk}/review/",
        f"/mentoring/mentees/{learner.username}/",
        f"/cohorts/{cohort.slug}/",
        f"/cohorts/{cohort.slug}/dashboard/",
        f"/cohorts/{cohort.slug}/gradebook/",
        "/grades/",
        "/notifications/",
    ]
    for url in pages:
        page.goto(url)
        page.wait_for_load_state("load")
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{url} scrolls sideways by {overflow}px on a phone"
