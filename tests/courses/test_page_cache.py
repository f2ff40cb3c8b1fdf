"""The catalog's cards, paths and tags and a course page's header and syllabus are cached
(courses.fragments): no change they show may leave them stale, and none is shown to a viewer who
may not see it.

Each test renders a page (which fills the cache), makes one kind of change the way the platform
makes it (a service, the curriculum import, a save as the Django admin makes it), renders again and
looks for the new value."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from core.models import User
from courses import services
from courses.importing import curriculum_import
from courses.models import Course, Lesson, PathCourse, Tag
from tests.courses.test_importing import course_folder, small_course
from tests.factories import LessonFactory, PathFactory, course_with_lessons
from tests.page_cache import cold_and_warm_queries

CATALOG = "/courses/"


@pytest.fixture
def basics(db: None) -> Course:
    """A published course of four lessons, tagged, on a published path."""
    course = course_with_lessons(modules=2, lessons_per_module=2, slug="basics", title_en="Basics")
    course.tags.add(Tag.objects.create(slug="intro", name_en="Intro", name_zh="入门"))
    path = PathFactory(slug="starter", title_en="Starter path", published=True)
    PathCourse.objects.create(path=path, course=course, position=1)
    return course


def text_of(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return re.sub(r"\s+", " ", response.content.decode())


def card(client: Client, slug: str = "basics") -> str:
    """The course's card in the catalog."""
    return text_of(client, CATALOG).split(f'data-testid="course-{slug}"')[1].split("</a>")[0]


def syllabus(client: Client, slug: str = "basics") -> str:
    return text_of(client, f"/courses/{slug}/").split('data-testid="syllabus"')[1].split("</section>")[0]


def first_lesson(course: Course) -> Lesson:
    return course.lessons.order_by("position").first()


# --- The catalog ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_course_edited_in_the_admin_shows_in_its_card_at_once(client: Client, basics: Course) -> None:
    assert "Basics" in card(client)
    basics.title_en, basics.level = "Basics, revised", "advanced"  # what the admin's change form saves
    basics.save()
    assert "Basics, revised" in card(client) and "level-advanced" in card(client)


@pytest.mark.django_db
def test_a_lesson_added_changes_the_cards_lesson_count_at_once(client: Client, basics: Course) -> None:
    assert "4 lessons" in card(client)
    LessonFactory(module=basics.modules.first(), position=5, slug="basics-l5")
    assert "5 lessons" in card(client)
    Lesson.objects.get(slug="basics-l5").delete()
    assert "4 lessons" in card(client)


@pytest.mark.django_db
def test_a_renamed_or_added_tag_shows_in_the_card_and_the_filter_at_once(client: Client, basics: Course) -> None:
    assert "#Intro" in card(client)
    tag = Tag.objects.get(slug="intro")
    tag.name_en = "Getting started"
    tag.save()
    page = text_of(client, CATALOG)
    assert "#Getting started" in card(client) and '<option value="intro">Getting started</option>' in page
    basics.tags.add(Tag.objects.create(slug="math", name_en="Math", name_zh="数学"))
    assert "#Math" in card(client) and '<option value="math">Math</option>' in text_of(client, CATALOG)
    basics.tags.clear()
    assert "#" not in card(client).split('class="muted tags"')[1]


@pytest.mark.django_db
def test_the_curriculum_import_shows_in_the_catalog_at_once(client: Client, tmp_path: Path) -> None:
    curriculum_import(course_folder(tmp_path, small_course("imported", lessons=2)))
    assert "2 lessons" in card(client, "imported")
    curriculum_import(course_folder(tmp_path, small_course("imported", lessons=3)))
    assert "3 lessons" in card(client, "imported")


@pytest.mark.django_db
def test_a_learners_progress_shows_on_the_card_and_the_path_at_once(
    client: Client, basics: Course, learner: User
) -> None:
    client.force_login(learner)
    services.enrollment_create(user=learner, course=basics)
    assert "0 of 4 lessons · 0%" in card(client)
    for lesson in basics.lessons.all():
        services.lesson_complete(user=learner, lesson=lesson)
    page = text_of(client, CATALOG)
    assert "4 of 4 lessons · 100%" in card(client)
    assert 'title="finished"' in page.split('data-testid="path-starter"')[1].split("</section>")[0]


