"""The site's shell in a real browser: the phone menu works with the keyboard alone (and shows
without script), the icon answers, and an anonymous visitor reads a lab, then signs in to submit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from core.models import Role
from labs.models import Lab
from tests.e2e.conftest import RESULTS, login
from tests.factories import PASSWORD, UserFactory
from tests.mentorship.conftest import finished_run

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def test_the_phone_menu_opens_and_closes_with_the_keyboard(page: Page) -> None:
    page.set_viewport_size(PHONE)
    page.goto("/courses/")
    toggle, nav = page.get_by_test_id("nav-toggle"), page.locator("#main-nav")
    expect(nav).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")

    page.keyboard.press("Tab")  # the brand
    page.keyboard.press("Tab")
    expect(toggle).to_be_focused()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_test_id("nav-labs")).to_be_visible()
    page.screenshot(path=str(RESULTS / "phone-menu-open.png"))
    page.keyboard.press("Tab")  # into the menu: its links take the focus
    expect(page.get_by_test_id("nav-courses")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_test_id("nav-labs")).to_be_focused()

    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_be_focused()
    page.keyboard.press("Space")  # a real button: Space works too
    expect(nav).to_be_visible()


def test_at_desktop_width_the_menu_shows_and_its_button_is_hidden(page: Page) -> None:
    page.goto("/courses/")
    expect(page.get_by_test_id("nav-toggle")).to_be_hidden()
    expect(page.get_by_test_id("nav-labs")).to_be_visible()


@pytest.fixture
def no_script_page(browser: Browser, live_server: object) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    yield page
    page.screenshot(path=str(RESULTS / "phone-menu-without-script.png"), full_page=True)
    context.close()


def test_without_script_the_phone_menu_is_simply_shown(no_script_page: Page) -> None:
    no_script_page.goto("/courses/")
    expect(no_script_page.get_by_test_id("nav-toggle")).to_be_hidden()
    expect(no_script_page.get_by_test_id("nav-labs")).to_be_visible()


def test_the_browser_finds_the_site_icon(page: Page) -> None:
    page.goto("/")
    assert page.request.get("/favicon.ico").ok  # the redirect, followed to the SVG
    icon = page.locator("link[rel=icon]").get_attribute("href")
    response = page.request.get(icon)
    assert response.ok and response.headers["content-type"].startswith("image/svg+xml")


def test_an_anonymous_visitor_reads_a_lab_then_signs_in_to_submit(page: Page, lab: Lab) -> None:
    learner = UserFactory(role=Role.LEARNER)
    page.set_viewport_size(PHONE)
    page.goto("/")
    page.get_by_test_id("nav-toggle").click()
    page.get_by_test_id("nav-labs").click()
    page.get_by_test_id("lab-tiny").click()
    expect(page.get_by_test_id("lab-title")).to_have_text("Tiny lab")
    expect(page.get_by_test_id("submit-form")).to_have_count(0)
    page.screenshot(path=str(RESULTS / "anonymous-lab-page.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the lab page scrolls sideways by {overflow}px on a phone"

    page.get_by_test_id("sign-in-to-submit-link").click()
    page.fill("#id_username", learner.username)
    page.fill("#id_password", PASSWORD)
    page.click("[data-testid=login-submit]")
    expect(page.get_by_test_id("lab-title")).to_have_text("Tiny lab")  # back on the lab, now with the form
    expect(page.get_by_test_id("submit-form")).to_be_visible()


def test_a_table_too_wide_for_a_phone_says_so_and_scrolls_with_the_keyboard(page: Page, lab: Lab) -> None:
    learner = UserFactory(role=Role.LEARNER)
    for passed in (True, False):
        finished_run(learner, lab, passed=passed)
    login(page, learner.username, PASSWORD)
    runs = page.locator(".table-wrap:has([data-testid=run-table])")
    hint = page.locator(".scroll-hint")
    expect(runs).to_be_visible()
    expect(hint).to_be_hidden()  # 1200 px: the table fits, no hint, no extra focus stop
    expect(runs).not_to_have_attribute("tabindex", "0")

    page.set_viewport_size(PHONE)
    expect(hint).to_be_visible()
    expect(hint).to_have_text("Scroll sideways for more columns. →")
    expect(runs).to_have_attribute("tabindex", "0")
    expect(runs).to_have_attribute("role", "region")
    expect(runs).to_have_accessible_name("Your runs")
    runs.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("End")
    page.wait_for_timeout(300)  # a smooth scroll
    assert runs.evaluate("box => box.scrollLeft") > 0
    page.screenshot(path=str(RESULTS / "phone-wide-table-hint.png"))
