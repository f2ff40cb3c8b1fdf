"""The course pages' costly parts, rendered once per change (``core.fragments``): the catalog's
cards, learning paths and tags, and a course page's header and syllabus.

A fragment holds nothing a viewer may not see: a card shows nothing of the viewer (their progress
bar is drawn beside it on every request); the paths and a course's syllabus tick the viewer's
finished lessons, so they are keyed on the viewer; and what lists drafts (paths, tags, a course's
paths) is keyed on whether the viewer may preview them. Which courses a page lists, and whether
the viewer may open one, is read on every request."""

from __future__ import annotations

from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from core.cache import cache_generations
from core.fragments import CURRICULUM, course_generation, fragment, fragment_key, fragments, learner_generation
from courses import selectors
from courses.models import Course
from courses.selectors import AnyUser


@dataclass(frozen=True)
class OutlineItem:
    """A lesson of a course's outline, as the course page's "continue" needs it."""

    pk: int
    url: str


@dataclass(frozen=True)
class CourseParts:
    head: SafeString  # where the course is, its title, level, length and tags
    main: SafeString  # its summary and syllabus, with the viewer's finished lessons ticked
    outline: tuple[OutlineItem, ...]  # its lessons in order


def course_cards(courses: list[Course]) -> list[tuple[Course, SafeString]]:
    """Each course with its card (``courses/_course_card_body.html``)."""
    generations = cache_generations(*(course_generation(c.pk) for c in courses))
    keys = {c.pk: fragment_key("course-card", c.pk, generations[course_generation(c.pk)]) for c in courses}
    cards = fragments(keys, _cards_build)
    return [(c, cards.get(c.pk, SafeString())) for c in courses]


def _cards_build(course_ids: list[int]) -> dict[int, SafeString]:
    courses = selectors.with_lesson_total(Course.objects.filter(pk__in=course_ids)).prefetch_related("tags")
    return {c.pk: render_to_string("courses/_course_card_body.html", {"course": c}) for c in courses}


def catalog_paths(user: AnyUser) -> SafeString:
    """The catalog's learning paths (``courses/_catalog_paths.html``), ticked for ``user``."""
    names = [CURRICULUM, *([learner_generation(user.pk)] if user.is_authenticated else [])]
    generations = cache_generations(*names)
    key = fragment_key("catalog-paths", _viewer(user), *(generations[name] for name in names))
    return fragment(
        key, lambda: render_to_string("courses/_catalog_paths.html", {"paths": selectors.paths_with_courses(user)})
    )


def catalog_tags(user: AnyUser) -> list[tuple[str, str]]:
    """(slug, name) of the tags of the courses ``user`` may see, for the catalog's filter."""
    key = fragment_key("catalog-tags", selectors.can_preview(user), cache_generations(CURRICULUM)[CURRICULUM])
    return fragment(key, lambda: [(tag.slug, tag.name) for tag in selectors.tags_in_use(user)])


def course_parts(user: AnyUser, course: Course) -> CourseParts:
    """The course page's parts for ``user`` (who may see ``course``)."""
    names = [course_generation(course.pk), *([learner_generation(user.pk)] if user.is_authenticated else [])]
    generations = cache_generations(*names)
    key = fragment_key("course-page", course.pk, _viewer(user), *(generations[name] for name in names))
    return fragment(key, lambda: _course_parts_build(user, course.slug))


def _course_parts_build(user: AnyUser, slug: str) -> CourseParts:
    course = selectors.course_page(user, slug)
    if course is None:  # gone since the page found it: its change moved the generation this key holds
        return CourseParts(SafeString(), SafeString(), ())
    lessons = [lesson for module in course.modules.all() for lesson in module.lessons.all()]
    for lesson in lessons:
        lesson.course = course  # get_absolute_url without a query per lesson
    context = {"course": course, "modules": course.modules.all(), "done": selectors.completed_lesson_ids(user, course)}
    return CourseParts(
        render_to_string("courses/_course_head.html", context),
        render_to_string("courses/_course_main.html", context),
        tuple(OutlineItem(lesson.pk, lesson.get_absolute_url()) for lesson in lessons),
    )


def _viewer(user: AnyUser) -> str:
    """Who the fragment is for: the user (anyone anonymous alike), and whether they see drafts."""
    return f"{user.pk or 'anonymous'}-{'preview' if selectors.can_preview(user) else 'published'}"
