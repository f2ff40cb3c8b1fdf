"""Sessions (core.sessions): read from the cache, written through to the database, kept in the
cache for minutes at most, and gone from both at sign-out."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client

from core.models import User
from core.sessions import SESSION_CACHE_SECONDS, SessionStore

pytestmark = pytest.mark.django_db


def cached_seconds_left(session_key: str) -> int:
    redis = cache._cache.get_client(None)  # the Redis client under Django's cache, for the key's TTL
    return redis.ttl(cache.make_key(SessionStore.cache_key_prefix + session_key))


def test_a_session_is_kept_in_the_cache_for_minutes_though_it_lives_for_weeks(client: Client, learner: User) -> None:
    client.force_login(learner)
    key = client.session.session_key
    assert settings.SESSION_COOKIE_AGE > SESSION_CACHE_SECONDS
    assert 0 < cached_seconds_left(key) <= SESSION_CACHE_SECONDS
    assert Session.objects.filter(session_key=key).exists()


def test_a_page_reads_its_session_from_the_cache(
    client: Client, learner: User, django_assert_num_queries: object
) -> None:
    client.force_login(learner)
    client.get("/accounts/profile/")
    with django_assert_num_queries(0):
        assert client.get("/accounts/profile/").status_code == 200


def test_signing_out_removes_the_session_from_the_cache_and_the_database(client: Client, learner: User) -> None:
    client.force_login(learner)
    key = client.session.session_key
    client.get("/accounts/profile/")
    assert cache.get(SessionStore.cache_key_prefix + key) is not None

    client.post("/accounts/logout/")
    assert cache.get(SessionStore.cache_key_prefix + key) is None
    assert not Session.objects.filter(session_key=key).exists()
    assert client.get("/accounts/profile/").url.startswith("/accounts/login/")
