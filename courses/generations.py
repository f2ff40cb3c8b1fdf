"""What the curriculum's writes make stale in the cached parts of pages (``core.fragments``): a
course's generation (and the curriculum's) when the course, its modules, lessons, tags,
prerequisites, paths or linked labs change; a learner's when they enrol or complete a lesson.

Signals, not calls in the services: the Django admin and the curriculum import write these rows
(the import's bulk-created path steps are the one write without a signal: it bumps itself)."""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete

from core.fragments import courses_changed, learners_changed
from courses.models import Course, Enrollment, LearningPath, Lesson, LessonCompletion, Module, PathCourse, Tag
from labs.models import Lab


def connect() -> None:
    for model, receiver in (
        (Course, course_saved),
        (Module, part_saved),
        (Lesson, part_saved),
        (PathCourse, part_saved),
        (Enrollment, learner_row_saved),
        (LessonCompletion, learner_row_saved),
    ):
        uid = f"courses.generations.{model.__name__}"
        post_save.connect(receiver, sender=model, dispatch_uid=f"{uid}.save")
        post_delete.connect(receiver, sender=model, dispatch_uid=f"{uid}.delete")
    # Before a delete as well as after a save: a deleted tag, path or lab no longer lists its courses.
    for model, receiver in ((Tag, tag_saved), (LearningPath, path_saved), (Lab, lab_saved)):
        uid = f"courses.generations.{model.__name__}"
        post_save.connect(receiver, sender=model, dispatch_uid=f"{uid}.save")
        pre_delete.connect(receiver, sender=model, dispatch_uid=f"{uid}.delete")
    for through in (Course.tags.through, Course.prerequisites.through):
        uid = f"courses.generations.{through.__name__}"
        m2m_changed.connect(course_links_changed, sender=through, dispatch_uid=uid)


def course_saved(sender: Any, *, instance: Course, **kwargs: Any) -> None:
    courses_changed([instance.pk])


def part_saved(sender: Any, *, instance: Module | Lesson | PathCourse, **kwargs: Any) -> None:
    courses_changed([instance.course_id])


def learner_row_saved(sender: Any, *, instance: Enrollment | LessonCompletion, **kwargs: Any) -> None:
    learners_changed([instance.user_id])


def tag_saved(sender: Any, *, instance: Tag, **kwargs: Any) -> None:
    courses_changed(instance.courses.values_list("pk", flat=True))


def path_saved(sender: Any, *, instance: LearningPath, **kwargs: Any) -> None:
    courses_changed(instance.steps.values_list("course_id", flat=True))


def lab_saved(sender: Any, *, instance: Lab, **kwargs: Any) -> None:
    courses_changed(Lesson.objects.filter(lab=instance).values_list("course_id", flat=True))


def course_links_changed(
    sender: Any, *, instance: Model, action: str, reverse: bool, pk_set: set[int] | None, **kwargs: Any
) -> None:
    """A course's tags or prerequisites changed, from either side: the courses on both sides."""
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    courses = [instance.pk] if isinstance(instance, Course) else []
    if sender is Course.prerequisites.through or reverse:  # the other side is courses too
        if action == "pre_clear":  # Django names no rows for a clear: read them before they go
            pk_set = set(_linked_courses(instance, reverse=reverse).values_list("pk", flat=True))
        courses += pk_set or []
    courses_changed(courses)


def _linked_courses(instance: Model, *, reverse: bool) -> QuerySet[Course]:
    if isinstance(instance, Tag):
        return instance.courses.all()
    return instance.unlocks.all() if reverse else instance.prerequisites.all()
