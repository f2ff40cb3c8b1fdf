"""The unread badge is cached per user and is right on the very next request after any change:
a notification made here or in another process, opened, marked read (one or all, page or API),
edited or deleted."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from core.cache import cache_generations
from core.models import NotificationKind, User
from notifications.services import notifications_unread_count, notify
from tests.conftest import REPO, test_database_url

DEADLINE = NotificationKind.DEADLINE


def badge(client: Client) -> int:
    found = re.search(r'data-testid="unread-count">(\d+)<', client.get("/accounts/profile/").content.decode())
    return int(found.group(1)) if found else 0


def polled(client: Client) -> int:
    return client.get("/api/v1/notifications/unread-count/").json()["unread"]


@pytest.fixture
def signed_in(client: Client, learner: User) -> Client:
    client.force_login(learner)
    return client


@pytest.mark.django_db
def test_the_badge_and_its_poll_share_one_count_query_until_something_changes(
    signed_in: Client, learner: User, django_assert_num_queries: object
) -> None:
    notify(user=learner, kind=DEADLINE, title="soon")
    assert badge(signed_in) == 1
    with django_assert_num_queries(0):
        assert badge(signed_in) == 1
        assert polled(signed_in) == 1
    notify(user=learner, kind=DEADLINE, title="sooner")
    assert polled(signed_in) == badge(signed_in) == 2


@pytest.mark.django_db
def test_opening_one_or_marking_all_read_updates_the_badge_on_the_next_request(
    signed_in: Client, learner: User
) -> None:
    first, _, _ = (notify(user=learner, kind=DEADLINE, title=t, url="/labs/") for t in "abc")
    assert badge(signed_in) == 3
    signed_in.get(f"/notifications/{first.pk}/open")
    assert badge(signed_in) == polled(signed_in) == 2
    signed_in.post("/notifications/read-all/")
    assert badge(signed_in) == polled(signed_in) == 0


@pytest.mark.django_db
def test_marking_read_through_the_api_updates_the_polled_count(learner: User) -> None:
    api = APIClient()
    api.force_login(learner)
    one, _ = notify(user=learner, kind=DEADLINE, title="a"), notify(user=learner, kind=DEADLINE, title="b")
    assert polled(api) == 2
    api.post(f"/api/v1/notifications/{one.pk}/read/")
    assert polled(api) == 1
    api.post("/api/v1/notifications/read-all/")
    assert polled(api) == 0


@pytest.mark.django_db
def test_a_notification_edited_or_deleted_elsewhere_updates_the_badge(signed_in: Client, learner: User) -> None:
    one, two = notify(user=learner, kind=DEADLINE, title="a"), notify(user=learner, kind=DEADLINE, title="b")
    assert badge(signed_in) == 2
    one.read_at = timezone.now()
    one.save()  # as the admin's change form does
    assert badge(signed_in) == 1
    two.delete()
    assert badge(signed_in) == 0


@pytest.mark.django_db
def test_a_count_read_before_a_change_and_stored_after_it_is_never_served(learner: User) -> None:
    name = f"unread:{learner.pk}"
    old_generation = cache_generations(name)[name]
    notify(user=learner, kind=DEADLINE, title="a")
    cache.set(f"{name}:{old_generation}", 0, 300)  # a slow request's count, read before the notification
    assert notifications_unread_count(user=learner) == 1


NOTIFY_SCRIPT = """
import sys, django
django.setup()
from core.models import User
from notifications.services import notify
notify(user=User.objects.get(pk=int(sys.argv[1])), kind="deadline", title="from another process")
"""


@pytest.mark.django_db(transaction=True)
def test_a_notification_made_by_another_process_shows_on_the_next_request(signed_in: Client, learner: User) -> None:
    assert badge(signed_in) == 0
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": test_database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,  # and so the same cache (and key prefix: VAR_DIR)
    }
    subprocess.run([sys.executable, "-c", NOTIFY_SCRIPT, str(learner.pk)], env=env, cwd=REPO, check=True, timeout=60)
    assert badge(signed_in) == 1
