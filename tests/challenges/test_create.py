"""Creating a challenge queues its labs' reference solutions, whose scores are a baseline row of every
leaderboard, once per lab and only where no reference run is scored or under way."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from challenges.services import challenge_create
from core.models import User
from labs.models import Lab, Run, RunState, Submission
from tests.labs.conftest import VALID_CODE


def _create(slug: str, lab: Lab, admin: User, phases: int = 1) -> None:
    now = timezone.now()
    spec = {"lab": lab, "title_en": "Main", "starts_at": now, "ends_at": now + dt.timedelta(days=3)}
    challenge_create(created_by=admin, slug=slug, title_en=slug, rules_en="-", phases=[spec] * phases)


@pytest.mark.django_db
def test_a_challenge_queues_its_labs_reference_run_once(lab: Lab, admin_user: User) -> None:
    Lab.objects.filter(pk=lab.pk).update(reference_solution=VALID_CODE)
    lab.refresh_from_db()
    _create("two-phases", lab, admin_user, phases=2)
    lab.refresh_from_db()
    reference = lab.reference_run
    assert reference is not None and reference.state == RunState.QUEUED
    assert reference.submission.source == Submission.Source.REFERENCE and reference.sealed is False
    assert lab.published is True
    _create("while-it-runs", lab, admin_user)  # one under way: no second
    Run.objects.filter(pk=reference.pk).update(state=RunState.SUCCEEDED, score=0.9, passed=True)
    _create("once-it-is-scored", lab, admin_user)  # one scored: none
    assert Run.objects.filter(submission__source=Submission.Source.REFERENCE).count() == 1

    Run.objects.filter(pk=reference.pk).update(state=RunState.FAILED, score=None, passed=None)
    _create("after-a-failure", lab, admin_user)  # a failed one is tried again
    assert Run.objects.filter(submission__source=Submission.Source.REFERENCE).count() == 2


@pytest.mark.django_db
def test_a_lab_without_a_reference_solution_keeps_the_trivial_baseline_alone(lab: Lab, admin_user: User) -> None:
    assert not lab.reference_solution
    _create("no-reference", lab, admin_user)
    assert not Run.objects.exists()
