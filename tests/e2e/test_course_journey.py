"""A learner using the Chinese interface finds a course, enrolls, reads a lesson with typeset math,
completes it and sees the progress rise — in a real browser, on the real demo course."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from core.models import Role
from courses.demo_seed import DEMO_CURRICULUM
from courses.importing import curriculum_import
from labs.models import Lab
from tests.e2e.conftest import login
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

COURSE = DEMO_CURRICULUM / "neural-network-basics"


@pytest.fixture
def demo_course() -> None:
    for slug in ("linear-regression", "two-spirals", "digits-mlp"):
        Lab.objects.create(
            slug=slug, title_en=slug, description_en="-", starter_code="-", metric="accuracy", threshold=1
        )
    curriculum_import(COURSE)


def test_learner_studies_a_lesson_in_chinese_and_progress_rises(page: Page, demo_course: None) -> None:
    learner = UserFactory(role=Role.LEARNER, preferred_language="zh-hans", display_name="小王")
    login(page, learner.username, PASSWORD)
    expect(page.get_by_test_id("continue-learning")).to_contain_text("你还没有报名任何课程")

    page.get_by_test_id("nav-courses").click()
    page.get_by_test_id("catalog-search").fill("神经网络")
    page.get_by_test_id("catalog-search").press("Enter")
    page.get_by_test_id("course-neural-network-basics").click()
    expect(page.get_by_test_id("course-title")).to_have_text("神经网络基础")

    page.get_by_test_id("enroll-button").click()
    expect(page.locator(".messages")).to_contain_text("报名成功")
    expect(page.get_by_test_id("course-progress")).to_have_attribute("data-percent", "0")
    page.get_by_test_id("continue").click()

    expect(page.get_by_test_id("lesson-title")).to_have_text("神经元在计算什么")
    expect(page.locator("[data-testid=lesson-body] .katex").first).to_be_visible()  # KaTeX typeset the math
    assert page.locator("[data-testid=lesson-body] .math-error").count() == 0
    expect(page.get_by_test_id("lesson-progress")).to_have_attribute("data-percent", "0")

    page.get_by_test_id("complete-button").click()  # done: the next lesson opens, saying which was done
    expect(page.get_by_test_id("lesson-title")).to_contain_text("神经元的几何意义")
    expect(page.locator(".messages")).to_contain_text("神经元在计算什么")
    expect(page.get_by_test_id("lesson-progress")).to_have_attribute("data-percent", "11")  # 1 of 9 lessons
    expect(page.locator(".progress-text").first).to_contain_text("9 课中已完成 1 课")
    page.get_by_test_id("lesson-prev").click()
    expect(page.get_by_test_id("lesson-done")).to_be_visible()

    page.get_by_test_id("lesson-next").click()
    page.get_by_test_id("nav-courses").click()
    expect(page.get_by_test_id("progress-neural-network-basics")).to_have_attribute("data-percent", "11")
    page.goto("/")
    expect(page.get_by_test_id("continue-lesson")).to_contain_text("神经元的几何意义")


def test_course_and_lesson_pages_fit_a_phone(page: Page, demo_course: None) -> None:
    learner = UserFactory(role=Role.LEARNER, preferred_language="zh-hans")
    page.set_viewport_size({"width": 375, "height": 740})
    login(page, learner.username, PASSWORD)
    for url in ("/courses/", "/courses/neural-network-basics/", "/courses/neural-network-basics/worked-forward-pass/"):
        page.goto(url)
        page.wait_for_load_state("load")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{url} scrolls sideways by {overflow}px on a phone"


def test_katex_typesets_every_formula_of_the_demo_curriculum(page: Page, settings: object, tmp_path: object) -> None:
    """Every lesson of the demo path, in both languages: all math elements typeset, no KaTeX error."""
    from django.core.management import call_command

    from courses.models import Lesson

    settings.DATASET_STORAGE_DIR = tmp_path
    call_command("seed_demo")
    learner = UserFactory(role=Role.LEARNER)
    login(page, learner.username, PASSWORD)
    urls = [lesson.get_absolute_url() for lesson in Lesson.objects.select_related("course")]
    assert len(urls) >= 30
    problems = []
    for language in ("en", "zh-hans"):
        page.context.add_cookies([{"name": "django_language", "value": language, "url": page.url}])
        for url in urls:
            page.goto(url)
            page.wait_for_load_state("load")
            result = page.evaluate(
                """() => ({
                    math: document.querySelectorAll('.math').length,
                    typeset: document.querySelectorAll('.math[data-typeset]').length,
                    errors: Array.from(document.querySelectorAll('.katex-error')).map(e => e.title || e.textContent),
                })"""
            )
            if result["typeset"] != result["math"] or result["errors"]:
                problems.append((language, url, result))
    assert problems == []
