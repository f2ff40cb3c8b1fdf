"""The home chooses the next step and says why: a learner whose run diverged is told which
learning rate to try (the link fills the lab's form in) and which lesson teaches the fix; their
skill profile shows the evidence behind each level; their mentor pins a lesson with a word, and
the learner sees it first — in English on a desktop and in Chinese on a phone, by keyboard."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from cohorts.models import Cohort
from core.models import Role
from tests.coach.conftest import DIVERGING, bare_lab, course, ended_run, lessons_of, mentored, skill
from tests.e2e.conftest import RESULTS, login
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_home_recommends_a_next_step_with_its_reason_and_the_mentor_pins_one(page: Page) -> None:
    descent = skill("gradient-descent", diagnoses=("diverging",))
    descent.name_zh = "梯度下降"
    descent.save()
    made = course("descent", 3, skills=(descent,), fixes=("diverging",))
    lab = bare_lab("spirals", skills=(descent,))
    learner = UserFactory(role=Role.LEARNER)
    mentor = UserFactory(role=Role.MENTOR)
    cohort: Cohort = mentored(learner, mentor)
    assert cohort.members.count() == 1
    run = ended_run(learner, lab, DIVERGING, params={"lr": 0.5})

    login(page, learner.username, PASSWORD)
    steps = page.get_by_test_id("next-step")
    expect(steps.first).to_have_attribute("data-kind", "parameter")
    expect(steps.first).to_contain_text("Try lr = 0.05 in Lab spirals")
    expect(steps.first.get_by_test_id("next-step-reason")).to_have_text(f"Run #{run.pk}, with lr = 0.5: the loss grew.")
    expect(steps.nth(1)).to_have_attribute("data-kind", "fix")
    profile = page.get_by_test_id("skill-gradient-descent")
    expect(profile).to_have_attribute("data-level", "beginning")
    profile.locator("summary").focus()
    page.keyboard.press("Enter")  # the evidence behind the level, opened by keyboard
    expect(profile).to_contain_text(f"Run #{run.pk} of Lab spirals: the loss grew")
    page.screenshot(path=str(RESULTS / "next-step-home-en.png"), full_page=True)

    steps.first.get_by_test_id("next-step-link").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/labs/spirals/\?param_lr=0\.05#submit$"))
    expect(page.locator("input[name=param_lr]")).to_have_value("0.05")

    page.context.clear_cookies()
    login(page, mentor.username, PASSWORD)
    page.goto(f"/mentoring/mentees/{learner.username}/")
    expect(page.get_by_test_id("mentee-next-steps")).to_contain_text("Try lr = 0.05 in Lab spirals")
    third = lessons_of(made)[2]
    page.get_by_test_id("pin-target").select_option(f"lesson:{third.pk}")
    page.get_by_test_id("pin-note").fill("先读这一课，周四讨论")
    page.get_by_test_id("pin-button").click()
    expect(page.get_by_test_id("choice-pin")).to_contain_text(third.title_en)
    page.screenshot(path=str(RESULTS / "next-step-mentor-en.png"), full_page=True)

    page.context.clear_cookies()
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, learner.username, PASSWORD)
    page.context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": page.url}])
    page.reload()
    first = page.get_by_test_id("next-step").first
    expect(first).to_have_attribute("data-kind", "pinned")
    expect(first).to_contain_text(third.title_zh)
    expect(first.get_by_test_id("next-step-reason")).to_have_text("先读这一课，周四讨论")
    expect(page.get_by_test_id("skill-profile")).to_contain_text("梯度下降")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone: {width}px"
    page.screenshot(path=str(RESULTS / "next-step-home-zh-phone.png"), full_page=True)
