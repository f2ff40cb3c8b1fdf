"""Catalog, path, course and lesson pages run a fixed number of SQL queries, whatever the number of
courses, lessons and enrollments: each page is measured on a small and on a ten-times larger
curriculum, and the counts must be equal."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core.models import Role, User
from courses.models import Course, Enrollment, LearningPath, LessonCompletion, PathCourse, Tag
from tests.factories import PathFactory, UserFactory, course_with_lessons


def build_curriculum(*, courses: int, lessons_per_module: int, learners: int, reader: User) -> LearningPath:
    """``courses`` courses of two modules, all in one path, tagged, each requiring the one before;
    ``reader`` and ``learners`` others enrolled everywhere with half the lessons done."""
    tags = [Tag.objects.create(slug=f"tag-{n}", name_en=f"Tag {n}", name_zh=f"标签 {n}") for n in range(3)]
    others = [UserFactory(role=Role.LEARNER) for _ in range(learners)]
    path = PathFactory(slug="big-path")
    previous: Course | None = None
    for n in range(courses):
        course = course_with_lessons(modules=2, lessons_per_module=lessons_per_module, slug=f"c{n}")
        course.tags.set(tags[: 1 + n % 3])
        if previous is not None:
            course.prerequisites.add(previous)
        PathCourse.objects.create(path=path, course=course, position=n + 1)
        lessons = list(course.lessons.order_by("position"))
        people = [reader, *others]
        # Prerequisites are half done here: enroll without the check (the budget is about reads).
        Enrollment.objects.bulk_create(Enrollment(user=user, course=course) for user in people)
        half = lessons[: len(lessons) // 2]
        LessonCompletion.objects.bulk_create(LessonCompletion(user=u, lesson=x) for u in people for x in half)
        previous = course
    return path


def clear_curriculum() -> None:
    for model in (Course, LearningPath, Tag):
        model.objects.all().delete()


PAGES: dict[str, Callable[[], str]] = {
    "catalog": lambda: "/courses/",
    "catalog search": lambda: "/courses/?q=Course&level=beginner&tag=tag-0",
    "path": lambda: "/courses/paths/big-path/",
    "course": lambda: "/courses/c1/",
    "lesson": lambda: "/courses/c1/c1-l2/",
    "learner home": lambda: "/",
}


def count_queries(client: Client, url: str) -> int:
    cache.clear()  # cold, whatever was asked before: the same caches to fill at either size
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


@pytest.mark.django_db
@pytest.mark.parametrize("page", PAGES)
def test_page_query_count_does_not_grow_with_the_curriculum(page: str, client: Client, learner: User) -> None:
    client.force_login(learner)
    build_curriculum(courses=2, lessons_per_module=2, learners=1, reader=learner)
    small = count_queries(client, PAGES[page]())
    clear_curriculum()
    build_curriculum(courses=20, lessons_per_module=10, learners=10, reader=learner)
    large = count_queries(client, PAGES[page]())
    assert small == large, f"{page}: {small} queries with 2 courses, {large} with 20"


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["catalog", "path", "course"])
def test_anonymous_page_query_count_does_not_grow(page: str, client: Client, learner: User) -> None:
    build_curriculum(courses=2, lessons_per_module=2, learners=1, reader=learner)
    small = count_queries(client, PAGES[page]())
    clear_curriculum()
    build_curriculum(courses=20, lessons_per_module=10, learners=10, reader=learner)
    assert count_queries(client, PAGES[page]()) == small
