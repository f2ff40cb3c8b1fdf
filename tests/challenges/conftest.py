"""A challenge on the tiny lab (tests.labs.conftest), with one phase open now, and entries made of
finished runs written straight to the database."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from challenges.models import Challenge, Entry, Phase, Team
from core.models import User
from labs.models import Lab, Run, RunState
from tests.labs.conftest import lab  # noqa: F401 - the fixture
from tests.mentorship.conftest import queued_result


@pytest.fixture
def challenge(db: None) -> Challenge:
    return Challenge.objects.create(slug="tiny-cup", title_en="Tiny cup", title_zh="小杯赛", rules_en="Be fair.")


@pytest.fixture
def phase(challenge: Challenge, lab: Lab) -> Phase:  # noqa: F811 - the lab fixture
    now = timezone.now()
    return Phase.objects.create(
        challenge=challenge,
        lab=lab,
        title_en="Main phase",
        starts_at=now - dt.timedelta(days=1),
        ends_at=now + dt.timedelta(days=7),
    )


def entry_create(
    phase: Phase,
    learner: User,
    *,
    team: Team | None = None,
    public_score: float | None = 0.5,
    state: str = RunState.SUCCEEDED,
    reason: str = "",
) -> Entry:
    """An entry of ``learner`` (for ``team``) in ``phase``, on a run that ended in ``state``."""
    run = queued_result(learner, phase.lab, state=state)
    Run.objects.filter(pk=run.pk).update(reason=reason)
    return Entry.objects.create(phase=phase, run=run, learner=learner, team=team, public_score=public_score)
