"""What the database holds of a challenge's rules, and the models' own small behaviour."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import RestrictedError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from challenges.models import Challenge, Entry, Phase, Rerun, TeamInvite
from challenges.services import team_create, team_invite
from core.models import User
from labs.models import Lab, Run
from tests.challenges.conftest import entry_create


def phase_create(challenge: Challenge, lab: Lab, **fields: object) -> Phase:
    now = timezone.now()
    values = {"starts_at": now, "ends_at": now + dt.timedelta(days=1), "title_en": "P", **fields}
    return Phase.objects.create(challenge=challenge, lab=lab, **values)


def test_a_phase_must_end_after_it_starts(challenge: Challenge, lab: Lab) -> None:
    now = timezone.now()
    with pytest.raises(IntegrityError):
        phase_create(challenge, lab, starts_at=now, ends_at=now)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_the_public_fraction_lies_strictly_between_0_and_1(challenge: Challenge, lab: Lab, fraction: float) -> None:
    with pytest.raises(IntegrityError):
        phase_create(challenge, lab, public_fraction=fraction)


def test_a_form_sees_the_constraints_as_messages(challenge: Challenge, lab: Lab) -> None:
    now = timezone.now()
    phase = Phase(challenge=challenge, lab=lab, title_en="P", starts_at=now, ends_at=now, public_fraction=1.0)
    with pytest.raises(ValidationError) as caught:
        phase.full_clean()
    assert "A phase must end after it starts." in caught.value.messages
    assert "The public fraction must lie strictly between 0 and 1." in caught.value.messages


def test_each_phase_gets_its_own_secret_split_seed(challenge: Challenge, lab: Lab) -> None:
    seeds = {phase_create(challenge, lab, position=n).split_seed for n in range(1, 6)}
    assert len(seeds) > 1
    assert all(0 <= seed < 2**31 for seed in seeds)


def test_a_phase_is_open_from_its_start_until_its_end(phase: Phase) -> None:
    assert not phase.is_open(phase.starts_at - dt.timedelta(seconds=1))
    assert phase.is_open(phase.starts_at)
    assert phase.is_open(phase.ends_at - dt.timedelta(seconds=1))
    assert not phase.is_open(phase.ends_at)
    assert not phase.has_ended(phase.ends_at - dt.timedelta(seconds=1))
    assert phase.has_ended(phase.ends_at)
    assert phase.is_open()  # now, by default
    assert not phase.has_ended()


def test_texts_follow_the_active_language(challenge: Challenge) -> None:
    challenge.rules_zh = "公平竞赛。"
    with translation.override("zh-hans"):
        assert (challenge.title, challenge.rules, challenge.prize) == ("小杯赛", "公平竞赛。", "")
    with translation.override("en"):
        assert (challenge.title, challenge.rules) == ("Tiny cup", "Be fair.")
    challenge.title_zh = ""
    with translation.override("zh-hans"):
        assert challenge.title == "Tiny cup"  # the other language when one is empty


def test_an_invitation_is_not_both_accepted_and_declined(
    challenge: Challenge, learner: User, other_learner: User
) -> None:
    team = team_create(challenge=challenge, user=learner, name="Pair")
    invite = team_invite(team=team, invited_by=learner, invitee=other_learner)
    now = timezone.now()
    with pytest.raises(IntegrityError):
        TeamInvite.objects.filter(pk=invite.pk).update(accepted_at=now, declined_at=now)


def test_a_run_is_at_most_one_entry(phase: Phase, learner: User) -> None:
    entry = entry_create(phase, learner)
    with pytest.raises(IntegrityError):
        Entry.objects.create(phase=phase, run=entry.run, learner=learner)


def test_one_rerun_per_entry_and_seed(phase: Phase, learner: User) -> None:
    entry = entry_create(phase, learner)
    Rerun.objects.create(entry=entry, seed=1)
    Rerun.objects.create(entry=entry, seed=2)
    with pytest.raises(IntegrityError):
        Rerun.objects.create(entry=entry, seed=1)


def test_deleting_a_challenge_takes_its_phases_teams_and_entries(phase: Phase, learner: User) -> None:
    team = team_create(challenge=phase.challenge, user=learner, name="Solo")
    entry = entry_create(phase, learner, team=team)
    Rerun.objects.create(entry=entry, seed=1)
    phase.challenge.delete()
    assert not Entry.objects.exists()
    assert not Rerun.objects.exists()
    assert Run.objects.filter(pk=entry.run_id).exists()  # the learner's run stays theirs


def test_a_team_with_entries_is_not_deleted_alone(phase: Phase, learner: User) -> None:
    team = team_create(challenge=phase.challenge, user=learner, name="Solo")
    entry_create(phase, learner, team=team)
    with pytest.raises(RestrictedError):
        team.delete()


def test_the_admin_pages_open(client: Client, phase: Phase, admin_user: User) -> None:
    User.objects.filter(pk=admin_user.pk).update(is_superuser=True)
    team = team_create(challenge=phase.challenge, user=admin_user, name="Admins")
    entry = entry_create(phase, admin_user, team=team)
    Rerun.objects.create(entry=entry, seed=3, private_score=0.5)
    client.force_login(admin_user)
    pages = [
        reverse("admin:challenges_challenge_add"),
        reverse("admin:challenges_challenge_change", args=[phase.challenge_id]),
        reverse("admin:challenges_team_change", args=[team.pk]),
        reverse("admin:challenges_entry_changelist"),
        reverse("admin:challenges_entry_change", args=[entry.pk]),
    ]
    for url in pages:
        assert client.get(url).status_code == 200, url
    change = client.get(pages[1]).content.decode()
    assert "split_seed" not in change  # secret, even here
    assert client.get(reverse("admin:challenges_entry_add")).status_code == 403


def test_an_administrator_creates_a_challenge_with_a_phase_in_the_admin(
    client: Client, lab: Lab, admin_user: User
) -> None:
    User.objects.filter(pk=admin_user.pk).update(is_superuser=True)
    client.force_login(admin_user)
    form = {
        "slug": "spring-cup",
        "title_en": "Spring cup",
        "rules_en": "Be fair.",
        "open_to_everyone": "on",
        "phases-TOTAL_FORMS": "1",
        "phases-INITIAL_FORMS": "0",
        "phases-0-lab": lab.pk,
        "phases-0-position": "1",
        "phases-0-title_en": "Main",
        "phases-0-starts_at_0": "2030-01-01",
        "phases-0-starts_at_1": "00:00:00",
        "phases-0-ends_at_0": "2030-02-01",
        "phases-0-ends_at_1": "00:00:00",
        "phases-0-submissions_per_day": "5",
        "phases-0-final_picks": "2",
        "phases-0-rerun_seeds": "3",
        "phases-0-public_fraction": "0.5",
    }
    response = client.post(reverse("admin:challenges_challenge_add"), form)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    challenge = Challenge.objects.get(slug="spring-cup")
    assert challenge.created_by == admin_user
    assert challenge.phases.get().lab == lab
