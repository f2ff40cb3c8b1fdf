"""Challenges: the reads. Who may take part, teams, a learner's or team's entries, quotas, the
final picks, and the leaderboards (public, final, and their baseline rows)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple, TypeVar

import numpy as np
from django.contrib.auth.models import AnonymousUser
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from challenges.models import Challenge, Entry, Phase, Rerun, Team
from challenges.splits import predictions_public_private_scores, public_private_scores
from cohorts.permissions import is_admin
from core.models import User
from labs.datasets import dataset_arrays
from labs.models import RunState
from labs.scoring import METRICS
from labs.selectors import reference_result


def challenges_visible(*, viewer: User | AnonymousUser) -> QuerySet[Challenge]:
    """The challenges ``viewer`` may see: administrators all of them; everyone else the published
    ones open to everyone (signed in or not, as a public leaderboard), and the published ones of a
    cohort they learn or mentor in."""
    challenges = Challenge.objects.order_by("-created_at", "pk")
    if is_admin(viewer):
        return challenges
    published = challenges.filter(published=True)
    if not viewer.is_authenticated:
        return published.filter(open_to_everyone=True)
    return published.filter(
        Q(open_to_everyone=True) | Q(cohorts__members__learner=viewer) | Q(cohorts__mentors=viewer)
    ).distinct()


def challenge_for(*, viewer: User | AnonymousUser, slug: str) -> Challenge | None:
    """The challenge ``slug`` when ``viewer`` may see it (else None: the pages answer 404, as for
    anything that does not exist)."""
    return challenges_visible(viewer=viewer).filter(slug=slug).first()


def phases_of(challenge: Challenge) -> QuerySet[Phase]:
    return challenge.phases.select_related("lab").order_by("position", "starts_at", "pk")


def phase_current(challenge: Challenge, *, now: datetime | None = None) -> Phase | None:
    """The phase a challenge's page opens on: the open one, else the next to open, else the last."""
    now = now or timezone.now()
    phases = list(phases_of(challenge))
    for phase in phases:
        if phase.is_open(now):
            return phase
    upcoming = [p for p in phases if p.starts_at > now]
    return upcoming[0] if upcoming else (phases[-1] if phases else None)


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
    return _best_by_public_score(phase=phase, entries=entries_of(phase=phase, contestant=contestant))


def _best_by_public_score(*, phase: Phase, entries: Iterable[Entry]) -> list[Entry]:
    """The best ``phase.final_picks`` of ``entries`` by public score (the earlier first among equals)."""
    sign = -1 if phase.lab.higher_is_better else 1
    scored = [e for e in entries if e.public_score is not None]
    scored.sort(key=lambda e: (sign * e.public_score, e.created_at, e.pk))
    return scored[: phase.final_picks]


def _contestant(entry: Entry) -> User | Team:
    return entry.team if entry.team_id is not None else entry.learner


def _by_contestant(entries: Iterable[Entry]) -> dict[User | Team, list[Entry]]:
    grouped: dict[User | Team, list[Entry]] = defaultdict(list)
    for entry in entries:
        grouped[_contestant(entry)].append(entry)
    return grouped


def _phase_entries(phase: Phase) -> QuerySet[Entry]:
    return Entry.objects.filter(phase=phase).select_related("learner", "team").order_by("created_at", "pk")


def contestant_entries_final(*, phase: Phase) -> dict[User | Team, list[Entry]]:
    """Each contestant's final entries: their explicit picks (``final``), else the default picks."""
    entries = (
        _phase_entries(phase)
        .select_related("run")
        .prefetch_related(Prefetch("reruns", queryset=Rerun.objects.order_by("seed")))
    )
    return {
        contestant: [e for e in own if e.final] or _best_by_public_score(phase=phase, entries=own)
        for contestant, own in _by_contestant(entries).items()
    }


# --- Leaderboards -------------------------------------------------------------------------------------

# Public scores are shown, and ranked, at this precision: a tiny difference between two public scores
# would otherwise tell something about the private rows.
PUBLIC_DECIMALS = 4


