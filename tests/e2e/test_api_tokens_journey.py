"""A learner makes an API token in a real browser, with the keyboard: the key is shown once with a
working copy button, it opens the API, and once revoked the API refuses it with a 401 that says
where to make a new one. The page fits a phone."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import Page, expect

from core.models import Role
from tests.e2e.conftest import RESULTS, login
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def api_me(base_url: str, key: str) -> tuple[int, dict]:
    request = urllib.request.Request(f"{base_url}/api/v1/me/", headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_token_is_made_copied_used_and_revoked_with_the_keyboard(page: Page, live_server: object) -> None:
    user = UserFactory(role=Role.LEARNER, username="lena")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    login(page, user.username, PASSWORD)
    page.goto("/accounts/profile/")
    page.get_by_test_id("profile-api-tokens").click()

    page.get_by_label("Name").focus()
    page.keyboard.type("my laptop")
    page.keyboard.press("Enter")
    key_box = page.get_by_test_id("new-token-key")
    expect(key_box).to_be_focused()  # the one-time key is where the keyboard lands
    key = key_box.input_value()
    assert key.startswith("aca_")

    page.keyboard.press("Tab")
    copy = page.get_by_role("button", name="Copy the token")
    expect(copy).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#copy-status")).to_have_text("Copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == key

    status, body = api_me(live_server.url, key)
    assert (status, body["username"]) == (200, "lena")

    page.goto("/accounts/tokens/")
    expect(page.get_by_test_id("new-token")).to_have_count(0)  # shown once only
    expect(page.get_by_test_id("token-row")).to_contain_text(key[:12])
    page.get_by_test_id("token-revoke").focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Revoke the token").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("token-row")).to_contain_text("revoked")

    status, body = api_me(live_server.url, key)
    assert status == 401
    assert body["detail"] == f"Invalid or revoked API token. Create a new one at {live_server.url}/accounts/tokens/."


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_tokens_page_fits_a_phone(page: Page, language: str) -> None:
    user = UserFactory(role=Role.LEARNER, preferred_language=language)
    page.set_viewport_size({"width": 360, "height": 740})
    login(page, user.username, PASSWORD)
    page.goto("/accounts/tokens/")
    page.locator("#id_name").fill("a phone with a rather long name for a token, to see it wrap")
    page.locator("[data-testid=token-create] button[type=submit]").click()
    expect(page.get_by_test_id("new-token-key")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the phone"
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / f"api-tokens-phone-{language}.png"), full_page=True)
