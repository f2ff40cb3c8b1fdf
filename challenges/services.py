"""Challenges: the writes (reads are in ``challenges.selectors``). Teams (create, invite, accept or
decline, leave), entries and their scores, final picks, and the reveal at a phase's end.

The rules: a user is in at most one team per challenge (the database holds it too); a user who
made an entry alone stays alone; a team is left only before its first entry, and a team that
loses its last member is deleted. Refusals raise ``ChallengeError`` with a sentence for the user.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from challenges.models import Challenge, Entry, Phase, Rerun, Team, TeamInvite, TeamMember
from challenges.selectors import (
    can_take_part,
    contestant_entries_final,
    entries_of,
    entry_quota,
    has_entries,
    team_of,
)
from challenges.splits import public_private_scores
from cohorts.models import Cohort
from core.live import board_topic, live_publish
from core.models import NotificationKind, User
from core.preferences import language_of
from labs.models import Lab, Run, RunState, Submission
from labs.publishing import PublishRefused, reference_run_start
from labs.selectors import reference_result
from labs.services import run_create, runs_unseal, submission_create
from notifications.services import notify

logger = logging.getLogger(__name__)


class ChallengeError(ValueError):
    """A change the rules of a challenge refuse; the message is shown to the person who asked."""


def _check_may_join(*, challenge: Challenge, user: User) -> None:
    """Refuse ``user`` a team of ``challenge``: not taking part, in a team already, or entered alone."""
    if not can_take_part(challenge=challenge, user=user):
        raise ChallengeError(_("%(user)s may not take part in this challenge.") % {"user": user.username})
    if team_of(challenge=challenge, user=user) is not None:
        raise ChallengeError(_("%(user)s is already in a team of this challenge.") % {"user": user.username})
    if has_entries(challenge=challenge, user=user):
        raise ChallengeError(
            _("%(user)s has already entered this challenge alone and cannot join a team.") % {"user": user.username}
        )


@transaction.atomic
def team_create(*, challenge: Challenge, user: User, name: str) -> Team:
    """A new team named ``name`` in ``challenge``, with ``user`` as its first member."""
    name = name.strip()
    if not name:
        raise ChallengeError(_("Give the team a name."))
    _check_may_join(challenge=challenge, user=user)
    if Team.objects.filter(challenge=challenge, name__iexact=name).exists():
        raise ChallengeError(_("A team of this challenge is already called “%(name)s”.") % {"name": name})
    try:
        with transaction.atomic():
            team = Team.objects.create(challenge=challenge, name=name, created_by=user)
            TeamMember.objects.create(challenge=challenge, team=team, user=user)
    except IntegrityError as exc:  # a concurrent request took the name or put the user in a team
        raise ChallengeError(_("The team could not be created: try again.")) from exc
    return team


def team_invite(*, team: Team, invited_by: User, invitee: User) -> TeamInvite:
    """Invite ``invitee`` to ``team``; only a member invites, and only someone who may join a team."""
    if not team.members.filter(user=invited_by).exists():
        raise ChallengeError(_("Only the members of a team invite others to it."))
    _check_may_join(challenge=team.challenge, user=invitee)
    try:
        with transaction.atomic():
            return TeamInvite.objects.create(team=team, invitee=invitee, invited_by=invited_by)
    except IntegrityError as exc:  # one pending invitation per team and invitee
        raise ChallengeError(
            _("%(user)s is already invited to %(team)s.") % {"user": invitee.username, "team": team.name}
        ) from exc


def _check_answer(*, invite: TeamInvite, user: User) -> None:
    if invite.invitee_id != user.pk:
        raise ChallengeError(_("This invitation is not yours."))
    if not invite.pending:
        raise ChallengeError(_("This invitation has already been answered."))


@transaction.atomic
def invite_accept(*, invite: TeamInvite, user: User) -> TeamMember:
    """``user`` joins the team that invited them, if they still may."""
    Team.objects.select_for_update().filter(pk=invite.team_id).first()  # one change of a team at a time
    invite = TeamInvite.objects.select_related("team__challenge").get(pk=invite.pk)
    _check_answer(invite=invite, user=user)
    challenge = invite.team.challenge
    _check_may_join(challenge=challenge, user=user)
    try:
        with transaction.atomic():
            member = TeamMember.objects.create(challenge=challenge, team=invite.team, user=user)
    except IntegrityError as exc:  # a concurrent request put the user in another team
        raise ChallengeError(_("%(user)s is already in a team of this challenge.") % {"user": user.username}) from exc
    invite.accepted_at = timezone.now()
    invite.save(update_fields=["accepted_at"])
    return member


def invite_decline(*, invite: TeamInvite, user: User) -> None:
    """``user`` turns the invitation down (it is kept, answered)."""
    _check_answer(invite=invite, user=user)
    answered = TeamInvite.objects.filter(pk=invite.pk, accepted_at__isnull=True, declined_at__isnull=True).update(
        declined_at=timezone.now()
    )
    if not answered:  # accepted or declined meanwhile
        raise ChallengeError(_("This invitation has already been answered."))


@transaction.atomic
def team_leave(*, user: User, challenge: Challenge) -> None:
    """``user`` leaves their team in ``challenge``, only before the team's first entry; a team left
    empty is deleted (with its invitations)."""
    team = team_of(challenge=challenge, user=user)
    if team is None:
        raise ChallengeError(_("%(user)s is in no team of this challenge.") % {"user": user.username})
    team = Team.objects.select_for_update().get(pk=team.pk)  # one change of a team at a time
    if team.entries.exists():
        raise ChallengeError(_("A team can be left only before its first submission."))
    TeamMember.objects.filter(team=team, user=user).delete()
    if not team.members.exists():
        team.delete()


# --- Entries ------------------------------------------------------------------------------------------


def entry_submit(
    *,
    phase: Phase,
    learner: User,
    code: str,
    params: dict[str, Any] | None = None,
    source: str = Submission.Source.WEB,
) -> Run:
    """Submit ``code`` as an entry of ``learner`` (for their team, if any) in ``phase``: a run of the
    phase's lab through ``labs.services.submission_create`` (its validation and daily quota hold
    too), within the phase's own limits, one quota per team."""
    if not phase.is_open():
        raise ChallengeError(_("This phase is not open for entries."))
    if not can_take_part(challenge=phase.challenge, user=learner):
        raise ChallengeError(_("You may not take part in this challenge."))
    with transaction.atomic():
        team = team_of(challenge=phase.challenge, user=learner)
        if team is not None:  # members of a team spend one quota: one entry of the team at a time
            Team.objects.select_for_update().filter(pk=team.pk).first()
        if entry_quota(phase=phase, learner=learner).left <= 0:
            raise ChallengeError(_("You have used all the entries this phase allows for now."))
        # Sealed: the run's score on the whole hidden set would tell its private part until the reveal.
        run = submission_create(learner=learner, lab=phase.lab, source=source, code=code, params=params, sealed=True)
        Entry.objects.create(phase=phase, run=run, learner=learner, team=team)
        board_changed(phase=phase)  # the contestant's count of entries
    return run


