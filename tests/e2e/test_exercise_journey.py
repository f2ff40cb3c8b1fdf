"""A learner checks themself inside a lesson: a wrong number brings a hint, the right one the
worked solution, in place and without a reload — by keyboard alone, in English on a desktop and in
Chinese on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from core.models import Role
from courses.models import ExerciseProgress
from tests.courses.exercise_lessons import exercise_lesson
from tests.e2e.conftest import RESULTS, login
from tests.factories import PASSWORD, CourseFactory, ModuleFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def answer_by_keyboard(page: Page, text: str) -> None:
    """Tab from the prompt to the answer box, type, and press Enter (the form's Check)."""
    field = page.locator("#exercise-mse-by-hand-answer")
    field.focus()
    page.keyboard.press("Control+A")
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def test_a_wrong_answer_brings_a_hint_and_the_right_one_the_solution(page: Page) -> None:
    lesson = exercise_lesson(module=ModuleFactory(course=CourseFactory(published=True)))
    learner = UserFactory(role=Role.LEARNER)
    login(page, learner.username, PASSWORD)
    page.goto(lesson.get_absolute_url() + "#exercise-mse-by-hand")
    exercise = page.locator("#exercise-mse-by-hand")
    expect(exercise.get_by_test_id("exercise-solution")).to_have_count(0)
    page.evaluate("() => { window.notReloaded = true; }")

    answer_by_keyboard(page, "3")
    feedback = exercise.get_by_test_id("exercise-feedback")
    expect(feedback).to_contain_text("Not quite")
    expect(exercise.get_by_test_id("exercise-hints")).to_contain_text("Square each error first.")
    expect(exercise.get_by_test_id("exercise-solution")).to_have_count(0)
    page.screenshot(path=str(RESULTS / "exercise-wrong-en.png"), full_page=True)

    answer_by_keyboard(page, "2,5")
    expect(feedback).to_contain_text("Correct!")
    expect(exercise.get_by_test_id("exercise-solution")).to_contain_text("SOLVED-TEXT")
    assert page.evaluate("() => window.notReloaded === true"), "the page reloaded"
    progress = ExerciseProgress.objects.get(user=learner)
    assert (progress.tries, progress.solved) == (2, True)
    exercise.scroll_into_view_if_needed()
    page.screenshot(path=str(RESULTS / "exercise-right-en.png"), full_page=True)


def test_on_a_phone_in_chinese(page: Page) -> None:
    lesson = exercise_lesson(module=ModuleFactory(course=CourseFactory(published=True)))
    learner = UserFactory(role=Role.LEARNER)
    login(page, learner.username, PASSWORD)
    page.context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": page.url}])
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(lesson.get_absolute_url())
    expect(page.locator("#exercise-mse-by-hand")).to_contain_text("目标")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone: {width}px"

    answer_by_keyboard(page, "1")
    exercise = page.locator("#exercise-mse-by-hand")
    expect(exercise.get_by_test_id("exercise-hints")).to_contain_text("先把每个误差平方。")
    expect(exercise.get_by_test_id("exercise-feedback")).to_have_class("exercise-feedback wrong")
    page.screenshot(path=str(RESULTS / "exercise-wrong-zh-phone.png"), full_page=True)
    answer_by_keyboard(page, "5/2")
    expect(exercise.get_by_test_id("exercise-feedback")).to_have_class("exercise-feedback correct")
    expect(exercise.get_by_test_id("exercise-solution")).to_contain_text("解答文字")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone: {width}px"
    page.screenshot(path=str(RESULTS / "exercise-right-zh-phone.png"), full_page=True)
