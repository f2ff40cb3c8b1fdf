"""Who mentors whom. A mentor sees only their mentees: the learners a cohort assigns to them.
Each rule exists twice — one object (``is_mentor_of``) and a queryset filter (``mentees_of``) —
and pages and the API both use these."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from cohorts.models import CohortMember
from core.models import User


def is_admin(user: User | AnonymousUser) -> bool:
    return user.is_authenticated and user.has_perm("core.administer")


def is_mentor(user: User | AnonymousUser) -> bool:
    return user.is_authenticated and user.has_perm("core.mentor")


def is_mentor_of(user: User | AnonymousUser, learner_id: int) -> bool:
    if not is_mentor(user):
        return False
    return CohortMember.objects.filter(mentor=user, learner_id=learner_id).exists()


def mentees_of(user: User) -> QuerySet[User]:
    return User.objects.filter(memberships__mentor=user).distinct()


def can_see_learner(user: User | AnonymousUser, learner_id: int) -> bool:
    """Their own record, their mentor, or an administrator."""
    if not user.is_authenticated:
        return False
    return user.pk == learner_id or is_admin(user) or is_mentor_of(user, learner_id)


def can_mentor(user: User | AnonymousUser, learner_id: int) -> bool:
    """Review runs, keep sessions and notes: the learner's mentor or an administrator."""
    return is_admin(user) or is_mentor_of(user, learner_id)