def board_changed(*, phase: Phase) -> None:
    """Tell the open pages that show ``phase``'s leaderboard that it changed, at commit: they fetch it."""
    live_publish(board_topic(phase.challenge.slug, phase.position))


def run_scores_store(*, run_id: int) -> None:
    """Store the public and private scores of a run that ended, when it is an entry's (both) or a
    re-run's (the private one): scored when the run succeeded with predictions, else none. The same
    run gives the same scores: a second call changes nothing."""
    entry = Entry.objects.select_related("phase__lab", "phase__challenge").filter(run_id=run_id).first()
    rerun = Rerun.objects.select_related("entry__phase__lab", "entry__phase__challenge").filter(run_id=run_id).first()
    if entry is None and rerun is None:
        return
    phase = entry.phase if entry is not None else rerun.entry.phase
    public, private = _run_scores(phase=phase, run_id=run_id)
    if entry is not None:
        Entry.objects.filter(pk=entry.pk).update(public_score=public, private_score=private)
    if rerun is not None:
        Rerun.objects.filter(pk=rerun.pk).update(private_score=private)
    board_changed(phase=phase)


def baselines_changed(*, run_id: int) -> None:
    """A lab's reference run ended: the boards of the phases on that lab show it as their baseline."""
    for phase in Phase.objects.filter(lab__reference_run_id=run_id).select_related("challenge"):
        board_changed(phase=phase)


def _run_scores(*, phase: Phase, run_id: int) -> tuple[float | None, float | None]:
    run = Run.objects.select_related("submission", "dataset").get(pk=run_id)
    if run.state != RunState.SUCCEEDED or run.predictions is None:
        return None, None
    try:
        return public_private_scores(phase, run)
    except ValueError:  # not the phase's lab: never the learner's doing, and no reason to fail the run's end
        logger.exception("run %s: no challenge scores in phase %s", run_id, phase.pk)
        return None, None


