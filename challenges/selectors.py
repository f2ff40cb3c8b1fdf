"""Challenges: the reads. Who may take part, teams, a learner's or team's entries, quotas and the
default final picks."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from django.db.models import Q, QuerySet
from django.utils import timezone

from challenges.models import Challenge, Entry, Phase, Team
from core.models import User
from labs.models import RunState


def can_take_part(*, challenge: Challenge, user: User) -> bool:
    """Everyone signed in may take part in a challenge open to everyone; otherwise the members of
    its cohorts."""
    if not user.is_authenticated:
        return False
    return challenge.open_to_everyone or challenge.cohorts.filter(members__learner=user).exists()


def team_of(*, challenge: Challenge, user: User) -> Team | None:
    return Team.objects.filter(challenge=challenge, members__user=user).first()


def has_entries(*, challenge: Challenge, user: User) -> bool:
    """Whether ``user`` made an entry, alone or for a team, in any phase of ``challenge``."""
    return Entry.objects.filter(phase__challenge=challenge, learner=user).exists()


def entries_of(*, phase: Phase, contestant: User | Team) -> QuerySet[Entry]:
    """The entries that count for ``contestant`` in ``phase``: a team's, a learner's own team's when
    they are in one, else the learner's own."""
    team = contestant if isinstance(contestant, Team) else team_of(challenge=phase.challenge, user=contestant)
    if team is not None:
        return Entry.objects.filter(phase=phase, team=team)
    return Entry.objects.filter(phase=phase, learner=contestant, team__isnull=True)


# Entries that spend the quota: as for a lab's runs (labs.validation.runs_counted_today), a run the
# learner cancelled or the platform ended costs nothing.
_FREE = Q(run__state=RunState.CANCELLED) | Q(run__state=RunState.FAILED, run__reason__startswith="platform:")


class EntryQuota(NamedTuple):
    used_today: int
    used_total: int
    left: int


def entry_quota(*, phase: Phase, learner: User, now: datetime | None = None) -> EntryQuota:
    """What ``learner`` has spent of ``phase``'s limits and may still enter now: one quota per team
    (its members' entries count together), "today" being the last 24 hours as for a lab's runs."""
    counted = entries_of(phase=phase, contestant=learner).exclude(_FREE)
    since = (now or timezone.now()) - timedelta(days=1)
    used_today, used_total = counted.filter(created_at__gte=since).count(), counted.count()
    left = phase.submissions_per_day - used_today
    if phase.submissions_total is not None:
        left = min(left, phase.submissions_total - used_total)
    return EntryQuota(used_today=used_today, used_total=used_total, left=max(0, left))


def final_picks_default(*, phase: Phase, contestant: User | Team) -> list[Entry]:
    """The entries that count in the final ranking when ``contestant`` picked none: the best
    ``phase.final_picks`` by public score (the earlier first among equal scores)."""
    best = "-public_score" if phase.lab.higher_is_better else "public_score"
    scored = entries_of(phase=phase, contestant=contestant).filter(public_score__isnull=False)
    return list(scored.order_by(best, "created_at", "pk")[: phase.final_picks])