@dataclass(frozen=True)
class Row:
    """A row of a public leaderboard: a contestant (a team, or a learner alone) or a baseline."""

    rank: int | None
    name: str
    entries: int
    public_score: float | None
    private_score: float | None
    team_id: int | None = None
    learner_id: int | None = None
    baseline: bool = False


@dataclass(frozen=True)
class FinalPick:
    """A final entry's private score: the mean over its re-runs when they are scored (with their
    population standard deviation and count), else the entry's own."""

    entry_id: int
    private_score: float | None
    spread: float | None = None
    reruns: int = 0


@dataclass(frozen=True)
class FinalRow:
    """A row of the final ranking: the best of the contestant's final picks, and where they stood on
    the public leaderboard (the shake-up)."""

    rank: int
    name: str
    final_score: float
    public_rank: int | None
    picks: list[FinalPick] = field(default_factory=list)
    team_id: int | None = None
    learner_id: int | None = None

    @property
    def move(self) -> int | None:
        """Places gained (positive) or lost from the public rank to the final one."""
        return None if self.public_rank is None else self.public_rank - self.rank


T = TypeVar("T")


def _ranked(items: Sequence[T], score: Callable[[T], float], *, higher_is_better: bool) -> list[tuple[int, T]]:
    """``items`` best first, each with its rank: equal scores share a rank ("1224")."""
    ordered = sorted(items, key=lambda item: -score(item) if higher_is_better else score(item))
    ranked: list[tuple[int, T]] = []
    for position, item in enumerate(ordered, start=1):
        tied = ranked and score(ranked[-1][1]) == score(item)
        ranked.append((ranked[-1][0] if tied else position, item))
    return ranked


def _name(contestant: User | Team) -> str:
    return contestant.name if isinstance(contestant, Team) else contestant.public_name


def _ids(contestant: User | Team) -> dict[str, int | None]:
    if isinstance(contestant, Team):
        return {"team_id": contestant.pk, "learner_id": None}
    return {"team_id": None, "learner_id": contestant.pk}


def rounded(score: float | None) -> float | None:
    return None if score is None else round(score, PUBLIC_DECIMALS)


class _Standing(NamedTuple):
    contestant: User | Team
    best: Entry
    entries: int


def _public_standings(phase: Phase, entries: Iterable[Entry]) -> list[tuple[int, _Standing]]:
    """Each contestant with a scored entry, by their best (rounded) public score, ranked."""
    sign = 1 if phase.lab.higher_is_better else -1
    standings = []
    for contestant, own in _by_contestant(entries).items():
        scored = [e for e in own if e.public_score is not None]
        if scored:
            best = max(scored, key=lambda e: (sign * e.public_score, -e.created_at.timestamp(), -e.pk))
            standings.append(_Standing(contestant, best, len(own)))
    standings.sort(key=lambda s: _name(s.contestant).casefold())  # among equals, by name
    return _ranked(standings, lambda s: rounded(s.best.public_score), higher_is_better=phase.lab.higher_is_better)


def phase_state(phase: Phase, now: datetime | None = None) -> str:
    """The phase's state now: "upcoming", "open", "ended" (private ranking not yet out) or "revealed"."""
    now = now or timezone.now()
    if phase.revealed_at is not None:
        return "revealed"
    if phase.has_ended(now):
        return "ended"
    return "open" if phase.is_open(now) else "upcoming"


def scores_visible(*, phase: Phase, viewer: User | AnonymousUser) -> tuple[bool, bool]:
    """(public scores shown, private scores shown) to ``viewer`` now: public ones but in a blind phase
    before its end, private ones once revealed; administrators see both."""
    admin = is_admin(viewer)
    return admin or not phase.blind or phase.has_ended(), admin or phase.revealed_at is not None


def public_leaderboard(*, phase: Phase, viewer: User | AnonymousUser) -> list[Row]:
    """One row per contestant with a scored entry, ranked by their best public score (rounded to
    ``PUBLIC_DECIMALS``). Private scores (of that best entry) only once revealed, or to
    administrators; in a blind phase, until it ends, neither scores nor ranks but to administrators
    (an order would tell the scores). A constant number of queries."""
    show_public, show_private = scores_visible(phase=phase, viewer=viewer)
    rows = [
        Row(
            rank=rank if show_public else None,
            name=_name(standing.contestant),
            entries=standing.entries,
            public_score=rounded(standing.best.public_score) if show_public else None,
            private_score=standing.best.private_score if show_private else None,
            **_ids(standing.contestant),
        )
        for rank, standing in _public_standings(phase, _phase_entries(phase))
    ]
    return rows if show_public else sorted(rows, key=lambda row: row.name.casefold())


