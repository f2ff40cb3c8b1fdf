"""Who may see and act on a run. Pages and the API both use these."""

from __future__ import annotations

from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet

from cohorts.permissions import can_see_learner, mentees_of
from core.models import User
from labs.models import Run
from labs.signals import run_sharing_signal


def _shared_with(user: User) -> Q | None:
    """The runs the apps above labs share with ``user`` (``labs.signals.run_sharing_signal``)."""
    if not user.is_authenticated:
        return None
    shared = [q for _receiver, q in run_sharing_signal.send(sender=Run, viewer=user) if q is not None]
    return reduce(or_, shared) if shared else None


def can_view_run(user: User, run: Run) -> bool:
    """The learner who submitted, their mentor, or an administrator; and those the run is shared with
    (a team's members, for its challenge entries)."""
    if can_see_learner(user, run.submission.learner_id):
        return True
    shared = _shared_with(user)
    return shared is not None and Run.objects.filter(shared, pk=run.pk).exists()


def can_act_on_run(user: User, run: Run) -> bool:
    """Cancel and re-run: the learner who submitted, or an administrator (not the mentor)."""
    return user.is_authenticated and (run.submission.learner_id == user.pk or user.has_perm("core.administer"))


def runs_visible_to(user: User, queryset: QuerySet[Run]) -> QuerySet[Run]:
    """``can_view_run`` as a filter."""
    if user.has_perm("core.administer"):
        return queryset
    visible = Q(submission__learner=user)
    if user.has_perm("core.mentor"):
        visible |= Q(submission__learner__in=mentees_of(user))
    shared = _shared_with(user)
    return queryset.filter(visible if shared is None else visible | shared)
