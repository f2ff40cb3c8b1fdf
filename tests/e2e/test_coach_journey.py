"""A learner's run diverges (a learning rate ten times too large, trained for real by the lab
worker): the run page, open while it trains, says why when it ends, marks the evidence on the
learning curve and links the lesson that teaches the fix — in English and in Chinese, on a
desktop and on a phone."""

from __future__ import annotations

import re
import subprocess

import pytest
from playwright.sync_api import Page, expect

from core.models import Role
from labs import services
from labs.demo_seed import demo_lab_seed
from tests.e2e.conftest import RESULTS, login
from tests.e2e.test_lab_journey import PACED
from tests.factories import PASSWORD, CourseFactory, LessonFactory, ModuleFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_diverging_run_says_why_and_links_the_lesson_that_fixes_it(
    page: Page, site_worker: subprocess.Popen, lab_worker: subprocess.Popen
) -> None:
    lab = demo_lab_seed("linear-regression")
    lesson = LessonFactory(
        module=ModuleFactory(course=CourseFactory(published=True)),
        title_en="Gradient descent and the learning rate",
        title_zh="梯度下降与学习率",
        fixes=["diverging", "unstable"],
    )
    learner = UserFactory(role=Role.LEARNER)
    run = services.submission_create(
        learner=learner, lab=lab, source="api", code=lab.reference_solution + PACED, params={"lr": 1.0}
    )
    login(page, learner.username, PASSWORD)
    page.goto(run.get_absolute_url())
    coach = page.get_by_test_id("coach")
    expect(coach).to_be_hidden()  # nothing to say while it trains

    expect(page.get_by_test_id("run-state")).to_have_attribute("data-state", "succeeded", timeout=120_000)
    expect(coach).to_be_visible()  # put in place live, without a reload
    expect(page.get_by_test_id("finding-diverging")).to_contain_text("The loss grew")
    expect(page.get_by_test_id("finding-diverging")).to_contain_text("Lower the learning rate")
    marks = page.evaluate(
        "() => Chart.getChart('curve').data.datasets.filter(d => d.label.startsWith('⚠')).map(d => d.data.length)"
    )
    assert marks and marks[0] >= 2, marks  # the evidence drawn on the curve
    page.screenshot(path=str(RESULTS / "coach-run-page-en.png"), full_page=True)

    page.context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": page.url}])
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.get_by_test_id("finding-diverging")).to_contain_text("损失在上升")
    link = page.get_by_test_id("finding-lesson")
    expect(link).to_have_text("梯度下降与学习率")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone: {width}px"
    page.screenshot(path=str(RESULTS / "coach-run-page-zh-phone.png"), full_page=True)
    link.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(re.escape(lesson.get_absolute_url()) + "$"))
