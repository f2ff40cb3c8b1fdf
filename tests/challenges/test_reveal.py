"""The reveal at a phase's end (challenges.services.phase_reveal): once, never early, with the
K-seed re-runs of the final entries and one notification per contestant; and the beat task."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from challenges.models import Phase, Rerun
from challenges.services import invite_accept, phase_reveal, rerun_seeds, team_create, team_invite
from challenges.tasks import phases_reveal_due
from config.celery_app import app as celery_app
from core.models import NotificationKind, User
from labs.models import Run, RunState
from notifications.models import Notification
from tests.challenges.conftest import entry_create
from tests.factories import UserFactory


def ending_now(phase: Phase) -> dt.datetime:
    end = timezone.now().replace(microsecond=0)
    Phase.objects.filter(pk=phase.pk).update(starts_at=end - dt.timedelta(days=1), ends_at=end)
    return end


def test_no_reveal_before_the_end(phase: Phase, learner: User) -> None:
    entry_create(phase, learner)
    end = ending_now(phase)
    assert phase_reveal(phase_id=phase.pk, now=end - dt.timedelta(microseconds=1)) is False
    phase.refresh_from_db()
    assert phase.revealed_at is None
    assert not Rerun.objects.exists() and not Notification.objects.exists()


def test_the_reveal_happens_once_exactly_at_the_end(phase: Phase, learner: User) -> None:
    entry_create(phase, learner)
    end = ending_now(phase)
    assert phase_reveal(phase_id=phase.pk, now=end) is True
    assert phase_reveal(phase_id=phase.pk, now=end + dt.timedelta(minutes=5)) is False
    phase.refresh_from_db()
    assert phase.revealed_at == end


def test_each_final_entry_is_rerun_with_k_seeds_once(phase: Phase, learner: User, other_learner: User) -> None:
    Phase.objects.filter(pk=phase.pk).update(rerun_seeds=3, final_picks=2)
    mine = [entry_create(phase, learner, public_score=s) for s in (0.9, 0.8, 0.1)]
    theirs = entry_create(phase, other_learner, public_score=0.5)
    entry_create(phase, other_learner, public_score=None, state=RunState.FAILED)  # nothing to re-run
    end = ending_now(phase)
    phase_reveal(phase_id=phase.pk, now=end)
    phase_reveal(phase_id=phase.pk, now=end)
    phase.refresh_from_db()
    reruns = Rerun.objects.select_related("run__submission")
    assert sorted(r.entry_id for r in reruns) == sorted([mine[0].pk] * 3 + [mine[1].pk] * 3 + [theirs.pk] * 3)
    for rerun in reruns:
        assert rerun.seed in rerun_seeds(phase=phase, entry_id=rerun.entry_id)
        assert (rerun.run.seed, rerun.run.state) == (rerun.seed, RunState.QUEUED)
        assert rerun.run.submission == rerun.entry.run.submission  # the same code and parameters
    assert Run.objects.count() == 5 + 9


def test_rerun_seeds_are_deterministic_distinct_and_secret_dependent(phase: Phase) -> None:
    seeds = rerun_seeds(phase=phase, entry_id=1)
    assert seeds == rerun_seeds(phase=phase, entry_id=1) and len(set(seeds)) == phase.rerun_seeds
    assert seeds != rerun_seeds(phase=phase, entry_id=2)
    phase.split_seed += 1
    assert seeds != rerun_seeds(phase=phase, entry_id=1)


def test_every_contestant_hears_of_the_reveal_once(phase: Phase, learner: User, other_learner: User) -> None:
    team = team_create(challenge=phase.challenge, user=learner, name="Pair")
    invite_accept(invite=team_invite(team=team, invited_by=learner, invitee=other_learner), user=other_learner)
    entry_create(phase, learner, team=team)
    solo = UserFactory(username="solo")
    entry_create(phase, solo)
    end = ending_now(phase)
    phase_reveal(phase_id=phase.pk, now=end)
    phase_reveal(phase_id=phase.pk, now=end)
    notes = Notification.objects.filter(kind=NotificationKind.CHALLENGE_REVEALED)
    assert sorted(n.user_id for n in notes) == sorted([learner.pk, other_learner.pk, solo.pk])
    assert all("Tiny cup" in n.title for n in notes)


def test_the_beat_task_reveals_the_phases_due(phase: Phase, learner: User) -> None:
    entry_create(phase, learner)
    assert phases_reveal_due() == 0
    ending_now(phase)
    assert phases_reveal_due() == 1
    assert phases_reveal_due() == 0


def test_the_task_is_on_the_beat_schedule_and_the_default_queue() -> None:
    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "challenges.tasks.phases_reveal_due"]
    assert len(entries) == 1 and entries[0]["schedule"] <= 60
    assert "challenges.tasks.phases_reveal_due" in celery_app.tasks
    assert celery_app.amqp.router.route({}, "challenges.tasks.phases_reveal_due")["queue"].name == "default"
