"""Notifications: email after commit, the page and its badge, email preferences, the API."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.mail import EmailMessage
from django.db import transaction
from django.test import Client, RequestFactory
from django.utils import timezone, translation
from django.utils.translation import gettext
from rest_framework.test import APIClient

from core.models import NotificationKind, User
from core.templatetags.platform_tags import time_ago
from notifications import context_processors
from notifications.models import Notification
from notifications.services import notify

RUN = NotificationKind.RUN_FINISHED
DEADLINE = NotificationKind.DEADLINE


def notes_for(user: User, *titles: str, kind: str = RUN) -> list[Notification]:
    return [notify(user=user, kind=kind, title=title, url=f"/labs/{i}/") for i, title in enumerate(titles)]


def unread(user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


# --- notify and email --------------------------------------------------------------------


@pytest.mark.django_db
def test_notify_emails_only_once_the_transaction_commits(
    learner: User, mailoutbox: list[EmailMessage], django_capture_on_commit_callbacks: object, settings: object
) -> None:
    settings.SITE_URL = "https://academy.example"
    with django_capture_on_commit_callbacks(execute=True):
        notification = notify(user=learner, kind=RUN, title="tiny: score 0.9 — passed", url="/labs/runs/7/")
        assert mailoutbox == []  # not before the commit
    [message] = mailoutbox
    assert (message.subject, message.to) == ("tiny: score 0.9 — passed", [learner.email])
    assert "https://academy.example/labs/runs/7/" in message.body
    notification.refresh_from_db()
    assert notification.emailed and notification.read_at is None


@pytest.mark.django_db
def test_a_kind_turned_off_is_shown_on_the_site_but_not_emailed(
    learner: User, mailoutbox: list[EmailMessage], django_capture_on_commit_callbacks: object
) -> None:
    learner.email_off = [RUN]
    learner.save()
    with django_capture_on_commit_callbacks(execute=True):
        notify(user=learner, kind=RUN, title="run over")
        notify(user=learner, kind=DEADLINE, title="deadline soon")
    assert [m.subject for m in mailoutbox] == ["deadline soon"]
    assert unread(learner) == 2


@pytest.mark.django_db
def test_nothing_is_emailed_or_kept_when_the_transaction_rolls_back(
    learner: User, mailoutbox: list[EmailMessage], django_capture_on_commit_callbacks: object
) -> None:
    def failing_action() -> None:
        with transaction.atomic():
            notify(user=learner, kind=RUN, title="never happened")
            raise RuntimeError("the action failed")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        failing_action()
    assert callbacks == [] and mailoutbox == []
    assert not Notification.objects.exists()


# --- pages -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_lists_only_my_notifications_newest_first_with_unread_ones_highlighted(
    client: Client, learner: User, other_learner: User
) -> None:
    older, newer = notes_for(learner, "older news", "newer news")
    notes_for(other_learner, "someone else's news")
    older.read_at = older.created_at
    older.save()
    client.force_login(learner)

    html = client.get("/notifications/").content.decode()

    assert html.index("newer news") < html.index("older news")
    assert "someone else" not in html
    unread_items = re.findall(r'<li class="notification [^"]*\bunread\b[^"]*">\s*<a href="([^"]+)"', html)
    assert unread_items == [f"/notifications/{newer.pk}/open"]


def shown_times(html: str) -> list[str]:
    return re.findall(r'<time datetime="[^"]+" title="[^"]+">([^<]+)</time>', html)


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "hours_ago"), [("en", "3\xa0hours ago"), ("zh-hans", "3\xa0小时前")])
def test_a_fresh_notification_says_just_now_and_an_older_one_how_long_ago(
    client: Client, learner: User, language: str, hours_ago: str
) -> None:
    learner.preferred_language = language
    learner.save(update_fields=["preferred_language"])
    old, _fresh = notes_for(learner, "old", "fresh")
    Notification.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=3))
    client.force_login(learner)

    html = client.get("/notifications/").content.decode()

    fresh_time, old_time = shown_times(html)
    assert fresh_time != old_time == hours_ago
    with translation.override(language):
        assert fresh_time == gettext("just now")
    assert "0\xa0" not in fresh_time  # not "0 minutes ago"


@pytest.mark.django_db
def test_time_ago_says_just_now_under_a_minute_and_even_a_little_ahead() -> None:
    now = timezone.now()
    with translation.override("en"):  # a request before may have left another language active
        assert [time_ago(now + timedelta(seconds=s)) for s in (5, 0, -50)] == ["just now"] * 3
        assert time_ago(now - timedelta(seconds=90)) == "1\xa0minute ago"


@pytest.mark.django_db
def test_opening_a_notification_marks_it_read_and_follows_its_link(client: Client, learner: User) -> None:
    [notification] = notes_for(learner, "tiny: failed")
    client.force_login(learner)

    response = client.get(f"/notifications/{notification.pk}/open")

    assert (response.status_code, response.url) == (302, "/labs/0/")
    notification.refresh_from_db()
    first_read = notification.read_at
    assert first_read is not None
    client.get(f"/notifications/{notification.pk}/open")
    notification.refresh_from_db()
    assert notification.read_at == first_read  # the first read time is kept


@pytest.mark.django_db
def test_another_users_notification_is_not_found(client: Client, learner: User, other_learner: User) -> None:
    [theirs] = notes_for(other_learner, "private")
    client.force_login(learner)
    assert client.get(f"/notifications/{theirs.pk}/open").status_code == 404
    assert unread(other_learner) == 1


@pytest.mark.django_db
def test_a_link_off_the_site_is_not_followed(client: Client, learner: User) -> None:
    notification = notify(user=learner, kind=RUN, title="odd", url="https://evil.example/")
    client.force_login(learner)
    assert client.get(f"/notifications/{notification.pk}/open").url == "/notifications/"


@pytest.mark.django_db
def test_mark_all_as_read_marks_only_mine(client: Client, learner: User, other_learner: User) -> None:
    notes_for(learner, "a", "b")
    notes_for(other_learner, "c")
    client.force_login(learner)
    assert client.get("/notifications/read-all/").status_code == 405

    response = client.post("/notifications/read-all/")

    assert response.url == "/notifications/"
    assert (unread(learner), unread(other_learner)) == (0, 1)
    assert 'data-testid="mark-all-read"' not in client.get("/notifications/").content.decode()


@pytest.mark.django_db
def test_the_pages_need_a_signed_in_user(client: Client) -> None:
    assert client.get("/notifications/").url.startswith("/accounts/login/")
    assert client.post("/notifications/read-all/").url.startswith("/accounts/login/")


@pytest.mark.django_db
def test_the_navigation_shows_the_unread_count_as_a_badge(client: Client, learner: User, other_learner: User) -> None:
    notes_for(learner, "a", "b", "c")
    notes_for(other_learner, "d")
    Notification.objects.filter(user=learner, title="a").update(read_at="2025-01-01T00:00Z")
    client.force_login(learner)

    html = client.get("/").content.decode()
    assert 'href="/notifications/"' in html
    assert re.search(r'data-testid="unread-count">2<', html)

    client.post("/notifications/read-all/")
    assert 'data-testid="unread-count"' not in client.get("/").content.decode()


@pytest.mark.django_db
def test_the_badge_costs_one_count_query_and_none_for_visitors(
    learner: User, django_assert_num_queries: object
) -> None:
    notes_for(learner, "a", "b")
    request = RequestFactory().get("/")
    request.user = learner
    context = context_processors.unread(request)
    with django_assert_num_queries(1) as captured:
        assert str(context["unread_notifications"]) == "2"
    assert "COUNT(" in captured.captured_queries[0]["sql"].upper()

    request.user = AnonymousUser()
    with django_assert_num_queries(0):
        assert not context_processors.unread(request)["unread_notifications"]


# --- profile -----------------------------------------------------------------------------


def checked_kinds(html: str) -> set[str]:
    inputs = re.findall(r'<input type="checkbox" name="email_kinds" value="(\w+)"([^>]*)>', html)
    assert {value for value, _ in inputs} == set(NotificationKind.values)
    return {value for value, attrs in inputs if "checked" in attrs}


@pytest.mark.django_db
def test_the_profile_shows_a_checked_box_for_each_kind_that_is_emailed(client: Client, learner: User) -> None:
    learner.email_off = [DEADLINE]
    learner.save()
    client.force_login(learner)
    html = client.get("/accounts/profile/").content.decode()
    assert checked_kinds(html) == set(NotificationKind.values) - {DEADLINE}
    assert 'name="nickname"' in html and 'name="show_nickname"' in html


@pytest.mark.django_db
def test_the_profile_saves_email_choices_inverted_and_the_leaderboard_nickname(
    client: Client, learner: User, mailoutbox: list[EmailMessage], django_capture_on_commit_callbacks: object
) -> None:
    client.force_login(learner)
    response = client.post(
        "/accounts/profile/",
        {
            "display_name": "Lena",
            "email": learner.email,
            "preferred_language": "en",
            "nickname": "gradient-gal",
            "show_nickname": "on",
            "email_kinds": [RUN, NotificationKind.REVIEW_POSTED],
        },
    )
    assert response.status_code == 302
    learner.refresh_from_db()
    assert learner.email_off == [DEADLINE, NotificationKind.JOB_FINISHED, NotificationKind.CHALLENGE_REVEALED]
    assert learner.public_name == "gradient-gal"
    assert checked_kinds(client.get("/accounts/profile/").content.decode()) == {RUN, NotificationKind.REVIEW_POSTED}

    with django_capture_on_commit_callbacks(execute=True):
        notify(user=learner, kind=DEADLINE, title="quiet")
        notify(user=learner, kind=RUN, title="loud")
    assert [m.subject for m in mailoutbox] == ["loud"]


@pytest.mark.django_db
def test_unchecking_every_box_turns_all_email_off(client: Client, learner: User) -> None:
    client.force_login(learner)
    client.post("/accounts/profile/", {"display_name": "Lena", "email": learner.email, "preferred_language": "en"})
    learner.refresh_from_db()
    assert learner.email_off == list(NotificationKind.values)
    assert learner.show_nickname is False


# --- API ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_lists_my_notifications_newest_first_and_filters_unread(
    api: APIClient, learner: User, other_learner: User
) -> None:
    first, second = notes_for(learner, "first", "second")
    notes_for(other_learner, "not mine")
    Notification.objects.filter(pk=first.pk).update(read_at="2025-01-01T00:00Z")

    body = api.get("/api/v1/notifications/").json()
    assert [n["title"] for n in body["results"]] == ["second", "first"]
    assert body["results"][0]["kind"] == RUN and body["results"][0]["kind_label"] == "a run finished"
    assert [n["id"] for n in api.get("/api/v1/notifications/", {"unread": "true"}).json()["results"]] == [second.pk]
    assert [n["id"] for n in api.get("/api/v1/notifications/", {"unread": "false"}).json()["results"]] == [first.pk]


@pytest.mark.django_db
def test_the_api_marks_one_of_mine_read_and_refuses_anyone_elses(
    api: APIClient, learner: User, other_learner: User
) -> None:
    [mine] = notes_for(learner, "mine")
    [theirs] = notes_for(other_learner, "theirs")

    response = api.post(f"/api/v1/notifications/{mine.pk}/read/")
    assert response.status_code == 200 and response.json()["read_at"] is not None
    assert api.post(f"/api/v1/notifications/{theirs.pk}/read/").status_code == 404
    assert (unread(learner), unread(other_learner)) == (0, 1)


@pytest.mark.django_db
def test_the_api_marks_all_of_mine_read(api: APIClient, learner: User, other_learner: User) -> None:
    notes_for(learner, "a", "b")
    notes_for(other_learner, "c")
    assert api.post("/api/v1/notifications/read-all/").json() == {"marked": 2}
    assert api.post("/api/v1/notifications/read-all/").json() == {"marked": 0}
    assert unread(other_learner) == 1


@pytest.mark.django_db
def test_the_notifications_api_needs_authentication() -> None:
    anonymous = APIClient()
    assert anonymous.get("/api/v1/notifications/").status_code in (401, 403)
    assert anonymous.post("/api/v1/notifications/read-all/").status_code in (401, 403)


@pytest.mark.django_db
def test_the_unread_count_api_answers_mine_with_one_count_query_and_no_caching(
    learner: User, other_learner: User, django_assert_num_queries: object
) -> None:
    notes_for(learner, "a", "b")
    notes_for(other_learner, "c")
    client = APIClient()
    client.force_authenticate(learner)  # no session or token lookups: only the view's own queries

    with django_assert_num_queries(1) as captured:
        response = client.get("/api/v1/notifications/unread-count/")

    assert response.json() == {"unread": 2}
    assert "COUNT(" in captured.captured_queries[0]["sql"].upper()
    assert "no-store" in response["Cache-Control"]
    client.post("/api/v1/notifications/read-all/")
    assert client.get("/api/v1/notifications/unread-count/").json() == {"unread": 0}


@pytest.mark.django_db
def test_the_unread_count_api_tells_visitors_nothing() -> None:
    response = APIClient().get("/api/v1/notifications/unread-count/")
    assert response.status_code in (401, 403) and "unread" not in response.json()


@pytest.mark.django_db
def test_the_badge_sits_in_a_live_region_that_the_script_polls(client: Client, learner: User, settings: object) -> None:
    settings.NOTIFICATIONS_POLL_SECONDS = 7
    client.force_login(learner)
    html = client.get("/").content.decode()

    [region] = re.findall(r'<span class="unread-live"[^>]*>', html)
    assert 'aria-live="polite"' in region
    assert 'data-unread-url="/api/v1/notifications/unread-count/"' in region
    assert 'data-poll-seconds="7"' in region and 'data-unread-label="unread"' in region
    assert re.search(r'<script src="[^"]*/js/notifications\.js" defer></script>', html)
    assert "notifications.js" not in Client().get("/").content.decode()  # visitors have no badge to poll


@pytest.mark.django_db
def test_me_api_sets_email_preferences_and_nickname(api: APIClient, learner: User) -> None:
    response = api.patch(
        "/api/v1/me/",
        {"email_off": [DEADLINE, RUN, DEADLINE], "nickname": "gradient-gal", "show_nickname": True},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["email_off"] == [RUN, DEADLINE]  # known order, no repeats
    learner.refresh_from_db()
    assert (learner.email_off, learner.public_name) == ([RUN, DEADLINE], "gradient-gal")

    assert api.patch("/api/v1/me/", {"email_off": ["spam"]}, format="json").status_code == 400
    assert api.patch("/api/v1/me/", {"email_off": []}, format="json").json()["email_off"] == []


@pytest.mark.django_db
def test_the_schema_documents_the_notifications_api(api: APIClient) -> None:
    paths = api.get("/api/schema/", {"format": "json"}).json()["paths"]
    assert {
        "/api/v1/notifications/",
        "/api/v1/notifications/{notification_id}/read/",
        "/api/v1/notifications/read-all/",
        "/api/v1/notifications/unread-count/",
    } <= set(paths)
    assert "unread" in {p["name"] for p in paths["/api/v1/notifications/"]["get"]["parameters"]}
