"""Each role signs in through a real browser and lands on its own home page, in both languages."""

import pytest
from playwright.sync_api import Page, expect

from core.models import Role
from tests.e2e.conftest import login
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROLE_LABELS = {
    Role.LEARNER: ("Learner", "学员"),
    Role.MENTOR: ("Mentor", "导师"),
    Role.ADMIN: ("Administrator", "管理员"),
}


@pytest.mark.parametrize("role", list(ROLE_LABELS))
def test_each_role_signs_in_and_sees_its_home_in_english_then_chinese(page: Page, role: str) -> None:
    user = UserFactory(role=role, display_name=f"Test {role}")
    english, chinese = ROLE_LABELS[role]

    login(page, user.username, PASSWORD)
    expect(page.get_by_test_id("home-title")).to_have_text(f"Welcome back, Test {role}")
    expect(page.get_by_test_id("home-role")).to_have_text(english)

    page.get_by_test_id("lang-zh-hans").click()
    expect(page.get_by_test_id("home-title")).to_have_text(f"欢迎回来，Test {role}")
    expect(page.get_by_test_id("home-role")).to_have_text(chinese)
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")

    # The choice is saved to the profile: signing in afresh, without the cookie, opens in Chinese.
    page.get_by_role("button", name="退出").click()
    page.context.clear_cookies()
    login(page, user.username, PASSWORD)
    expect(page.get_by_test_id("home-role")).to_have_text(chinese)


def test_the_navigation_collapses_into_a_menu_on_a_phone(page: Page) -> None:
    user = UserFactory(role=Role.LEARNER)
    page.set_viewport_size({"width": 375, "height": 740})
    login(page, user.username, PASSWORD)
    expect(page.get_by_test_id("nav-profile")).to_be_hidden()
    page.get_by_test_id("nav-toggle").click()
    expect(page.get_by_test_id("nav-profile")).to_be_visible()
