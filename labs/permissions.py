"""Who may see and act on a run. Pages and the API both use these."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from cohorts.permissions import can_see_learner, mentees_of
from core.models import User
from labs.models import Run


def can_view_run(user: User, run: Run) -> bool:
    """The learner who submitted, their mentor, or an administrator."""
    return can_see_learner(user, run.submission.learner_id)


def can_act_on_run(user: User, run: Run) -> bool:
    """Cancel and re-run: the learner who submitted, or an administrator (not the mentor)."""
    return user.is_authenticated and (run.submission.learner_id == user.pk or user.has_perm("core.administer"))


def runs_visible_to(user: User, queryset: QuerySet[Run]) -> QuerySet[Run]:
    if user.has_perm("core.administer"):
        return queryset
    if user.has_perm("core.mentor"):
        return queryset.filter(Q(submission__learner=user) | Q(submission__learner__in=mentees_of(user)))
    return queryset.filter(submission__learner=user)
