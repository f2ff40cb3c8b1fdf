"""Cohorts: who is in which cohort, with which mentor. Services (writes) and selectors (reads).

The database already holds "one cohort per learner per path" (``CohortMember.path``); the services
check it first so callers get a sentence, not an IntegrityError."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from core.models import Cohort, CohortMember, LabDeadline, User
from courses.models import Course, Lesson, LessonCompletion, PathCourse


class CohortError(ValueError):
    """A membership change the rules refuse; the message is shown to the person who asked."""


def can_manage_cohorts(user: User | AnonymousUser) -> bool:
    return user.is_authenticated and user.has_perm("core.administer")


# --- Services ---------------------------------------------------------------------------


def _check_mentor(mentor: User) -> None:
    if not mentor.has_perm("core.mentor"):
        raise CohortError(_("%(user)s does not have the mentor role.") % {"user": mentor.username})


def cohort_member_conflict(*, cohort: Cohort, learner: User) -> CohortMember | None:
    """The learner's membership in another cohort of the same path, which forbids joining ``cohort``."""
    if cohort.path_id is None:
        return None
    others = CohortMember.objects.filter(learner=learner, path_id=cohort.path_id).exclude(cohort=cohort)
    return others.select_related("cohort").first()


@transaction.atomic
def cohort_member_add(*, cohort: Cohort, learner: User, mentor: User | None = None) -> CohortMember:
    """Put ``learner`` in ``cohort`` (optionally with a mentor, who also becomes one of the cohort's mentors).

    Refuses (``CohortError``) a learner already in this cohort or in another cohort of the same path,
    a user without the learner role, and a mentor without the mentor role."""
    if not learner.has_perm("core.learn"):
        raise CohortError(_("%(user)s does not have the learner role.") % {"user": learner.username})
    if mentor is not None:
        _check_mentor(mentor)
    if CohortMember.objects.filter(cohort=cohort, learner=learner).exists():
        raise CohortError(_("%(user)s is already in %(cohort)s.") % {"user": learner.username, "cohort": cohort})
    conflict = cohort_member_conflict(cohort=cohort, learner=learner)
    if conflict is not None:
        raise CohortError(
            _("%(user)s is already in %(cohort)s, another cohort of the same path.")
            % {"user": learner.username, "cohort": conflict.cohort}
        )
    try:
        with transaction.atomic():
            member = CohortMember.objects.create(cohort=cohort, learner=learner, mentor=mentor)
    except IntegrityError as exc:  # a concurrent add won the race
        raise CohortError(
            _("%(user)s could not join %(cohort)s: they joined a cohort meanwhile.")
            % {"user": learner.username, "cohort": cohort}
        ) from exc
    if mentor is not None:
        cohort.mentors.add(mentor)
    return member


def cohort_member_remove(*, cohort: Cohort, learner: User) -> bool:
    """Take ``learner`` out of ``cohort``; False if they were not in it."""
    deleted, _per_model = CohortMember.objects.filter(cohort=cohort, learner=learner).delete()
    return deleted > 0


@transaction.atomic
def cohort_mentor_set(*, member: CohortMember, mentor: User | None) -> CohortMember:
    """Give a member a mentor (who becomes one of the cohort's mentors), or none with ``mentor=None``."""
    if mentor is not None:
        _check_mentor(mentor)
        member.cohort.mentors.add(mentor)
    member.mentor = mentor
    member.save(update_fields=["mentor"])
    return member


# --- Selectors --------------------------------------------------------------------------


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


def cohort_courses(cohort: Cohort) -> QuerySet[Course]:
    """The published courses a cohort follows: its path's and its own (ids, usable as a subquery)."""
    chosen = Q(pk__in=Course.objects.filter(cohorts=cohort).values("pk"))
    if cohort.path_id is not None:
        chosen |= Q(pk__in=PathCourse.objects.filter(path_id=cohort.path_id).values("course_id"))
    return Course.objects.filter(chosen, published=True).values("pk")


def lessons_done(cohort: Cohort, learners: QuerySet | list[int]) -> tuple[int, dict[int, int]]:
    """The number of lessons in the cohort's courses, and how many each learner has completed."""
    courses = cohort_courses(cohort)
    total = Lesson.objects.filter(course__in=courses).count()
    done = dict(
        LessonCompletion.objects.filter(user__in=learners, lesson__course__in=courses)
        .values("user_id")
        .annotate(n=Count("pk"))
        .values_list("user_id", "n")
        .order_by()
    )
    return total, done
