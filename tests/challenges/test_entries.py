"""A phase's entries (challenges.selectors): one quota per team, the default final picks."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from challenges.models import Entry, Phase
from challenges.selectors import EntryQuota, entry_quota, final_picks_default
from challenges.services import invite_accept, team_create, team_invite
from core.models import User
from labs.models import Lab, RunState
from tests.challenges.conftest import entry_create


def test_the_quota_counts_a_learners_entries(phase: Phase, learner: User, other_learner: User) -> None:
    assert entry_quota(phase=phase, learner=learner) == EntryQuota(used_today=0, used_total=0, left=5)
    entry_create(phase, learner)
    entry_create(phase, learner)
    entry_create(phase, other_learner)
    assert entry_quota(phase=phase, learner=learner) == EntryQuota(used_today=2, used_total=2, left=3)


def test_a_team_has_one_quota_for_its_members_together(phase: Phase, learner: User, other_learner: User) -> None:
    team = team_create(challenge=phase.challenge, user=learner, name="Pair")
    invite_accept(invite=team_invite(team=team, invited_by=learner, invitee=other_learner), user=other_learner)
    entry_create(phase, learner, team=team)
    entry_create(phase, other_learner, team=team)
    entry_create(phase, other_learner, team=team)
    for member in (learner, other_learner):
        assert entry_quota(phase=phase, learner=member) == EntryQuota(used_today=3, used_total=3, left=2)


def test_entries_older_than_a_day_count_only_in_the_total(phase: Phase, learner: User) -> None:
    Phase.objects.filter(pk=phase.pk).update(submissions_total=4)
    phase.refresh_from_db()
    old = entry_create(phase, learner)
    Entry.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=1, minutes=1))
    entry_create(phase, learner)
    entry_create(phase, learner)
    assert entry_quota(phase=phase, learner=learner) == EntryQuota(used_today=2, used_total=3, left=1)


def test_the_total_limit_caps_what_is_left(phase: Phase, learner: User) -> None:
    Phase.objects.filter(pk=phase.pk).update(submissions_total=2)
    phase.refresh_from_db()
    entry_create(phase, learner)
    entry_create(phase, learner)
    entry_create(phase, learner)  # beyond the limit (e.g. the limit was lowered): none left, never negative
    assert entry_quota(phase=phase, learner=learner) == EntryQuota(used_today=3, used_total=3, left=0)


def test_cancelled_runs_and_runs_the_platform_ended_are_free(phase: Phase, learner: User) -> None:
    entry_create(phase, learner, state=RunState.CANCELLED)
    entry_create(phase, learner, state=RunState.FAILED, reason="platform: worker lost")
    entry_create(phase, learner, state=RunState.FAILED, reason="error: ZeroDivisionError")
    assert entry_quota(phase=phase, learner=learner) == EntryQuota(used_today=1, used_total=1, left=4)


# --- Default final picks ---------------------------------------------------------------------------------


def test_the_default_final_picks_are_the_best_two_by_public_score(phase: Phase, learner: User) -> None:
    scores = [0.6, 0.9, None, 0.7, 0.8]
    entries = [entry_create(phase, learner, public_score=s) for s in scores]
    assert final_picks_default(phase=phase, contestant=learner) == [entries[1], entries[4]]


def test_among_equal_scores_the_earlier_entry_is_picked(phase: Phase, learner: User) -> None:
    first, second, third = (entry_create(phase, learner, public_score=0.8) for _ in range(3))
    Entry.objects.filter(pk=first.pk).update(created_at=timezone.now() + dt.timedelta(minutes=1))
    assert final_picks_default(phase=phase, contestant=learner) == [second, third]


def test_lower_is_better_picks_the_lowest_scores(phase: Phase, learner: User) -> None:
    Lab.objects.filter(pk=phase.lab_id).update(metric="mse", higher_is_better=False)
    phase.lab.refresh_from_db()
    entries = [entry_create(phase, learner, public_score=s) for s in (3.0, 1.0, 2.0)]
    assert final_picks_default(phase=phase, contestant=learner) == [entries[1], entries[2]]


def test_a_teams_picks_come_from_all_its_members(phase: Phase, learner: User, other_learner: User) -> None:
    Phase.objects.filter(pk=phase.pk).update(final_picks=3)
    phase.refresh_from_db()
    team = team_create(challenge=phase.challenge, user=learner, name="Pair")
    invite_accept(invite=team_invite(team=team, invited_by=learner, invitee=other_learner), user=other_learner)
    mine = entry_create(phase, learner, team=team, public_score=0.7)
    theirs = entry_create(phase, other_learner, team=team, public_score=0.9)
    entry_create(phase, other_learner, team=team, public_score=0.1)
    entry_create(phase, learner, team=team, public_score=0.8)
    picks = final_picks_default(phase=phase, contestant=team)
    assert [e.public_score for e in picks] == [0.9, 0.8, 0.7]
    assert picks[0] == theirs
    assert picks[2] == mine
    assert final_picks_default(phase=phase, contestant=learner) == picks  # a member's picks are the team's


@pytest.mark.parametrize("final_picks", [1, 3])
def test_the_number_of_picks_is_the_phases(phase: Phase, learner: User, final_picks: int) -> None:
    Phase.objects.filter(pk=phase.pk).update(final_picks=final_picks)
    phase.refresh_from_db()
    for score in (0.1, 0.2, 0.3, 0.4):
        entry_create(phase, learner, public_score=score)
    picks = final_picks_default(phase=phase, contestant=learner)
    assert [e.public_score for e in picks] == [0.4, 0.3, 0.2][:final_picks]
