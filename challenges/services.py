"""Challenges: the writes (reads are in ``challenges.selectors``). Teams for now: create, invite,
accept or decline, leave.

The rules: a user is in at most one team per challenge (the database holds it too); a user who
made an entry alone stays alone; a team is left only before its first entry, and a team that
loses its last member is deleted. Refusals raise ``ChallengeError`` with a sentence for the user.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from challenges.models import Challenge, Team, TeamInvite, TeamMember
from challenges.selectors import can_take_part, has_entries, team_of
from core.models import User


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