@transaction.atomic
def final_picks_set(*, phase: Phase, learner: User, entry_ids: list[int]) -> None:
    """``learner``'s (or their team's) final picks in ``phase``: these entries, none of the others,
    up to ``phase.final_picks`` of their own, until the phase ends."""
    if phase.has_ended():
        raise ChallengeError(_("The phase has ended: the final picks can no longer change."))
    ids = set(entry_ids)
    if len(ids) > phase.final_picks:
        raise ChallengeError(_("Pick at most %(count)d entries.") % {"count": phase.final_picks})
    team = team_of(challenge=phase.challenge, user=learner)
    if team is not None:  # one change of a team's picks at a time
        Team.objects.select_for_update().filter(pk=team.pk).first()
    theirs = entries_of(phase=phase, contestant=learner)
    if theirs.filter(pk__in=ids).count() != len(ids):
        raise ChallengeError(_("Pick only your own entries in this phase."))
    theirs.filter(pk__in=ids).update(final=True)
    theirs.exclude(pk__in=ids).update(final=False)


# --- The reveal ---------------------------------------------------------------------------------------


def rerun_seeds(*, phase: Phase, entry_id: int) -> list[int]:
    """The seeds an entry is re-run with: ``phase.rerun_seeds`` of them, derived from the phase's
    secret split seed and the entry alone (the same on every call), distinct."""
    seeds: list[int] = []
    counter = 0
    while len(seeds) < phase.rerun_seeds:
        digest = hashlib.sha256(f"{phase.split_seed}:{entry_id}:{counter}".encode()).digest()
        seed = int.from_bytes(digest[:8], "big") % 2**31
        if seed not in seeds:
            seeds.append(seed)
        counter += 1
    return seeds


def phase_reveal(*, phase_id: int, now: datetime | None = None) -> bool:
    """Reveal ``phase``'s private ranking once its end has passed: queue the K-seed re-runs of every
    contestant's final entries, set ``revealed_at``, unseal the entries' runs (their scores on the
    whole hidden set: ``labs.services.runs_unseal``) and, when no other phase on the lab waits for its
    reveal, the lab's other sealed runs (``_lab_runs_unseal``), and tell the contestants. True only for the one
    call that revealed; every other call (too early, or revealed already) changes nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        phase = Phase.objects.select_for_update().select_related("challenge", "lab").filter(pk=phase_id).first()
        if phase is None or phase.revealed_at is not None or not phase.has_ended(now):
            return False
        finals = contestant_entries_final(phase=phase)
        for entries in finals.values():
            for entry in entries:
                _reruns_create(phase=phase, entry=entry)
        phase.revealed_at = now
        phase.save(update_fields=["revealed_at"])
        runs_unseal(run_ids=Entry.objects.filter(phase=phase).values_list("run_id", flat=True))
        _lab_runs_unseal(lab=phase.lab)
        _reveal_notify(phase=phase, contestants=list(finals))
        board_changed(phase=phase)
    return True


def _lab_runs_unseal(*, lab: Lab) -> None:
    """Once no phase on ``lab`` waits for its reveal any more, unseal the lab's other sealed runs: those
    made on the lab's own page, the API, … while a phase sealed it (``run_sealing_receive``), and their
    re-runs. While another phase on the lab is not revealed, they stay sealed until its reveal."""
    if Phase.objects.filter(lab=lab, revealed_at__isnull=True).exists():
        return
    pending_entries = Entry.objects.filter(phase__revealed_at__isnull=True).values("run_id")
    sealed = Run.objects.filter(submission__lab=lab, sealed=True).exclude(pk__in=pending_entries)
    runs_unseal(run_ids=sealed.values_list("pk", flat=True))


def _reruns_create(*, phase: Phase, entry: Entry) -> None:
    """The entry's re-runs: its submission (the same code and parameters) run again with each seed,
    by the platform, outside the learner's quotas. A seed re-run already is left as it is."""
    if entry.public_score is None:  # a failed entry: nothing worth training again
        return
    submission = Submission.objects.select_related("lab").get(pk=entry.run.submission_id)
    for seed in rerun_seeds(phase=phase, entry_id=entry.pk):
        rerun, created = Rerun.objects.get_or_create(entry=entry, seed=seed)
        if created:
            rerun.run = run_create(submission, seed=seed, by_platform=True)  # after the reveal: not sealed
            rerun.save(update_fields=["run"])


def _reveal_notify(*, phase: Phase, contestants: list[User | Team]) -> None:
    users: list[User] = []
    for contestant in contestants:
        is_team = isinstance(contestant, Team)
        users += [m.user for m in contestant.members.select_related("user")] if is_team else [contestant]
    for user in users:
        with language_of(user):
            title = _("The final ranking of %(challenge)s is revealed.") % {"challenge": phase.challenge.title}
        notify(user=user, kind=NotificationKind.CHALLENGE_REVEALED, title=title)


