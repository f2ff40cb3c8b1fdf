"""What cohorts' writes make stale in the cached parts of pages (``core.fragments``): a cohort's
generation when its grading policy, lab deadlines, courses or path change; a learner's when they
join or leave a cohort or change mentor (pages read who is in a cohort, and who mentors whom, on
every request; the learner's generation keeps what was read from an older membership apart).

Signals, not calls in the services: the Django admin and the roster import write these rows."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save

from cohorts.models import Cohort, CohortMember, LabDeadline
from core.fragments import cohorts_changed, courses_changed, learners_changed


def connect() -> None:
    post_save.connect(cohort_saved, sender=Cohort, dispatch_uid="cohorts.generations.cohort_saved")
    post_delete.connect(cohort_saved, sender=Cohort, dispatch_uid="cohorts.generations.cohort_deleted")
    post_save.connect(deadline_saved, sender=LabDeadline, dispatch_uid="cohorts.generations.deadline_saved")
    post_delete.connect(deadline_saved, sender=LabDeadline, dispatch_uid="cohorts.generations.deadline_deleted")
    post_save.connect(member_saved, sender=CohortMember, dispatch_uid="cohorts.generations.member_saved")
    post_delete.connect(member_saved, sender=CohortMember, dispatch_uid="cohorts.generations.member_deleted")
    m2m_changed.connect(
        cohort_courses_changed, sender=Cohort.courses.through, dispatch_uid="cohorts.generations.cohort_courses"
    )


def cohort_saved(sender: Any, *, instance: Cohort, **kwargs: Any) -> None:
    cohorts_changed([instance.pk])


def deadline_saved(sender: Any, *, instance: LabDeadline, **kwargs: Any) -> None:
    cohorts_changed([instance.cohort_id])


def member_saved(sender: Any, *, instance: CohortMember, **kwargs: Any) -> None:
    learners_changed([instance.learner_id])


def cohort_courses_changed(
    sender: Any, *, instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **kwargs: Any
) -> None:
    """A cohort's courses; from a course's side (which names no cohort on a clear), the curriculum."""
    if action in ("post_add", "post_remove", "post_clear"):
        if reverse:
            courses_changed([])
        else:
            cohorts_changed([instance.pk])
