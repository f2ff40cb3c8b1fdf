"""The public/private split of a lab's hidden test set (challenges.splits): stable, disjoint, covering,
stratified; and a run's scores on each part."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from challenges.models import Phase
from challenges.splits import public_private_scores, split_indices, subset_score
from core.models import User
from labs.models import Lab, Metric, Run
from tests.mentorship.conftest import another_lab, queued_result

# Imbalanced classes: 50, 7, 3, 2 and 1 rows, shuffled.
CLASSES = np.random.default_rng(5).permutation(np.repeat([0, 1, 2, 3, 4], [50, 7, 3, 2, 1]))


def check_partition(labels: np.ndarray, public: np.ndarray, private: np.ndarray) -> None:
    for part in (public, private):
        assert part.dtype == np.int64
        assert np.all(np.diff(part) > 0), "sorted, no repeats"
    assert np.intersect1d(public, private).size == 0
    assert np.array_equal(np.union1d(public, private), np.arange(len(labels)))


def check_strata(strata: np.ndarray, public: np.ndarray, fraction: float) -> None:
    """Each stratum within one row of its share, and on both sides when it has two rows or more."""
    is_public = np.isin(np.arange(len(strata)), public)
    for stratum in np.unique(strata):
        rows = strata == stratum
        size, in_public = int(rows.sum()), int(is_public[rows].sum())
        assert abs(in_public - size * fraction) <= 1, (stratum, size, in_public)
        if size >= 2:
            assert 0 < in_public < size, (stratum, size, in_public)


# round(63 * fraction) public rows, or as close as "every class of 2 rows or more on both sides" allows:
# at 0.1, 5 + 1 + 1 + 1 + 0 rows at least; at 0.9, 45 + 6 + 2 + 1 + 1 at most.
@pytest.mark.parametrize(("fraction", "n_public"), [(0.1, 8), (0.3, 19), (0.5, 32), (0.9, 55)])
def test_split_is_disjoint_covering_and_stratified_by_class(fraction: float, n_public: int) -> None:
    public, private = split_indices(CLASSES, seed=7, public_fraction=fraction)
    check_partition(CLASSES, public, private)
    check_strata(CLASSES, public, fraction)
    assert len(public) == n_public


def test_split_is_the_same_on_every_call_whatever_numpys_global_state() -> None:
    first = split_indices(CLASSES, seed=11, public_fraction=0.5)
    np.random.seed(123)
    np.random.random(10)
    again = split_indices(CLASSES, seed=11, public_fraction=0.5)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))


def test_split_is_the_same_in_another_process() -> None:
    code = (
        "import json, django, numpy as np; django.setup();"
        "from challenges.splits import split_indices;"
        f"labels = np.array({CLASSES.tolist()});"
        "public, private = split_indices(labels, seed=11, public_fraction=0.5);"
        "print(json.dumps([public.tolist(), private.tolist()]))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "PYTHONHASHSEED": "random"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    public, private = split_indices(CLASSES, seed=11, public_fraction=0.5)
    assert json.loads(out) == [public.tolist(), private.tolist()]


def test_another_seed_gives_another_split() -> None:
    public, _private = split_indices(CLASSES, seed=1, public_fraction=0.5)
    other, _other_private = split_indices(CLASSES, seed=2, public_fraction=0.5)
    assert len(public) == len(other)
    assert not np.array_equal(public, other)


def test_regression_labels_are_split_evenly_across_their_range() -> None:
    values = np.random.default_rng(3).normal(size=200)
    public, private = split_indices(values, seed=4, public_fraction=0.5)
    check_partition(values, public, private)
    deciles = np.argsort(np.argsort(values)) // 20  # ten bins of 20 rows by rank
    assert [int(np.isin(public, np.flatnonzero(deciles == d)).sum()) for d in range(10)] == [10] * 10


def test_token_sequences_are_split_without_strata() -> None:
    sequences = np.arange(30).reshape(10, 3)
    public, private = split_indices(sequences, seed=4, public_fraction=0.3)
    check_partition(sequences, public, private)
    assert len(public) == 3


def test_no_rows_split_into_two_empty_parts() -> None:
    public, private = split_indices(np.array([], dtype=np.int64), seed=1, public_fraction=0.5)
    assert (public.tolist(), private.tolist()) == ([], [])


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.5, 1.5])
def test_a_fraction_outside_0_and_1_is_refused(fraction: float) -> None:
    with pytest.raises(ValueError, match="public_fraction"):
        split_indices(CLASSES, seed=1, public_fraction=fraction)


@settings(max_examples=150, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 30), min_size=1, max_size=8),
    fraction=st.floats(0.01, 0.99),
    seed=st.integers(0, 2**31 - 1),
    floats=st.booleans(),
)
def test_any_split_is_a_stratified_partition(sizes: list[int], fraction: float, seed: int, floats: bool) -> None:
    labels = np.random.default_rng(seed).permutation(np.repeat(np.arange(len(sizes)), sizes))
    labels = labels.astype(np.float64) if floats else labels
    public, private = split_indices(labels, seed=seed, public_fraction=fraction, classes=True)
    check_partition(labels, public, private)
    check_strata(labels, public, fraction)
    assert abs(len(public) - math.floor(len(labels) * fraction + 0.5)) <= len(sizes)


# --- Scores on a part -------------------------------------------------------------------------------


def test_subset_score_scores_only_the_given_rows() -> None:
    y_true = np.array([0, 1, 2, 0, 1, 2])
    predictions = [0, 1, 0, 0, 2, 2]  # right on rows 0, 1, 3, 5
    assert subset_score("accuracy", y_true, predictions, np.array([0, 2, 4])).score == pytest.approx(1 / 3)
    assert subset_score("accuracy", y_true, predictions, np.array([1, 3, 5])).score == pytest.approx(1.0)


def test_subset_score_of_values_equals_a_hand_computation() -> None:
    y_true = np.array([1.0, 2.0, 3.0, 4.0])
    predictions = [1.5, 2.0, 5.0, 3.0]
    outcome = subset_score("mse", y_true, predictions, np.array([0, 2, 3]))
    assert outcome.score == pytest.approx((0.25 + 4.0 + 1.0) / 3)


def test_subset_score_reports_predictions_of_the_wrong_length() -> None:
    outcome = subset_score("accuracy", np.array([0, 1, 2, 0]), [0, 1], np.array([0, 3]))
    assert outcome.score is None
    assert outcome.error == "error: predict returned 2 predictions for 4 test rows"


def test_subset_score_of_no_rows_is_an_error() -> None:
    outcome = subset_score("accuracy", np.array([0, 1]), [0, 1], np.array([], dtype=np.int64))
    assert outcome.score is None
    assert "empty" in outcome.error


def run_with_predictions(learner: User, lab: Lab, predictions: list[int]) -> Run:
    run = queued_result(learner, lab)
    Run.objects.filter(pk=run.pk).update(predictions=predictions)
    run.refresh_from_db()
    return run


def test_public_and_private_scores_are_the_runs_scores_on_each_part(phase: Phase, learner: User) -> None:
    y_true = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])  # the tiny lab's hidden labels
    predictions = [0, 1, 0, 0, 0, 2, 1, 1, 0, 0]
    run = run_with_predictions(learner, phase.lab, predictions)
    public, private = split_indices(y_true, seed=phase.split_seed, public_fraction=phase.public_fraction)
    hits = y_true == np.array(predictions)
    assert public_private_scores(phase, run) == (
        pytest.approx(hits[public].mean()),
        pytest.approx(hits[private].mean()),
    )


def test_the_split_follows_the_phases_seed_and_fraction(phase: Phase, learner: User) -> None:
    run = run_with_predictions(learner, phase.lab, [0, 1, 2, 0, 1, 0, 1, 2, 0, 1])  # right on rows 0 to 4
    scores = set()
    for seed in range(20):
        Phase.objects.filter(pk=phase.pk).update(split_seed=seed, public_fraction=0.3)
        phase.refresh_from_db()
        public, private = public_private_scores(phase, run)
        assert public in (0.0, 1 / 3, 2 / 3, 1.0)  # three public rows
        assert public * 3 + private * 7 == pytest.approx(5)
        scores.add(public)
    assert len(scores) > 1


def test_a_lab_with_its_own_scoring_program_is_not_split(phase: Phase, learner: User) -> None:
    Lab.objects.filter(pk=phase.lab_id).update(metric=Metric.CUSTOM, scoring_code="def score(): ...")
    phase.lab.refresh_from_db()
    run = run_with_predictions(learner, phase.lab, [0] * 10)
    assert public_private_scores(phase, run) == (None, None)


def test_a_run_of_another_lab_is_refused(phase: Phase, learner: User) -> None:
    other = another_lab(phase.lab, "other")
    run = run_with_predictions(learner, other, [0] * 10)
    with pytest.raises(ValueError, match="not a run of the phase's lab"):
        public_private_scores(phase, run)
