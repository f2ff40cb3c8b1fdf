"""Cohorts: the reads. Who sees which cohort, its members, mentors and deadlines."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Q, QuerySet

from cohorts.models import Cohort, CohortMember, Job, LabDeadline
from cohorts.services import can_manage_cohorts
from core.models import User


def cohorts_visible_to(user: User | AnonymousUser) -> QuerySet[Cohort]:
    """Administrators: every cohort; mentors: the cohorts they mentor in; learners: their own."""
    if not user.is_authenticated:
        return Cohort.objects.none()
    if can_manage_cohorts(user):
        return Cohort.objects.all()
    mine = Q(mentors=user) | Q(members__learner=user) | Q(members__mentor=user)
    return Cohort.objects.filter(pk__in=Cohort.objects.filter(mine).values("pk"))


def can_see_all_members(user: User | AnonymousUser, cohort: Cohort) -> bool:
    """Administrators and the cohort's mentors see every member; a learner sees only themselves."""
    if can_manage_cohorts(user):
        return True
    return user.is_authenticated and cohort.mentors.filter(pk=user.pk).exists()


def with_counts(cohorts: QuerySet[Cohort]) -> QuerySet[Cohort]:
    """Annotate ``member_count`` and ``mentor_count``."""
    counted = cohorts.select_related("path").annotate(
        member_count=Count("members", distinct=True), mentor_count=Count("mentors", distinct=True)
    )
    return counted.order_by(*Cohort._meta.ordering)  # Meta.ordering does not apply to GROUP BY queries


def members_of(cohort: Cohort) -> QuerySet[CohortMember]:
    return CohortMember.objects.filter(cohort=cohort).select_related("learner", "mentor").order_by("learner__username")


def mentors_of(cohort: Cohort) -> QuerySet[User]:
    return cohort.mentors.order_by("username")


def deadlines_of(cohort: Cohort) -> QuerySet[LabDeadline]:
    return LabDeadline.objects.filter(cohort=cohort).select_related("lab").order_by("due_at")


def mentor_candidates() -> QuerySet[User]:
    """Active users holding the mentor permission (mentors and administrators)."""
    return User.objects.with_perm("core.mentor").order_by("username")


def cohorts_all() -> QuerySet[Cohort]:
    return Cohort.objects.all()


def cohort_by_slug(slug: str) -> Cohort | None:
    return Cohort.objects.filter(slug=slug).first()


def cohort_for_page(slug: str) -> Cohort | None:
    """A cohort with its path and courses, as its page shows them."""
    return Cohort.objects.select_related("path").prefetch_related("courses").filter(slug=slug).first()


def recent_jobs_of(cohort: Cohort, *, limit: int = 10) -> QuerySet[Job]:
    return Job.objects.filter(cohort=cohort).select_related("requested_by")[:limit]


def job_by_id(job_id: int) -> Job | None:
    return Job.objects.select_related("requested_by", "cohort").filter(pk=job_id).first()
