"""The public and private parts of a lab's hidden test set, and a run's score on each.

The split is a pure function of the labels, the phase's secret seed and its public fraction: the
same inputs give the same rows on every call, in every process, whatever numpy's global state, so
nothing about it needs storing. It is stratified, so that neither part is luckier than the other:
each class (or, for numbers, each quantile bin) is split in the phase's proportion.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from labs.datasets import dataset_test_labels
from labs.models import Metric
from labs.scoring import METRICS, ScoreOutcome, prediction_problem, predictions_array, score

if TYPE_CHECKING:
    from challenges.models import Phase
    from labs.models import Dataset, Run

QUANTILE_BINS = 10


def _strata(labels: np.ndarray, classes: bool | None) -> np.ndarray:
    """A stratum id per row: the class, a quantile bin of the value, or 0 for all (rows of several
    values, such as token sequences, are not stratified)."""
    if labels.ndim != 1:
        return np.zeros(len(labels), dtype=np.int64)
    if classes is None:
        classes = labels.dtype.kind != "f"
    if classes:
        return np.unique(labels, return_inverse=True)[1].ravel()
    if labels.dtype.kind not in "biuf":
        return np.zeros(len(labels), dtype=np.int64)
    # Bins of equal size by rank (at least 2 rows each where possible, so each bin has both parts).
    bins = max(1, min(QUANTILE_BINS, len(labels) // 2))
    ranks = np.empty(len(labels), dtype=np.int64)
    ranks[np.argsort(labels, kind="stable")] = np.arange(len(labels))
    return ranks * bins // len(labels)


def _public_counts(sizes: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """How many rows of each stratum are public: within one row of ``size * fraction`` each, at least
    one row on each side of a stratum of two or more, and round(n * fraction) in all when those bounds
    allow (largest remainders first; ties in a seeded order)."""
    ideal = sizes * fraction
    low, high = np.floor(ideal).astype(np.int64), np.ceil(ideal).astype(np.int64)
    both_sides = sizes >= 2
    low = np.where(both_sides, np.maximum(low, 1), low)
    high = np.where(both_sides, np.minimum(high, sizes - 1), high)
    target = min(max(math.floor(sizes.sum() * fraction + 0.5), int(low.sum())), int(high.sum()))
    tie_break = rng.permutation(len(sizes))
    order = np.lexsort((tie_break, -(ideal - low)))  # the largest remainder first
    raisable = order[high[order] > low[order]]
    counts = low.copy()
    counts[raisable[: target - int(low.sum())]] += 1
    return counts


def split_indices(
    labels: np.ndarray, *, seed: int, public_fraction: float, classes: bool | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The hidden test rows split into (public, private) row indices: sorted int64 arrays, disjoint,
    together every row.

    Stratified by class (``classes``; by default for labels that are not floats) or, for numbers, by
    quantile bins of 10% of the rows: each stratum puts within one row of its share in the public part,
    and one row at least on each side when it has two or more; the public part holds
    round(n * ``public_fraction``) rows, or as close as those rules allow. Which rows, within a stratum,
    is drawn from ``np.random.default_rng(seed)`` alone: the same inputs give the same split anywhere.
    """
    if not 0 < public_fraction < 1:
        raise ValueError(f"public_fraction must lie strictly between 0 and 1, got {public_fraction}")
    labels = np.asarray(labels)
    if len(labels) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    rng = np.random.default_rng(seed)
    strata = _strata(labels, classes)
    sizes = np.bincount(strata)
    counts = _public_counts(sizes, public_fraction, rng)
    by_stratum = np.split(np.argsort(strata, kind="stable"), np.cumsum(sizes)[:-1])
    is_public = np.zeros(len(labels), dtype=bool)
    for rows, count in zip(by_stratum, counts, strict=True):
        is_public[rng.permutation(rows)[:count]] = True
    return np.flatnonzero(is_public).astype(np.int64), np.flatnonzero(~is_public).astype(np.int64)


def subset_score(
    metric: str, y_true: np.ndarray, predictions: Any, indices: np.ndarray, options: dict[str, Any] | None = None
) -> ScoreOutcome:
    """Score a run's stored predictions (JSON, as ``labs.scoring.score_predictions`` takes them) on the
    rows ``indices`` of the hidden test set only: a score, or the error ("error: …") why not."""
    values = predictions_array(predictions)
    if isinstance(values, str):
        return ScoreOutcome(error=values)
    try:
        # The whole set first: a wrong number of rows is the learner's error, never an IndexError here.
        problem = prediction_problem(metric, y_true, values, options)
        if problem:
            return ScoreOutcome(error=f"error: {problem}")
        return ScoreOutcome(score=score(metric, np.asarray(y_true)[indices], values[indices], options))
    except ValueError as exc:
        return ScoreOutcome(error=f"error: {exc}")


def public_private_scores(phase: Phase, run: Run) -> tuple[float | None, float | None]:
    """A run's (public, private) scores in ``phase``: its predictions scored with the lab's metric on
    each part of the phase's split of the run's dataset; None for a part that cannot be scored.

    A lab with its own scoring program (``Metric.CUSTOM``, a score.py run in a sandbox) is not split
    in this version: (None, None)."""
    if run.submission.lab_id != phase.lab_id:
        raise ValueError(f"run {run.pk} is not a run of the phase's lab {phase.lab.slug}")
    return predictions_public_private_scores(phase, run.dataset, run.predictions)


def predictions_public_private_scores(
    phase: Phase, dataset: Dataset, predictions: Any
) -> tuple[float | None, float | None]:
    """Predictions (JSON, as a run stores them) scored on each part of the phase's split of
    ``dataset``'s hidden labels, as ``public_private_scores`` does for a run."""
    lab = phase.lab
    if lab.metric == Metric.CUSTOM:
        return None, None
    y_true = dataset_test_labels(dataset)
    classes = True if METRICS[lab.metric].is_classification else None
    parts = split_indices(y_true, seed=phase.split_seed, public_fraction=phase.public_fraction, classes=classes)
    public, private = (subset_score(lab.metric, y_true, predictions, rows, lab.metric_options).score for rows in parts)
    return public, private
