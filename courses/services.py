"""Writes of the curriculum: enrolling, completing lessons, remembering where a learner is."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.bilingual import is_chinese
from core.models import User
from courses import selectors
from courses.models import Course, Enrollment, Lesson, LessonCompletion, Progress


class CourseActionRefused(Exception):
    """The learner may not do this (yet); ``message`` says why and what to do, in their language."""

    def __init__(self, message: str, *, missing: list[Course] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.missing = missing or []


def enrollment_create(*, user: User, course: Course) -> Enrollment:
    """Enroll ``user`` in ``course`` once every prerequisite course is finished. Idempotent."""
    existing = selectors.enrollment_of(user, course)
    if existing is not None:
        return existing
    if not course.published:
        raise CourseActionRefused(_("This course is not open for enrollment yet."))
    missing = selectors.unmet_prerequisites(user, course)
    if missing:
        titles = ("、" if is_chinese() else ", ").join(c.title for c in missing)
        raise CourseActionRefused(
            _("Finish these courses before you enroll: %(courses)s.") % {"courses": titles}, missing=missing
        )
    try:
        with transaction.atomic():
            return Enrollment.objects.create(user=user, course=course)
    except IntegrityError:  # a double click: the other request enrolled first
        return Enrollment.objects.get(user=user, course=course)


def _require_enrollment(user: User, lesson: Lesson) -> None:
    if not Enrollment.objects.filter(user=user, course_id=lesson.course_id).exists():
        raise CourseActionRefused(_("Enroll in the course to track your progress."))


def lesson_complete(*, user: User, lesson: Lesson) -> Progress:
    """Mark ``lesson`` done (idempotent) and make it the place the learner continues from."""
    _require_enrollment(user, lesson)
    LessonCompletion.objects.get_or_create(user=user, lesson=lesson)
    lesson_visit(user=user, lesson=lesson)
    return selectors.course_progress(user=user, course=lesson.course)


def lesson_uncomplete(*, user: User, lesson: Lesson) -> Progress:
    _require_enrollment(user, lesson)
    LessonCompletion.objects.filter(user=user, lesson=lesson).delete()
    return selectors.course_progress(user=user, course=lesson.course)


def lesson_visit(*, user: User, lesson: Lesson) -> None:
    """Remember the lesson an enrolled learner is on (one UPDATE; nothing for the not enrolled)."""
    if user.is_authenticated:
        Enrollment.objects.filter(user=user, course_id=lesson.course_id).update(
            last_lesson=lesson, last_activity_at=timezone.now()
        )
