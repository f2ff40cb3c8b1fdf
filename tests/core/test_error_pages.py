"""A missing page (404) and a refused one (403) are the site's own pages, in the reader's language,
with its navigation and a way home (Django's bare defaults are English only)."""

from __future__ import annotations

import pytest
from django.test import Client

from core.models import User


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_missing_page_is_the_sites_own_in_the_readers_language(client: Client, language: str) -> None:
    client.cookies["django_language"] = language
    response = client.get("/courses/no-such-course/")
    assert response.status_code == 404
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    assert 'data-testid="not-found"' in html
    assert 'data-testid="nav-courses"' in html  # the site's navigation


@pytest.mark.django_db
def test_a_refused_page_is_the_sites_own(client: Client, learner: User) -> None:
    client.force_login(learner)
    response = client.get("/cohorts/")  # administrators only
    assert response.status_code == 403
    html = response.content.decode()
    assert 'data-testid="not-allowed"' in html
    assert 'data-testid="nav-profile"' in html
