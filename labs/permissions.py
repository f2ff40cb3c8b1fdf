"""Who may see and act on a run. Pages and the API both use these."""

from __future__ import annotations

from django.db.models import QuerySet

from core.models import User
from labs.models import Run


def can_view_run(user: User, run: Run) -> bool:
    if not user.is_authenticated:
        return False
    return run.submission.learner_id == user.pk or user.has_perm("core.administer")


def can_act_on_run(user: User, run: Run) -> bool:
    """Cancel and re-run: the learner who submitted, or an administrator."""
    return can_view_run(user, run) and (run.submission.learner_id == user.pk or user.has_perm("core.administer"))


def runs_visible_to(user: User, queryset: QuerySet[Run]) -> QuerySet[Run]:
    if user.has_perm("core.administer"):
        return queryset
    return queryset.filter(submission__learner=user)
