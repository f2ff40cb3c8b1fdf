"""Entering a phase (challenges.services.entry_submit) and picking the final entries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from challenges.models import Entry, Phase
from challenges.services import ChallengeError, entry_submit, final_picks_set, invite_accept, team_create, team_invite
from core.models import User
from labs.models import Lab
from labs.validation import SubmissionRejected
from tests.challenges.conftest import entry_create
from tests.factories import CohortFactory, UserFactory
from tests.labs.conftest import VALID_CODE


def test_an_entry_is_a_run_of_the_phases_lab(phase: Phase, learner: User) -> None:
    run = entry_submit(phase=phase, learner=learner, code=VALID_CODE, params={"epochs": 3})
    entry = Entry.objects.get(run=run)
    assert (entry.phase, entry.learner, entry.team) == (phase, learner, None)
    assert (run.submission.lab, run.submission.params["epochs"]) == (phase.lab, 3)


def test_a_team_members_entry_is_the_teams(phase: Phase, learner: User) -> None:
    team = team_create(challenge=phase.challenge, user=learner, name="Solo team")
    run = entry_submit(phase=phase, learner=learner, code=VALID_CODE)
    assert Entry.objects.get(run=run).team == team


@pytest.mark.parametrize(
    ("starts", "ends"), [(dt.timedelta(hours=1), dt.timedelta(days=1)), (-dt.timedelta(days=2), -dt.timedelta(1))]
)
def test_a_phase_not_open_now_takes_no_entry(
    phase: Phase, learner: User, starts: dt.timedelta, ends: dt.timedelta
) -> None:
    now = timezone.now()
    Phase.objects.filter(pk=phase.pk).update(starts_at=now + starts, ends_at=now + ends)
    phase.refresh_from_db()
    with pytest.raises(ChallengeError, match="not open"):
        entry_submit(phase=phase, learner=learner, code=VALID_CODE)
    assert not Entry.objects.exists()


def test_an_outsider_may_not_enter_a_challenge_for_cohorts(phase: Phase, learner: User) -> None:
    phase.challenge.open_to_everyone = False
    phase.challenge.save()
    phase.challenge.cohorts.add(CohortFactory())
    with pytest.raises(ChallengeError, match="may not take part"):
        entry_submit(phase=phase, learner=learner, code=VALID_CODE)
    assert not Entry.objects.exists()


def test_a_teams_quota_is_shared_by_its_members(phase: Phase, learner: User, other_learner: User) -> None:
    Phase.objects.filter(pk=phase.pk).update(submissions_per_day=2)
    phase.refresh_from_db()
    team = team_create(challenge=phase.challenge, user=learner, name="Pair")
    invite_accept(invite=team_invite(team=team, invited_by=learner, invitee=other_learner), user=other_learner)
    entry_submit(phase=phase, learner=learner, code=VALID_CODE)
    entry_submit(phase=phase, learner=other_learner, code=VALID_CODE)
    for member in (learner, other_learner):
        with pytest.raises(ChallengeError, match="used all the entries"):
            entry_submit(phase=phase, learner=member, code=VALID_CODE)
    assert Entry.objects.count() == 2
    entry_submit(phase=phase, learner=UserFactory(username="solo"), code=VALID_CODE)  # others are not affected


def test_the_labs_own_checks_still_hold_and_leave_no_entry(phase: Phase, learner: User) -> None:
    Lab.objects.filter(pk=phase.lab_id).update(submissions_per_day=1)
    phase.lab.refresh_from_db()
    entry_submit(phase=phase, learner=learner, code=VALID_CODE)
    with pytest.raises(SubmissionRejected):
        entry_submit(phase=phase, learner=learner, code=VALID_CODE)
    with pytest.raises(SubmissionRejected):
        entry_submit(phase=phase, learner=UserFactory(username="solo"), code="def train(:")
    assert Entry.objects.count() == 1


# --- Final picks ---------------------------------------------------------------------------------------


def finals(phase: Phase) -> set[int]:
    return set(Entry.objects.filter(phase=phase, final=True).values_list("pk", flat=True))


def test_a_learner_picks_their_final_entries_and_unpicks_the_others(phase: Phase, learner: User) -> None:
    a, b, c = (entry_create(phase, learner) for _ in range(3))
    final_picks_set(phase=phase, learner=learner, entry_ids=[a.pk, b.pk])
    assert finals(phase) == {a.pk, b.pk}
    final_picks_set(phase=phase, learner=learner, entry_ids=[c.pk])
    assert finals(phase) == {c.pk}


def test_any_member_picks_for_the_team(phase: Phase, learner: User, other_learner: User) -> None:
    team = team_create(challenge=phase.challenge, user=learner, name="Pair")
    invite_accept(invite=team_invite(team=team, invited_by=learner, invitee=other_learner), user=other_learner)
    mine, theirs = entry_create(phase, learner, team=team), entry_create(phase, other_learner, team=team)
    final_picks_set(phase=phase, learner=other_learner, entry_ids=[mine.pk, theirs.pk])
    assert finals(phase) == {mine.pk, theirs.pk}


def test_no_one_picks_anothers_entries(phase: Phase, learner: User, other_learner: User) -> None:
    mine, theirs = entry_create(phase, learner), entry_create(phase, other_learner)
    with pytest.raises(ChallengeError, match="your own"):
        final_picks_set(phase=phase, learner=learner, entry_ids=[mine.pk, theirs.pk])
    assert finals(phase) == set()


def test_no_more_picks_than_the_phase_allows(phase: Phase, learner: User) -> None:
    entries = [entry_create(phase, learner) for _ in range(3)]
    with pytest.raises(ChallengeError, match="at most 2"):
        final_picks_set(phase=phase, learner=learner, entry_ids=[e.pk for e in entries])
    assert finals(phase) == set()


def test_picks_are_closed_once_the_phase_ended(phase: Phase, learner: User) -> None:
    entry = entry_create(phase, learner)
    Phase.objects.filter(pk=phase.pk).update(ends_at=timezone.now() - dt.timedelta(seconds=1))
    phase.refresh_from_db()
    with pytest.raises(ChallengeError, match="has ended"):
        final_picks_set(phase=phase, learner=learner, entry_ids=[entry.pk])
    assert finals(phase) == set()
