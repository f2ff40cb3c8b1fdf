"""Pages and their stream of change hints (core.live, static/js/live.js): every page loads live.js
once; a signed-in viewer's token grants their own topic and the topics the page's view authorized,
nothing else; the Content-Security-Policy lets the page reach the events server's own port."""

from __future__ import annotations

import pytest
from django.test import Client

from core.models import User
from tests.live import page_topics


@pytest.mark.django_db
def test_a_signed_in_page_follows_only_its_viewers_own_topic(client: Client, learner: User) -> None:
    client.force_login(learner)
    assert page_topics(client.get("/").content.decode()) == [f"user:{learner.pk}"]
    assert page_topics(client.get("/notifications/").content.decode()) == [f"user:{learner.pk}"]


@pytest.mark.django_db
def test_a_signed_out_visitor_gets_the_script_but_no_token(client: Client) -> None:
    html = client.get("/labs/").content.decode()
    assert page_topics(html) is None  # live.js is there for the page scripts; it opens no stream
    assert "data-user-topic" not in html


@pytest.mark.django_db
def test_the_script_comes_before_the_page_scripts(client: Client, learner: User) -> None:
    client.force_login(learner)
    html = client.get("/").content.decode()
    assert html.index("js/live.") < html.index("js/notifications.")


@pytest.mark.django_db
def test_the_policy_allows_the_events_port_of_the_requests_own_host(
    client: Client, learner: User, settings: object
) -> None:
    settings.LIVE_EVENTS_PORT = 8001
    settings.ALLOWED_HOSTS = ["academy.example", "testserver"]
    client.force_login(learner)
    html = client.get("/", HTTP_HOST="academy.example:8000")
    assert 'data-port="8001"' in html.content.decode()
    assert "connect-src 'self' http://academy.example:8001;" in html.headers["Content-Security-Policy"]
    secure = client.get("/labs/", HTTP_HOST="academy.example", secure=True)
    assert "connect-src 'self' https://academy.example:8001;" in secure.headers["Content-Security-Policy"]


@pytest.mark.django_db
def test_the_policy_is_unchanged_when_the_stream_is_on_the_pages_own_origin(client: Client, settings: object) -> None:
    settings.LIVE_EVENTS_PORT = 0
    response = client.get("/labs/")
    assert response.headers["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY
    assert 'data-port="0"' in response.content.decode()


@pytest.mark.django_db
def test_a_host_django_refuses_gets_the_policy_as_it_is(client: Client, settings: object) -> None:
    settings.LIVE_EVENTS_PORT = 8001
    response = client.get("/labs/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response.headers["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY
