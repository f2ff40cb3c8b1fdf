"""The site's cache (core.cache): fails open and remembers it, clears only its own keys, and
forgets or bumps at once and again at commit. Pages render right without it."""

from __future__ import annotations

import re
import socket
import uuid
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import Client

from core.cache import GENERATION_PREFIX, ResilientRedisCache, cache_bump, cache_forget, cache_generations
from core.models import Role
from notifications.services import notify
from tests.factories import PASSWORD, UserFactory


@pytest.fixture
def silent_server() -> Iterator[socket.socket]:
    """A port that accepts connections and never answers, like a hung Redis."""
    server = socket.create_server(("127.0.0.1", 0), backlog=64)
    yield server
    server.close()


def connections_made(server: socket.socket) -> int:
    server.settimeout(0.2)
    made = 0
    try:
        while True:
            server.accept()[0].close()
            made += 1
    except TimeoutError:
        return made


def unused_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]


def cache_at(location: str, prefix: str) -> ResilientRedisCache:
    return ResilientRedisCache(location, {"KEY_PREFIX": prefix})


def test_an_unreachable_cache_answers_like_an_empty_one() -> None:
    down = cache_at(f"redis://127.0.0.1:{unused_port()}/0", "down")
    down.set("key", "value")
    assert down.get("key") is None and down.get("key", "fallback") == "fallback"
    assert down.get_many(["key"]) == {} and down.add("key", 1) is False and down.delete("key") is False


def test_a_hung_cache_is_asked_once_then_remembered_as_down(silent_server: socket.socket) -> None:
    hung = cache_at(f"redis://127.0.0.1:{silent_server.getsockname()[1]}/0", "hung")
    for _ in range(20):
        assert hung.get("key", "fallback") == "fallback"
        hung.set("key", "value")
    assert connections_made(silent_server) == 1


@pytest.mark.django_db
def test_pages_render_right_and_the_cache_is_tried_once_while_it_hangs(
    silent_server: socket.socket, settings: object
) -> None:
    mentor = UserFactory(role=Role.MENTOR)
    notify(user=mentor, kind="deadline", title="soon")
    notify(user=mentor, kind="deadline", title="sooner")
    location = f"redis://127.0.0.1:{silent_server.getsockname()[1]}/0"
    settings.CACHES = {"default": {"BACKEND": "core.cache.ResilientRedisCache", "LOCATION": location}}

    client = Client()
    assert client.login(username=mentor.username, password=PASSWORD)
    for _ in range(3):
        response = client.get("/")
        assert "home/home_mentor.html" in [t.name for t in response.templates]
        assert re.search(r'data-testid="unread-count">2<', response.content.decode())
    client.post("/notifications/read-all/")
    assert 'data-testid="unread-count"' not in client.get("/").content.decode()
    assert connections_made(silent_server) == 1


def test_clear_removes_only_this_caches_own_keys(settings: object) -> None:
    location = settings.CACHES["default"]["LOCATION"]
    mine, theirs = cache_at(location, f"mine-{uuid.uuid4()}"), cache_at(location, f"theirs-{uuid.uuid4()}")
    mine.set("key", "mine")
    theirs.set("key", "theirs")
    mine.clear()
    assert mine.get("key") is None and theirs.get("key") == "theirs"
    theirs.clear()


def test_a_generation_lost_to_eviction_comes_back_as_a_number_never_used_before() -> None:
    first = cache_generations("thing")["thing"]
    assert first and cache_generations("thing")["thing"] == first  # stable while kept
    cache.delete(GENERATION_PREFIX + "thing")  # as an eviction would
    second = cache_generations("thing")["thing"]
    assert second > first


def test_new_generations_keep_the_number_another_process_set_first() -> None:
    cache.set(GENERATION_PREFIX + "taken", 42, None)  # another process added it a moment ago
    numbers = cache_generations("taken", "fresh-a", "fresh-b")
    assert numbers["taken"] == 42
    assert numbers["fresh-a"] > 42 and numbers["fresh-b"] > 42
    assert cache_generations("taken", "fresh-a", "fresh-b") == numbers  # kept: no second number


@pytest.mark.django_db
def test_cache_forget_forgets_at_once_and_again_when_the_transaction_commits(
    django_capture_on_commit_callbacks: object,
) -> None:
    cache.set("key", "old")
    with django_capture_on_commit_callbacks(execute=True):
        cache_forget("key")
        assert cache.get("key") is None
        cache.set("key", "read by another request before the commit")
    assert cache.get("key") is None


@pytest.mark.django_db
def test_cache_bump_changes_the_generation_at_once_and_again_when_the_transaction_commits(
    django_capture_on_commit_callbacks: object,
) -> None:
    before = cache_generations("thing")["thing"]
    with django_capture_on_commit_callbacks(execute=True):
        cache_bump("thing")
        during = cache_generations("thing")["thing"]
        assert during != before
    assert cache_generations("thing")["thing"] not in (before, during)