def _final_pick(entry: Entry) -> FinalPick:
    scores = [r.private_score for r in entry.reruns.all() if r.private_score is not None]
    if not scores:
        return FinalPick(entry_id=entry.pk, private_score=entry.private_score)
    return FinalPick(
        entry_id=entry.pk, private_score=statistics.fmean(scores), spread=statistics.pstdev(scores), reruns=len(scores)
    )


def final_leaderboard(*, phase: Phase) -> list[FinalRow]:
    """The final ranking, once the phase is revealed (before: no rows): each contestant by the best
    private score of their final picks (a re-run mean where there is one), with their public rank."""
    if phase.revealed_at is None:
        return []
    finals = contestant_entries_final(phase=phase)
    public_ranks = {standing.contestant: rank for rank, standing in _public_standings(phase, _phase_entries(phase))}
    higher = phase.lab.higher_is_better
    candidates = []
    for contestant, entries in sorted(finals.items(), key=lambda item: _name(item[0]).casefold()):
        picks = [_final_pick(entry) for entry in entries]
        scores = [p.private_score for p in picks if p.private_score is not None]
        if scores:
            candidates.append((contestant, picks, max(scores) if higher else min(scores)))
    return [
        FinalRow(
            rank=rank,
            name=_name(contestant),
            final_score=score,
            public_rank=public_ranks.get(contestant),
            picks=picks,
            **_ids(contestant),
        )
        for rank, (contestant, picks, score) in _ranked(candidates, lambda c: c[2], higher_is_better=higher)
    ]


# --- Baselines ----------------------------------------------------------------------------------------


def baseline_rows(*, phase: Phase, viewer: User | AnonymousUser) -> list[Row]:
    """The rows every leaderboard shows for comparison, never ranked among learners: the lab's
    reference solution and a trivial baseline (a constant guess from the training labels), under the
    same rules of what ``viewer`` may see as the learners' rows."""
    show_public, show_private = scores_visible(phase=phase, viewer=viewer)
    rows = []
    reference = reference_result(phase.lab)
    if reference is not None:
        rows.append((_("Reference solution"), public_private_scores(phase, reference)))
    trivial = _trivial_predictions(phase)
    if trivial is not None:
        rows.append((_("Trivial baseline"), predictions_public_private_scores(phase, phase.lab.dataset, trivial)))
    return [
        Row(
            rank=None,
            name=name,
            entries=0,
            public_score=rounded(public) if show_public else None,
            private_score=private if show_private else None,
            baseline=True,
        )
        for name, (public, private) in rows
    ]


def _trivial_predictions(phase: Phase) -> list[Any] | None:
    """The same guess for every hidden row, from the training labels alone (never the hidden ones):
    the majority class, the class frequencies, or the mean. None where no such guess fits the metric
    (sequences, perplexity, a lab's own scoring program) or the lab has no data."""
    lab = phase.lab
    info = METRICS.get(lab.metric)
    if info is None or lab.dataset is None:
        return None
    dataset = lab.dataset
    y_train = np.asarray(dataset_arrays(dataset)[0]["y_train"])
    if y_train.ndim != 1 or len(y_train) == 0 or y_train.dtype.kind not in "biuf":
        return None
    if info.prediction == "label":
        values, counts = np.unique(y_train, return_counts=True)
        return [values[np.argmax(counts)].item()] * dataset.n_test
    if info.prediction == "value":
        return [float(np.mean(y_train))] * dataset.n_test
    if info.prediction == "vector" and info.is_classification and y_train.dtype.kind in "biu":
        classes = max(dataset.num_classes or 0, int(y_train.max()) + 1)
        prior = np.bincount(y_train, minlength=classes) / len(y_train)
        return [prior.tolist()] * dataset.n_test
    return None