@pytest.mark.django_db
def test_a_path_renamed_or_given_a_course_shows_at_once(client: Client, basics: Course) -> None:
    assert "Starter path" in text_of(client, CATALOG)
    path = basics.paths.get()
    path.title_en = "First steps"
    path.save()
    assert "First steps" in text_of(client, CATALOG)
    PathCourse.objects.create(path=path, course=course_with_lessons(slug="more", title_en="More"), position=2)
    steps = text_of(client, CATALOG).split('data-testid="path-starter"')[1].split("</section>")[0]
    assert "Basics" in steps and "More" in steps


@pytest.mark.django_db
def test_a_draft_is_never_shown_from_an_administrators_cache(
    client: Client, basics: Course, admin_user: User, learner: User
) -> None:
    draft_path = PathFactory(slug="secret-path", title_en="Secret path", published=False)
    draft = course_with_lessons(slug="secret", title_en="Secret course", published=False)
    draft.tags.add(Tag.objects.create(slug="hidden", name_en="Hidden", name_zh="隐藏"))
    PathCourse.objects.create(path=draft_path, course=basics, position=1)
    client.force_login(admin_user)
    page, course_page = text_of(client, CATALOG), text_of(client, "/courses/basics/")
    assert "Secret course" in page and "Secret path" in page and "Hidden" in page and "Secret path" in course_page
    for viewer in (learner, None):
        client.logout()
        if viewer is not None:
            client.force_login(viewer)
        page, course_page = text_of(client, CATALOG), text_of(client, "/courses/basics/")
        assert "Secret" not in page and "Hidden" not in page and "Secret path" not in course_page


# --- A course page -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_module_or_lesson_edited_shows_in_the_syllabus_at_once(client: Client, basics: Course) -> None:
    assert "Lessons are being written" not in syllabus(client)
    lesson = first_lesson(basics)
    lesson.title_en = "A brand new title"
    lesson.save()
    assert "A brand new title" in syllabus(client)
    module = basics.modules.order_by("position").first()
    module.title_en = "Renamed module"
    module.save()
    assert "Renamed module" in syllabus(client)
    basics.modules.all().delete()
    assert "Lessons are being written" in syllabus(client)


@pytest.mark.django_db
def test_a_completed_lesson_is_ticked_in_the_syllabus_at_once(client: Client, basics: Course, learner: User) -> None:
    client.force_login(learner)
    services.enrollment_create(user=learner, course=basics)
    lesson = first_lesson(basics)
    assert f'class="done" data-testid="syllabus-{lesson.slug}"' not in syllabus(client)
    services.lesson_complete(user=learner, lesson=lesson)
    assert f'class="done" data-testid="syllabus-{lesson.slug}"' in syllabus(client)
    services.lesson_uncomplete(user=learner, lesson=lesson)
    assert f'class="done" data-testid="syllabus-{lesson.slug}"' not in syllabus(client)


@pytest.mark.django_db
def test_one_learners_ticks_are_never_shown_to_another(
    client: Client, basics: Course, learner: User, other_learner: User
) -> None:
    services.enrollment_create(user=learner, course=basics)
    services.lesson_complete(user=learner, lesson=first_lesson(basics))
    client.force_login(learner)
    assert 'class="done"' in syllabus(client)
    client.force_login(other_learner)
    assert 'class="done"' not in syllabus(client)
    client.logout()
    assert 'class="done"' not in syllabus(client)


@pytest.mark.django_db
def test_continue_leads_to_the_next_lesson_after_the_outline_changed(
    client: Client, basics: Course, learner: User
) -> None:
    client.force_login(learner)
    services.enrollment_create(user=learner, course=basics)
    for lesson in basics.lessons.all():
        services.lesson_complete(user=learner, lesson=lesson)
    assert 'data-testid="course-complete"' in text_of(client, "/courses/basics/")
    LessonFactory(module=basics.modules.first(), position=5, slug="basics-l5")
    assert 'href="/courses/basics/basics-l5/" data-testid="continue"' in text_of(client, "/courses/basics/")


@pytest.mark.django_db
@pytest.mark.parametrize("url", [CATALOG, "/courses/basics/"])
def test_a_warm_page_reads_fewer_queries_than_a_cold_one(
    client: Client, basics: Course, learner: User, url: str
) -> None:
    client.force_login(learner)
    services.enrollment_create(user=learner, course=basics)
    client.get(url)
    cold, warm = cold_and_warm_queries(client, url)
    assert warm < cold - 2, f"cold {cold}, warm {warm}"
