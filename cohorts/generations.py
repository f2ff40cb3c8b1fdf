"""What cohorts' writes make stale in the cached parts of pages (``core.fragments``): a cohort's
generation when its grading policy, lab deadlines, courses or path change; a learner's when they
join or leave a cohort or change mentor (pages read who is in a cohort, and who mentors whom, on
every request; the learner's generation keeps what was read from an older membership apart).
A mentor's generation whenever one of their mentees changes, and when a mentee joins or leaves them.

Signals, not calls in the services: the Django admin and the roster import write these rows."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

from cohorts.models import Cohort, CohortMember, LabDeadline
from core.cache import cache_bump
from core.fragments import (
    cohorts_changed,
    courses_changed,
    learner_dependents,
    learners_changed,
    mentor_generation,
)


def connect() -> None:
    post_save.connect(cohort_saved, sender=Cohort, dispatch_uid="cohorts.generations.cohort_saved")
    post_delete.connect(cohort_saved, sender=Cohort, dispatch_uid="cohorts.generations.cohort_deleted")
    post_save.connect(deadline_saved, sender=LabDeadline, dispatch_uid="cohorts.generations.deadline_saved")
    post_delete.connect(deadline_saved, sender=LabDeadline, dispatch_uid="cohorts.generations.deadline_deleted")
    learner_dependents(mentors_of)
    pre_save.connect(member_saving, sender=CohortMember, dispatch_uid="cohorts.generations.member_saving")
    post_save.connect(member_saved, sender=CohortMember, dispatch_uid="cohorts.generations.member_saved")
    post_delete.connect(member_saved, sender=CohortMember, dispatch_uid="cohorts.generations.member_deleted")
    m2m_changed.connect(
        cohort_courses_changed, sender=Cohort.courses.through, dispatch_uid="cohorts.generations.cohort_courses"
    )


def cohort_saved(sender: Any, *, instance: Cohort, **kwargs: Any) -> None:
    cohorts_changed([instance.pk])


def deadline_saved(sender: Any, *, instance: LabDeadline, **kwargs: Any) -> None:
    cohorts_changed([instance.cohort_id])


def mentors_of(learner_ids: Collection[int]) -> list[str]:
    """The generations of these learners' mentors (whose review queues list their runs)."""
    mentors = CohortMember.objects.filter(learner_id__in=learner_ids, mentor__isnull=False)
    return [mentor_generation(pk) for pk in mentors.values_list("mentor_id", flat=True).distinct()]


def member_saving(sender: Any, *, instance: CohortMember, raw: bool = False, **kwargs: Any) -> None:
    """Remember the mentor the member had (their queue loses the learner)."""
    if instance.pk is not None and not raw:
        earlier = CohortMember.objects.filter(pk=instance.pk).values_list("mentor_id", flat=True).first()
        instance._earlier_mentor_id = earlier  # type: ignore[attr-defined]


def member_saved(sender: Any, *, instance: CohortMember, **kwargs: Any) -> None:
    """The learner, their mentors now, and the mentor they had before (a deleted row is no longer
    found by ``mentors_of``: its mentor is named here)."""
    learners_changed([instance.learner_id])
    gone = {instance.mentor_id, getattr(instance, "_earlier_mentor_id", None)} - {None}
    if gone:
        cache_bump(*(mentor_generation(pk) for pk in sorted(gone)))


def cohort_courses_changed(
    sender: Any, *, instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **kwargs: Any
) -> None:
    """A cohort's courses; from a course's side (which names no cohort on a clear), the curriculum."""
    if action in ("post_add", "post_remove", "post_clear"):
        if reverse:
            courses_changed([])
        else:
            cohorts_changed([instance.pk])
