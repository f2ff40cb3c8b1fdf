"""Teams (challenges.services): one team per user per challenge, invitations, leaving before the
first entry, and who may take part."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError
from django.utils import timezone

from challenges.models import Challenge, Phase, Team, TeamInvite, TeamMember
from challenges.services import (
    ChallengeError,
    invite_accept,
    invite_decline,
    team_create,
    team_invite,
    team_leave,
)
from cohorts.models import Cohort, CohortMember
from core.models import User
from tests.challenges.conftest import entry_create
from tests.factories import UserFactory


@pytest.fixture
def third(db: None) -> User:
    return UserFactory(role="learner", username="tara")


def test_the_creator_is_the_first_member(challenge: Challenge, learner: User) -> None:
    team = team_create(challenge=challenge, user=learner, name="  Gradient Descenders ")
    assert team.name == "Gradient Descenders"
    assert list(team.members.values_list("user__username", flat=True)) == ["lena"]


def test_a_user_is_in_one_team_per_challenge(challenge: Challenge, learner: User) -> None:
    team_create(challenge=challenge, user=learner, name="First")
    with pytest.raises(ChallengeError, match="already in a team"):
        team_create(challenge=challenge, user=learner, name="Second")
    assert list(Team.objects.values_list("name", flat=True)) == ["First"]


def test_the_database_also_holds_one_team_per_user(challenge: Challenge, learner: User) -> None:
    first = team_create(challenge=challenge, user=learner, name="First")
    second = Team.objects.create(challenge=challenge, name="Second")
    assert first.pk != second.pk
    with pytest.raises(IntegrityError):
        TeamMember.objects.create(challenge=challenge, team=second, user=learner)


def test_a_user_may_be_in_teams_of_two_challenges(challenge: Challenge, learner: User) -> None:
    other = Challenge.objects.create(slug="other-cup", title_en="Other cup", rules_en="-")
    team_create(challenge=challenge, user=learner, name="Same name")
    team_create(challenge=other, user=learner, name="Same name")
    assert TeamMember.objects.filter(user=learner).count() == 2


def test_team_names_are_unique_in_a_challenge_whatever_their_case(
    challenge: Challenge, learner: User, other_learner: User
) -> None:
    team_create(challenge=challenge, user=learner, name="Alpha")
    with pytest.raises(ChallengeError, match="already called"):
        team_create(challenge=challenge, user=other_learner, name="alpha")
    with pytest.raises(IntegrityError):
        Team.objects.create(challenge=challenge, name="ALPHA")


def test_a_team_needs_a_name(challenge: Challenge, learner: User) -> None:
    with pytest.raises(ChallengeError, match="name"):
        team_create(challenge=challenge, user=learner, name="   ")


def test_a_learner_who_entered_alone_cannot_create_a_team(phase: Phase, learner: User) -> None:
    entry_create(phase, learner)
    with pytest.raises(ChallengeError, match="alone"):
        team_create(challenge=phase.challenge, user=learner, name="Late")
    assert not Team.objects.exists()


def test_only_cohort_members_take_part_in_a_closed_challenge(
    challenge: Challenge, learner: User, other_learner: User
) -> None:
    today = timezone.localdate()
    cohort = Cohort.objects.create(slug="c", name="C", starts_on=today, ends_on=today + dt.timedelta(30))
    CohortMember.objects.create(cohort=cohort, learner=learner)
    Challenge.objects.filter(pk=challenge.pk).update(open_to_everyone=False)
    challenge.refresh_from_db()
    challenge.cohorts.add(cohort)
    with pytest.raises(ChallengeError, match="may not take part"):
        team_create(challenge=challenge, user=other_learner, name="Outsiders")
    team = team_create(challenge=challenge, user=learner, name="Insiders")
    with pytest.raises(ChallengeError, match="may not take part"):
        team_invite(team=team, invited_by=learner, invitee=other_learner)


# --- Invitations -----------------------------------------------------------------------------------------


def test_an_invited_user_who_accepts_joins_the_team(challenge: Challenge, learner: User, other_learner: User) -> None:
    team = team_create(challenge=challenge, user=learner, name="Pair")
    invite = team_invite(team=team, invited_by=learner, invitee=other_learner)
    assert invite.pending
    invite_accept(invite=invite, user=other_learner)
    invite.refresh_from_db()
    assert invite.accepted_at is not None
    assert not invite.pending
    assert set(team.members.values_list("user__username", flat=True)) == {"lena", "omar"}


def test_a_declined_invitation_is_kept_and_adds_no_one(
    challenge: Challenge, learner: User, other_learner: User
) -> None:
    team = team_create(challenge=challenge, user=learner, name="Pair")
    invite = team_invite(team=team, invited_by=learner, invitee=other_learner)
    invite_decline(invite=invite, user=other_learner)
    invite.refresh_from_db()
    assert invite.declined_at is not None
    assert team.members.count() == 1
    with pytest.raises(ChallengeError, match="already been answered"):
        invite_accept(invite=invite, user=other_learner)
    again = team_invite(team=team, invited_by=learner, invitee=other_learner)  # a new invitation may follow
    assert again.pk != invite.pk


def test_only_members_invite(challenge: Challenge, learner: User, other_learner: User, third: User) -> None:
    team = team_create(challenge=challenge, user=learner, name="Pair")
    with pytest.raises(ChallengeError, match="Only the members"):
        team_invite(team=team, invited_by=other_learner, invitee=third)


def test_one_pending_invitation_per_team_and_invitee(challenge: Challenge, learner: User, other_learner: User) -> None:
    team = team_create(challenge=challenge, user=learner, name="Pair")
    team_invite(team=team, invited_by=learner, invitee=other_learner)
    with pytest.raises(ChallengeError, match="already invited"):
        team_invite(team=team, invited_by=learner, invitee=other_learner)
    assert TeamInvite.objects.count() == 1


def test_a_user_in_a_team_cannot_be_invited_or_accept(
    challenge: Challenge, learner: User, other_learner: User, third: User
) -> None:
    team = team_create(challenge=challenge, user=learner, name="Pair")
    team_create(challenge=challenge, user=other_learner, name="Solo")
    with pytest.raises(ChallengeError, match="already in a team"):
        team_invite(team=team, invited_by=learner, invitee=other_learner)
    invite = team_invite(team=team, invited_by=learner, invitee=third)
    team_create(challenge=challenge, user=third, name="Own team")  # meanwhile
    with pytest.raises(ChallengeError, match="already in a team"):
        invite_accept(invite=invite, user=third)
    assert team.members.count() == 1


def test_only_the_invitee_answers(challenge: Challenge, learner: User, other_learner: User, third: User) -> None:
    team = team_create(challenge=challenge, user=learner, name="Pair")
    invite = team_invite(team=team, invited_by=learner, invitee=other_learner)
    with pytest.raises(ChallengeError, match="not yours"):
        invite_accept(invite=invite, user=third)
    with pytest.raises(ChallengeError, match="not yours"):
        invite_decline(invite=invite, user=third)
    assert TeamInvite.objects.get().pending


def test_a_learner_who_entered_alone_cannot_accept(phase: Phase, learner: User, other_learner: User) -> None:
    team = team_create(challenge=phase.challenge, user=learner, name="Pair")
    invite = team_invite(team=team, invited_by=learner, invitee=other_learner)
    entry_create(phase, other_learner)
    with pytest.raises(ChallengeError, match="alone"):
        invite_accept(invite=invite, user=other_learner)


# --- Leaving ---------------------------------------------------------------------------------------------


def test_a_member_leaves_before_the_first_entry(challenge: Challenge, learner: User, other_learner: User) -> None:
    team = team_create(challenge=challenge, user=learner, name="Pair")
    invite_accept(invite=team_invite(team=team, invited_by=learner, invitee=other_learner), user=other_learner)
    team_leave(user=other_learner, challenge=challenge)
    assert list(team.members.values_list("user__username", flat=True)) == ["lena"]
    team_create(challenge=challenge, user=other_learner, name="Fresh start")  # free to join another


def test_a_team_left_empty_is_deleted_with_its_invitations(
    challenge: Challenge, learner: User, other_learner: User
) -> None:
    team = team_create(challenge=challenge, user=learner, name="Pair")
    team_invite(team=team, invited_by=learner, invitee=other_learner)
    team_leave(user=learner, challenge=challenge)
    assert not Team.objects.filter(pk=team.pk).exists()
    assert not TeamInvite.objects.exists()


def test_leaving_is_refused_once_the_team_has_an_entry(phase: Phase, learner: User, other_learner: User) -> None:
    team = team_create(challenge=phase.challenge, user=learner, name="Pair")
    invite_accept(invite=team_invite(team=team, invited_by=learner, invitee=other_learner), user=other_learner)
    entry_create(phase, learner, team=team)
    with pytest.raises(ChallengeError, match="before its first submission"):
        team_leave(user=other_learner, challenge=phase.challenge)
    assert team.members.count() == 2


def test_leaving_no_team_is_refused(challenge: Challenge, learner: User) -> None:
    with pytest.raises(ChallengeError, match="in no team"):
        team_leave(user=learner, challenge=challenge)
