"""A challenge phase's leaderboard follows the database on a page left open, in a real browser
(static/js/board.js): a new entry's row shows up in place, a polite status line says the board
changed, a hidden tab asks nothing, and the asking stops once the phase has closed. The board polls
here (no events server) unless E2E_LIVE_EVENTS=1: then the hint that the site's services send with
a scored entry (``board_changed``) brings the row; tests/e2e/test_live_push.py scores one for real."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from challenges import views
from challenges.models import Phase
from challenges.services import board_changed
from core.models import User
from tests.challenges.conftest import entry_create
from tests.e2e.conftest import RESULTS, login
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SET_VISIBILITY = """state => {
    Object.defineProperty(document, "visibilityState", { value: state, configurable: true });
    document.dispatchEvent(new Event("visibilitychange"));
}"""


def test_a_new_entry_joins_the_board_in_place(
    page: Page, open_phase: Phase, learner: User, other_learner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "BOARD_POLL_SECONDS", 2)  # rendered into data-poll-seconds
    entry_create(open_phase, learner, public_score=0.61)
    login(page, learner.username, PASSWORD)
    page.goto("/challenges/tiny-cup/phases/1/")
    board = page.get_by_test_id("challenge-board")
    status = page.get_by_test_id("board-status")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(board).to_contain_text(learner.public_name)
    expect(board).not_to_contain_text(other_learner.public_name)
    page.evaluate("window.stillTheSamePage = true")

    entry_create(open_phase, other_learner, public_score=0.87)
    board_changed(phase=open_phase)  # as challenges.services tells it of a scored entry
    expect(board.locator("tbody tr").first).to_contain_text(other_learner.public_name, timeout=10_000)
    expect(board.locator("tbody tr").first).to_contain_text("0.8700")
    expect(status).to_have_text("The leaderboard was updated.")
    page.screenshot(path=str(RESULTS / "challenge-board-live.png"), full_page=True)
    assert page.evaluate("window.stillTheSamePage") is True  # updated in place, never reloaded


def test_a_hidden_tab_asks_nothing_and_a_closed_phase_stops_the_asking(
    page: Page, open_phase: Phase, learner: User
) -> None:
    page.clock.install()  # the page's timers run only when the test moves this clock
    login(page, learner.username, PASSWORD)
    page.goto("/challenges/tiny-cup/phases/1/")
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url) if request.url.endswith("/board/") else None)
    page.evaluate(SET_VISIBILITY, "hidden")
    page.clock.run_for(60_000)  # six poll intervals, all hidden
    assert asked == []

    Phase.objects.filter(pk=open_phase.pk).update(ends_at=timezone.now() - dt.timedelta(seconds=1))
    with page.expect_response(lambda response: response.url.endswith("/board/")):
        page.evaluate(SET_VISIBILITY, "visible")  # asks at once
    page.clock.run_for(60_000)
    page.wait_for_timeout(300)
    assert len(asked) == 1  # the board said the phase closed: no more asking
