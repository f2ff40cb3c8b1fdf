"""Scoring of lab predictions, in pure numpy: the metrics, and scoring on the site.

Scoring of lab predictions, in pure numpy.

``score(metric, y_true, y_pred)`` never crashes on what a learner's ``predict``
may return (NaN, ±inf, huge values, floats for class ids) and always returns a
finite float that is never better than the metric's best possible value:

* classification (``accuracy``, ``macro_f1``): predictions are rounded to the
  nearest integer; a non-finite or out-of-range prediction counts as wrong;
* regression (``r2``, ``mse``): a non-finite prediction costs the squared span
  of ``y_true`` (``(max - min)²``, at least 1), so predicting NaN everywhere
  scores worse than predicting the mean (R² ≤ -3). Overflow of the error sum
  gives the worst finite value instead of inf.

Malformed input (unknown metric, length mismatch, empty arrays) raises
``ValueError``.

On the site, predictions from the sandbox are scored against the hidden test labels
(``score_predictions``). Predictions travel as JSON, where NaN and infinity have no place
(PostgreSQL's JSONB refuses them), so non-finite values are stored as null and scored as wrong.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

WORST = sys.float_info.max
INVALID_CLASS = -1


@dataclass(frozen=True)
class MetricInfo:
    higher_is_better: bool
    best: float
    is_classification: bool


METRICS: dict[str, MetricInfo] = {
    "r2": MetricInfo(higher_is_better=True, best=1.0, is_classification=False),
    "mse": MetricInfo(higher_is_better=False, best=0.0, is_classification=False),
    "accuracy": MetricInfo(higher_is_better=True, best=1.0, is_classification=True),
    "macro_f1": MetricInfo(higher_is_better=True, best=1.0, is_classification=True),
}


def _as_1d(values: ArrayLike, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one value per row), got shape {array.shape}")
    if array.dtype.kind not in "biuf":  # bool, int, uint, float
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be numeric, got dtype {array.dtype}") from exc
    return array


def _prepare(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    true = _as_1d(y_true, "y_true")
    pred = _as_1d(y_pred, "y_pred")
    if true.shape != pred.shape:
        raise ValueError(f"expected {true.shape[0]} predictions, got {pred.shape[0]}")
    if true.size == 0:
        raise ValueError("cannot score an empty set of predictions")
    return true, pred


# --- classification -----------------------------------------------------------


def to_class_ids(y_pred: np.ndarray) -> np.ndarray:
    """Round predictions to int64 class ids; non-finite/absurd values become -1."""
    if np.issubdtype(y_pred.dtype, np.integer) or y_pred.dtype == np.bool_:
        return y_pred.astype(np.int64)
    with np.errstate(invalid="ignore"):
        rounded = np.rint(y_pred.astype(np.float64))
        valid = np.isfinite(rounded) & (np.abs(rounded) < 2.0**62)
    return np.where(valid, rounded, INVALID_CLASS).astype(np.int64)


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(to_class_ids(y_true) == to_class_ids(y_pred)))


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Unweighted mean of the per-class F1 over the classes present in ``y_true``.

    Predicted labels that are not real classes only count as misses (they do
    not add zero-F1 classes of their own).
    """
    true, pred = to_class_ids(y_true), to_class_ids(y_pred)
    f1s = []
    for label in np.unique(true):
        tp = np.sum((pred == label) & (true == label))
        fp = np.sum((pred == label) & (true != label))
        fn = np.sum((pred != label) & (true == label))
        f1s.append(2.0 * tp / (2.0 * tp + fp + fn))
    return float(np.mean(f1s))


# --- regression ---------------------------------------------------------------


def _squared_errors(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    true = y_true.astype(np.float64)
    pred = y_pred.astype(np.float64)
    span = float(true.max() - true.min())
    penalty = span**2 if span > 0 else 1.0
    with np.errstate(over="ignore", invalid="ignore"):
        errors = (pred - true) ** 2
    # inf - inf or nan: penalty; a finite prediction whose error overflows stays inf.
    errors[~np.isfinite(pred)] = penalty
    return errors


def mse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    with np.errstate(over="ignore"):
        value = float(np.mean(_squared_errors(y_true, y_pred)))
    return value if np.isfinite(value) else WORST


def r2(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Coefficient of determination (1 is perfect, 0 is "always the mean")."""
    true = y_true.astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        ss_res = float(np.sum(_squared_errors(true, y_pred)))
        ss_tot = float(np.sum((true - true.mean()) ** 2))
        if ss_tot == 0.0:  # constant target: perfect or nothing (as scikit-learn does)
            return 1.0 if ss_res == 0.0 else 0.0
        value = 1.0 - ss_res / ss_tot
    return min(value, 1.0) if np.isfinite(value) else -WORST


_SCORERS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "r2": r2,
    "mse": mse,
    "accuracy": accuracy,
    "macro_f1": macro_f1,
}


def score(metric: str, y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Score ``y_pred`` against ``y_true`` with ``metric`` (see module docstring)."""
    try:
        scorer = _SCORERS[metric]
    except KeyError:
        raise ValueError(f"unknown metric {metric!r}; expected one of {sorted(_SCORERS)}") from None
    true, pred = _prepare(y_true, y_pred)
    return scorer(true, pred)


def passes(value: float, threshold: float, higher_is_better: bool) -> bool:
    """Whether ``value`` reaches ``threshold`` in the given direction."""
    return value >= threshold if higher_is_better else value <= threshold


# --- Scoring a run's predictions on the site ------------------------------------------


@dataclass(frozen=True)
class ScoreOutcome:
    score: float | None = None
    error: str | None = None


def finite(value: Any) -> float | None:
    """``value`` as a float if it is a finite number, else None (JSON text, an int too large for a
    float, NaN or infinity)."""
    if not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        return None
    return number if math.isfinite(number) else None


def predictions_to_json(values: Any) -> list[float | None] | None:
    if not isinstance(values, list):
        return None
    return [v if finite(v) is not None else None for v in values]


def score_predictions(metric: str, y_true: np.ndarray, predictions: Any) -> ScoreOutcome:
    if not isinstance(predictions, list):
        return ScoreOutcome(error="error: the run returned no predictions")
    if len(predictions) != len(y_true):
        return ScoreOutcome(error=f"error: predict returned {len(predictions)} predictions for {len(y_true)} test rows")
    if not all(v is None or isinstance(v, int | float) for v in predictions):
        return ScoreOutcome(error="error: predictions must be numbers")
    values = np.array([np.nan if v is None else float(v) for v in predictions], dtype=np.float64)
    return ScoreOutcome(score=score(metric, y_true, values))
