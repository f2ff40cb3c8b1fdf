"""A run's end reaches challenges (labs.signals.run_ended_signal): an entry's public and private
scores, and a re-run's private score, stored with the run's end, once."""

from __future__ import annotations

import numpy as np
import pytest

from challenges.models import Entry, Phase, Rerun
from challenges.services import entry_submit
from challenges.splits import split_indices
from core.models import User
from labs import run_events
from labs.models import Run, RunState
from labs.services import run_create
from tests.labs.conftest import VALID_CODE

Y_TEST = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
# Right on the first five rows, wrong (class 2 for 0 and 1, 0 for 2) on the last five.
PREDICTIONS = [0, 1, 2, 0, 1, 0, 2, 2, 0, 2]


def expected_scores(phase: Phase) -> tuple[float, float]:
    right = np.array(PREDICTIONS) == Y_TEST
    public, private = split_indices(Y_TEST, seed=phase.split_seed, public_fraction=phase.public_fraction, classes=True)
    return float(right[public].mean()), float(right[private].mean())


def finish(run: Run, **result: object) -> None:
    run_events.run_event_apply(run_id=run.pk, token=run.token, event={"kind": "claimed", "worker": "w", "device": "c"})
    result = {"state": "succeeded", "device": "cpu", "torch_version": "2.13.0", **result}
    run_events.run_event_apply(run_id=run.pk, token=run.token, event={"kind": "finished", "result": result})


@pytest.fixture
def phase_seeded(phase: Phase) -> Phase:
    Phase.objects.filter(pk=phase.pk).update(split_seed=3)
    phase.refresh_from_db()
    public, private = expected_scores(phase)
    assert public != private  # else the test could not tell the two parts apart
    return phase


def test_a_finished_entry_stores_its_public_and_private_scores(phase_seeded: Phase, learner: User) -> None:
    run = entry_submit(phase=phase_seeded, learner=learner, code=VALID_CODE)
    finish(run, predictions=PREDICTIONS)
    entry = Entry.objects.get(run=run)
    assert Run.objects.get(pk=run.pk).state == RunState.SUCCEEDED
    assert (entry.public_score, entry.private_score) == pytest.approx(expected_scores(phase_seeded))


def test_a_second_delivery_changes_nothing(phase_seeded: Phase, learner: User) -> None:
    run = entry_submit(phase=phase_seeded, learner=learner, code=VALID_CODE)
    finish(run, predictions=PREDICTIONS)
    first = Entry.objects.values("public_score", "private_score").get(run=run)
    finish(run, predictions=[0] * 10)  # the same message again, other content: the run has moved on
    run_events.run_ended(run_id=run.pk)  # and even the signal itself, sent again
    assert Entry.objects.values("public_score", "private_score").get(run=run) == first


@pytest.mark.parametrize("state", ["failed", "cancelled"])
def test_a_run_that_did_not_succeed_leaves_both_scores_empty(phase_seeded: Phase, learner: User, state: str) -> None:
    run = entry_submit(phase=phase_seeded, learner=learner, code=VALID_CODE)
    finish(run, state=state, reason="error: boom", predictions=PREDICTIONS)
    assert Run.objects.get(pk=run.pk).state == state
    assert Entry.objects.values_list("public_score", "private_score").get(run=run) == (None, None)


def test_predictions_that_cannot_be_scored_leave_both_scores_empty(phase_seeded: Phase, learner: User) -> None:
    run = entry_submit(phase=phase_seeded, learner=learner, code=VALID_CODE)
    finish(run, predictions=[0, 1])  # two rows for ten
    assert Run.objects.get(pk=run.pk).state == RunState.FAILED
    assert Entry.objects.values_list("public_score", "private_score").get(run=run) == (None, None)


def test_a_rerun_stores_its_private_score(phase_seeded: Phase, learner: User) -> None:
    run = entry_submit(phase=phase_seeded, learner=learner, code=VALID_CODE)
    finish(run, predictions=[0] * 10)
    entry = Entry.objects.get(run=run)
    rerun = Rerun.objects.create(entry=entry, seed=7, run=run_create(run.submission, seed=7))
    finish(rerun.run, predictions=PREDICTIONS)
    rerun.refresh_from_db()
    assert rerun.private_score == pytest.approx(expected_scores(phase_seeded)[1])
    entry.refresh_from_db()
    assert entry.private_score != rerun.private_score  # the entry keeps its own


def test_a_run_outside_any_challenge_is_left_alone(lab: object, learner: User) -> None:
    from labs.services import submission_create

    run = submission_create(learner=learner, lab=lab, source="api", code=VALID_CODE)
    finish(run, predictions=PREDICTIONS)
    assert Run.objects.get(pk=run.pk).state == RunState.SUCCEEDED
    assert not Entry.objects.exists()


def test_run_create_takes_a_seed_and_draws_one_by_default(lab: object, learner: User) -> None:
    from labs.services import submission_create

    run = submission_create(learner=learner, lab=lab, source="api", code=VALID_CODE)
    assert run_create(run.submission, seed=12345).seed == 12345
    seeds = {run_create(run.submission).seed for _ in range(5)}
    assert len(seeds) > 1  # fresh draws (five equal draws from 2**31 values: never in practice)
