"""Sign-in is locked after repeated wrong passwords — per username and per address."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from core.models import User
from tests.factories import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_fresh_cache")]


def attempt(client: Client, username: str, password: str, ip: str = "10.0.0.1") -> str:
    response = client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)
    return "ok" if response.status_code == 302 else response.content.decode()


@override_settings(LOGIN_MAX_FAILURES=3)
def test_three_wrong_passwords_lock_the_account_even_for_the_right_one(client: Client, learner: User) -> None:
    for _ in range(3):
        assert "username and password didn't match" in attempt(client, learner.username, "wrong")
    page = attempt(client, learner.username, PASSWORD)
    assert "Too many failed sign-ins. Try again in 15 minutes" in page
    assert "_auth_user_id" not in client.session


@override_settings(LOGIN_MAX_FAILURES=3)
def test_a_successful_sign_in_clears_the_count(client: Client, learner: User) -> None:
    for _ in range(2):
        attempt(client, learner.username, "wrong")
    assert attempt(client, learner.username, PASSWORD) == "ok"
    client.logout()
    for _ in range(2):
        attempt(client, learner.username, "wrong", ip="10.0.0.2")
    assert attempt(client, learner.username, PASSWORD, ip="10.0.0.3") == "ok"


@override_settings(LOGIN_MAX_FAILURES=3)
def test_one_address_guessing_many_usernames_is_locked(client: Client, learner: User) -> None:
    for n in range(3):
        attempt(client, f"nobody{n}", "guess", ip="10.9.9.9")
    assert "Too many failed sign-ins" in attempt(client, learner.username, PASSWORD, ip="10.9.9.9")
    assert attempt(client, learner.username, PASSWORD, ip="10.1.1.1") == "ok"  # another address is not


@override_settings(LOGIN_MAX_FAILURES=2, LOGIN_LOCK_SECONDS=1)
def test_the_lock_ends_after_the_window(client: Client, learner: User) -> None:
    import time

    for _ in range(2):
        attempt(client, learner.username, "wrong")
    assert "Too many failed sign-ins" in attempt(client, learner.username, PASSWORD)
    time.sleep(1.1)
    assert attempt(client, learner.username, PASSWORD) == "ok"


def test_the_lock_message_is_translated(client: Client, learner: User) -> None:
    client.cookies["django_language"] = "zh-hans"
    with override_settings(LOGIN_MAX_FAILURES=1):
        attempt(client, learner.username, "wrong")
        assert "登录失败次数过多" in attempt(client, learner.username, PASSWORD)


def test_an_unreachable_cache_does_not_lift_the_lock(client: Client, learner: User) -> None:
    from tests.core.test_cache import unused_port

    away = {
        "default": {"BACKEND": "core.cache.ResilientRedisCache", "LOCATION": f"redis://127.0.0.1:{unused_port()}/0"}
    }
    with override_settings(CACHES=away, LOGIN_MAX_FAILURES=3):  # the shared cache fails open: no counts kept there
        for _ in range(3):
            attempt(client, learner.username, "wrong")
        assert "Too many failed sign-ins" in attempt(client, learner.username, PASSWORD)