def phases_reveal_due(*, now: datetime | None = None) -> int:
    """Reveal every phase whose end has passed and that is not revealed yet (the beat's task)."""
    now = now or timezone.now()
    due = Phase.objects.filter(revealed_at__isnull=True, ends_at__lte=now).values_list("pk", flat=True)
    revealed = sum(phase_reveal(phase_id=pk, now=now) for pk in due)
    sealed_runs_sweep()
    return revealed


def sealed_runs_sweep() -> None:
    """Unseal what no phase holds any more: the sealed runs of a lab none of whose phases waits for its
    reveal — a phase deleted before its end, or a run whose seal was decided while its lab's last
    phase was being revealed. Every minute with the reveals; one query when nothing is sealed."""
    sealed_labs = Run.objects.filter(sealed=True).values_list("submission__lab", flat=True).distinct()
    for lab in Lab.objects.filter(pk__in=list(sealed_labs)):
        _lab_runs_unseal(lab=lab)


# --- Creating a challenge -----------------------------------------------------------------------------

PHASE_FIELDS = (
    "lab",
    "title_en",
    "title_zh",
    "starts_at",
    "ends_at",
    "submissions_per_day",
    "submissions_total",
    "blind",
    "final_picks",
    "rerun_seeds",
    "public_fraction",
)


@transaction.atomic
def challenge_create(
    *,
    created_by: User,
    slug: str,
    title_en: str,
    rules_en: str,
    phases: Sequence[Mapping[str, Any]],
    title_zh: str = "",
    rules_zh: str = "",
    prize_en: str = "",
    prize_zh: str = "",
    open_to_everyone: bool = True,
    cohorts: Iterable[Cohort] = (),
    published: bool = False,
) -> Challenge:
    """A new challenge with its phases, numbered 1, 2, … in the order given; each phase a mapping of
    ``PHASE_FIELDS`` (``lab`` a Lab; a field left out takes the model's default). All or nothing:
    a rule broken anywhere (a taken slug, no phase, a phase that ends before it starts, a public
    fraction outside (0, 1), …) raises ``ValidationError`` with the field's message — a phase's under
    ``phases``, as "Phase N: …" — and nothing is stored."""
    challenge = Challenge(
        slug=slug,
        title_en=title_en,
        title_zh=title_zh,
        rules_en=rules_en,
        rules_zh=rules_zh,
        prize_en=prize_en,
        prize_zh=prize_zh,
        open_to_everyone=open_to_everyone,
        published=published,
        created_by=created_by,
    )
    challenge.full_clean()
    if not phases:
        raise ValidationError({"phases": _("A challenge needs at least one phase.")})
    try:
        with transaction.atomic():
            challenge.save()
    except IntegrityError as exc:  # a concurrent request took the slug
        raise ValidationError({"slug": _("A challenge with this slug already exists.")}) from exc
    challenge.cohorts.set(cohorts)
    created = [
        _phase_create(challenge=challenge, position=position, spec=spec)
        for position, spec in enumerate(phases, start=1)
    ]
    for lab in {phase.lab_id: phase.lab for phase in created}.values():
        _reference_run_ensure(lab)
    return challenge


def _reference_run_ensure(lab: Lab) -> None:
    """Queue the lab's reference solution when it has no scored reference run: its row is a baseline of
    every leaderboard of the lab's phases (``selectors.baseline_rows``). Never sealed: it is no one's
    entry, and its scores are the lab's published yardstick."""
    lab = Lab.objects.select_related("reference_run").get(pk=lab.pk)  # as it is now, not as the caller read it
    if reference_result(lab) is not None or (lab.reference_run is not None and not lab.reference_run.is_final):
        return
    try:
        reference_run_start(lab=lab, publish=False)
    except PublishRefused:  # no data or no reference solution: the trivial baseline stands alone
        logger.info("challenge lab %s: no reference run to start", lab.slug)


def _phase_create(*, challenge: Challenge, position: int, spec: Mapping[str, Any]) -> Phase:
    phase = Phase(challenge=challenge, position=position, **{k: v for k, v in spec.items() if k in PHASE_FIELDS})
    try:
        phase.full_clean()
    except ValidationError as error:
        messages = []
        for name, errors in error.message_dict.items():
            label = "" if name == NON_FIELD_ERRORS else f"{Phase._meta.get_field(name).verbose_name}: "
            messages += [
                _("Phase %(position)d: %(error)s") % {"position": position, "error": label + e} for e in errors
            ]
        raise ValidationError({"phases": messages}) from error
    phase.save()
    return phase
