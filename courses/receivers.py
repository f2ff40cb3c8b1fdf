"""What courses answers to ``labs.signals``: the lessons that teach the fix for a run's findings."""

from __future__ import annotations

from typing import Any

from core.cache import cache_generations
from core.fragments import CURRICULUM, fragment, fragment_key
from courses.models import Lesson
from labs.signals import diagnosis_lessons_signal


def connect() -> None:
    diagnosis_lessons_signal.connect(lessons_fixing, dispatch_uid="courses.receivers.lessons_fixing")


def lessons_fixing(sender: Any, *, codes: list[str], **kwargs: Any) -> dict[str, list[tuple[str, str]]]:
    """For each code, the published lessons whose ``fixes`` name it (title, url), in course and
    lesson order: read once per change of the curriculum and language (a list of runs asks for
    every run)."""
    generation = cache_generations(CURRICULUM)[CURRICULUM]
    table = fragment(fragment_key("lessons-fixing", generation), _lessons_by_code)
    return {code: [tuple(pair) for pair in table[code]] for code in codes if code in table}


def _lessons_by_code() -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {}
    lessons = (
        Lesson.objects.filter(course__published=True)
        .exclude(fixes=[])
        .select_related("course")
        .order_by("course__slug", "position")
    )
    for lesson in lessons:
        for code in lesson.fixes:
            found.setdefault(code, []).append((lesson.title, lesson.get_absolute_url()))
    return found
