"""The unread badge in the top bar follows the database on a page left open, in a real browser:
a new notification shows up, reading it takes the badge away, and a hidden tab asks nothing."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from core.models import NotificationKind, User
from notifications.services import notifications_mark_all_read, notify
from tests.e2e.conftest import RESULTS, login
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SET_VISIBILITY = """state => {
    Object.defineProperty(document, "visibilityState", { value: state, configurable: true });
    document.dispatchEvent(new Event("visibilitychange"));
}"""


def news_for(learner: User) -> None:
    notify(user=learner, kind=NotificationKind.RUN_FINISHED, title="Tiny lab: score 0.9 — passed", url="/labs/")


def test_the_badge_appears_and_goes_away_without_reloading_the_page(
    page: Page, learner: User, settings: object
) -> None:
    settings.NOTIFICATIONS_POLL_SECONDS = 1  # rendered into data-poll-seconds
    login(page, learner.username, PASSWORD)
    live = page.get_by_test_id("unread-live")
    badge = page.get_by_test_id("unread-count")
    expect(live).to_have_attribute("aria-live", "polite")
    expect(badge).to_have_count(0)
    page.evaluate("window.stillTheSamePage = true")

    news_for(learner)
    expect(badge).to_have_text("1 unread")  # the number, and the words a screen reader hears
    expect(badge.locator(".visually-hidden")).to_have_text(" unread")
    expect(page.get_by_test_id("nav-notifications")).to_have_accessible_name("Notifications 1 unread")
    page.screenshot(path=str(RESULTS / "notifications-live-badge.png"))

    news_for(learner)
    expect(badge).to_have_text("2 unread")
    notifications_mark_all_read(user=learner)
    expect(badge).to_have_count(0)
    assert page.evaluate("window.stillTheSamePage") is True  # updated in place, never reloaded


def test_a_hidden_tab_does_not_poll_and_asks_at_once_when_shown_again(page: Page, learner: User) -> None:
    page.clock.install()  # the page's timers run only when the test moves this clock
    login(page, learner.username, PASSWORD)
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url) if "unread-count" in request.url else None)
    page.evaluate(SET_VISIBILITY, "hidden")

    news_for(learner)
    page.clock.run_for(5 * 60_000)  # ten poll intervals of 30 s, all hidden
    page.evaluate(SET_VISIBILITY, "visible")

    expect(page.get_by_test_id("unread-count")).to_have_text("1 unread")
    assert len(asked) == 1  # only the one when the tab came back


def test_on_a_phone_the_folded_menu_says_there_is_news(page: Page, learner: User, settings: object) -> None:
    settings.NOTIFICATIONS_POLL_SECONDS = 1
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, learner.username, PASSWORD)
    toggle = page.get_by_test_id("nav-toggle")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_class("nav-toggle")  # no news yet: no dot
    expect(toggle).to_have_accessible_name("Menu")

    news_for(learner)
    expect(toggle).to_have_class("nav-toggle has-unread")
    expect(toggle).to_have_accessible_name(re.compile(r"^Menu\s+unread notifications$"))
    page.screenshot(path=str(RESULTS / "notifications-phone-menu-dot.png"))
    notifications_mark_all_read(user=learner)
    expect(toggle).to_have_class("nav-toggle")
