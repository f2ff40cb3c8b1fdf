"""Long lists come a page at a time, the filters kept: catalog, review queue, gradebook."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from config.scale_data import scale_data_generate
from core.models import User
from courses.views import CATALOG_PAGE_SIZE
from grading.views import GRADEBOOK_PAGE_SIZE
from mentorship.views import QUEUE_PAGE_SIZE

pytestmark = pytest.mark.django_db


@pytest.fixture
def big(admin_user: User) -> None:
    scale_data_generate(learners=60, courses=30, runs=120, password="pw-long-lists-1")


def _as(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def _count(html: str, pattern: str) -> int:
    return len(re.findall(pattern, html))


def test_the_catalog_shows_a_page_of_courses_and_the_paths_once(big: None) -> None:
    client = _as("scale-learner-00000")
    first = client.get("/courses/").content.decode()
    assert _count(first, r'class="card course-card"') == CATALOG_PAGE_SIZE
    assert "page 1 of 2" in first and 'rel="next"' in first and "Learning paths" in first
    second = client.get("/courses/?page=2").content.decode()
    assert _count(second, r'class="card course-card"') == 30 - CATALOG_PAGE_SIZE
    assert "Learning paths" not in second  # the paths head the first page only
    # A search keeps its words on the next page's link.
    searched = client.get("/courses/?q=generated").content.decode()
    assert 'href="?q=generated&amp;page=2"' in searched


def test_a_page_number_out_of_range_shows_the_last_page(big: None) -> None:
    response = _as("scale-learner-00000").get("/courses/?page=99")
    assert response.status_code == 200 and "page 2 of 2" in response.content.decode()
    assert _as("scale-learner-00000").get("/courses/?page=abc").status_code == 200


def test_the_review_queue_pages_oldest_first(big: None) -> None:
    client = _as("scale-mentor-00000")
    html = client.get("/mentoring/queue/").content.decode()
    shown = _count(html, r'data-testid="queue-run-')
    assert shown == QUEUE_PAGE_SIZE and 'rel="next"' in html
    later = client.get("/mentoring/queue/?page=2").content.decode()
    first_ids = set(re.findall(r'data-testid="queue-run-(\d+)"', html))
    assert first_ids.isdisjoint(re.findall(r'data-testid="queue-run-(\d+)"', later))


def test_the_gradebook_pages_its_learners(big: None, admin_user: User) -> None:
    client = Client()
    client.force_login(admin_user)
    html = client.get("/cohorts/scale-cohort-000/gradebook/").content.decode()
    assert _count(html, r'data-testid="gradebook-row-') == GRADEBOOK_PAGE_SIZE
    rest = client.get("/cohorts/scale-cohort-000/gradebook/?page=2").content.decode()
    assert _count(rest, r'data-testid="gradebook-row-') == 60 - GRADEBOOK_PAGE_SIZE
