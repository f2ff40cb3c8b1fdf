"""Signing out forgets the editor's unsent drafts in this browser, so the next person on a shared
computer does not see them. The server's Clear-Site-Data header is stripped here: browsers ignore it
over plain http, and static/js/signout.js must do the work alone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Route, expect

from core.models import Role
from labs.models import Lab
from tests.e2e.conftest import RESULTS, login
from tests.e2e.editor import CODE_CONTENT, code_fill, code_value
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
DRAFT = "def train(data, run):\n    return 'my secret attempt'\n"


def _without_clear_site_data(route: Route) -> None:
    response = route.fetch(max_redirects=0)
    headers = {k: v for k, v in response.headers.items() if k.lower() != "clear-site-data"}
    route.fulfill(response=response, headers=headers)


def _draft_keys(page: Page) -> list[str]:
    return page.evaluate("() => Object.keys(localStorage).filter(k => k.startsWith('academy:draft:'))")


@pytest.mark.parametrize("saved", [True, False], ids=["draft-saved", "draft-save-pending"])
def test_signing_out_forgets_the_draft_and_the_next_sign_in_does_not_see_it(page: Page, lab: Lab, saved: bool) -> None:
    learner = UserFactory(role=Role.LEARNER)
    page.route("**/accounts/logout/", _without_clear_site_data)
    login(page, learner.username, PASSWORD)
    page.goto(lab.get_absolute_url())
    page.evaluate("() => localStorage.setItem('not-a-draft', 'kept')")
    code_fill(page, DRAFT)
    if saved:  # else: signing out within the 300 ms before the editor saves
        page.wait_for_function("key => localStorage.getItem(key) !== null", arg=f"academy:draft:{learner.pk}:tiny")

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_selector("a[href='/accounts/login/']")
    assert _draft_keys(page) == []
    assert page.evaluate("() => localStorage.getItem('not-a-draft')") == "kept"  # only drafts go

    login(page, learner.username, PASSWORD)
    page.goto(lab.get_absolute_url())
    page.locator(CODE_CONTENT).wait_for()
    expect(page.get_by_test_id("draft-notice")).to_be_hidden()
    assert code_value(page) == lab.starter_code
    page.screenshot(path=str(RESULTS / f"signout-drafts-{'saved' if saved else 'pending'}.png"), full_page=True)
