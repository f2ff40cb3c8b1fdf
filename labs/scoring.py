"""Scoring of lab predictions, in pure numpy: the metrics, and scoring on the site.

``score(metric, y_true, y_pred, options=None)`` never crashes on what a learner's ``predict``
may return (NaN, ±inf, huge values, floats for class ids, strings, rows of the wrong width) and
always returns a finite float that is never better than the metric's best possible value.
``options`` is the lab's ``[metric]`` table from lab.toml (``metric_options_problems`` checks it).

The metrics, by what ``predict`` returns for the N hidden test rows (``METRICS[name].prediction``):

* ``"label"``: one class id per row (a 1-D array of N numbers; floats are rounded to the nearest
  integer; a non-finite or absurd value counts as wrong); y_true holds class ids.

  - ``accuracy``: the share of rows whose class is right (best 1).
  - ``macro_f1``: the unweighted mean of the per-class F1 over the classes present in y_true;
    predicted ids that are no class of y_true only count as misses (best 1).
  - ``precision``, ``recall``: when y_true has at most 2 classes, those of the positive class
    (option ``positive``, a class id, default 1); otherwise the macro average over the classes
    present in y_true. 0/0 counts as 0 (best 1).

* ``"value"``: one number per row (a 1-D array of N numbers).

  - ``mse``, ``mae``: mean squared / absolute error (lower is better, best 0). A non-finite
    prediction costs the span of y_true (``max - min``, at least 1; squared for mse), so NaN
    everywhere scores worse than predicting the mean. Overflow gives the worst finite value.
  - ``r2``: coefficient of determination (best 1; 0 is "always the mean"; a non-finite prediction
    costs as for mse, so R² ≤ -3 for NaN everywhere).
  - ``roc_auc``: area under the ROC curve (best 1; 0.5 is chance). y_true holds two class ids; a
    prediction is a score, higher meaning more likely the positive class (option ``positive``,
    default 1). Tied scores count half (average ranks, as scikit-learn's ``roc_auc_score``); a
    non-finite score ranks lowest. y_true with only one class cannot be scored (ValueError).

* ``"vector"``: one row of numbers per test row (N × C, C at least the largest id in y_true + 1);
  y_true holds class ids.

  - ``top_k_accuracy``: class scores; a row is right when its true class is among the k highest
    scores (option ``k``, default 5). A non-finite score counts as -inf, and ties go to the lower
    class id (as ``argmax`` does: k = 1 gives the accuracy of ``scores.argmax(dim=1)``). Best 1.
  - ``log_loss``: class probabilities; the mean of -log p(true class) (lower is better, best 0).
    Each row is divided by its sum and the true class's probability clipped to [1e-15, 1]; a row
    with a negative or non-finite entry or a zero sum gives the true class probability 1e-15.
  - ``perplexity``: next-token probabilities over the vocabulary (N × V), y_true the next-token
    ids; ``exp(mean(-log p(true token)))`` with log_loss's normalising and clipping (lower is better,
    best 1, worst 1e15). A uniform predictor over V tokens scores V.

* ``"sequence"``: ``exact_match``, the share of rows predicted exactly (best 1). y_true holds
  either one string per row (predict returns one string per row; both are compared with
  surrounding whitespace stripped) or token sequences (N × L integers; predict returns N × L
  token ids, a row counting only when every id is equal).

Malformed input (unknown metric, bad options, bad y_true, predictions of the wrong type or shape,
empty arrays) raises ``ValueError`` with a reason a learner understands
(``prediction_problem`` gives the reason for predictions without raising).

On the site, predictions from the sandbox are scored against the hidden test labels
(``score_predictions``). Predictions travel as JSON, where NaN and infinity have no place
(PostgreSQL's JSONB refuses them), so non-finite values are stored as null and scored as wrong:
a list of numbers-or-null, a list of lists of numbers-or-null (vectors, token sequences) or a
list of strings (``predictions_to_json``).
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
PROBABILITY_FLOOR = 1e-15
PREDICTION_KINDS = ("label", "value", "vector", "sequence")


@dataclass(frozen=True)
class MetricInfo:
    higher_is_better: bool
    best: float
    # y_true holds class ids from a fixed set of classes (text labels may become ids; splits stratify).
    is_classification: bool
    # What predict returns per test row: "label", "value", "vector" or "sequence" (module docstring).
    prediction: str
    # The score lies in [0, 1] (r2 may fall below 0, but a pass mark must lie in [0, 1] too).
    bounded: bool


METRICS: dict[str, MetricInfo] = {
    "accuracy": MetricInfo(True, 1.0, is_classification=True, prediction="label", bounded=True),
    "macro_f1": MetricInfo(True, 1.0, is_classification=True, prediction="label", bounded=True),
    "precision": MetricInfo(True, 1.0, is_classification=True, prediction="label", bounded=True),
    "recall": MetricInfo(True, 1.0, is_classification=True, prediction="label", bounded=True),
    "top_k_accuracy": MetricInfo(True, 1.0, is_classification=True, prediction="vector", bounded=True),
    "log_loss": MetricInfo(False, 0.0, is_classification=True, prediction="vector", bounded=False),
    "roc_auc": MetricInfo(True, 1.0, is_classification=True, prediction="value", bounded=True),
    "r2": MetricInfo(True, 1.0, is_classification=False, prediction="value", bounded=True),
    "mse": MetricInfo(False, 0.0, is_classification=False, prediction="value", bounded=False),
    "mae": MetricInfo(False, 0.0, is_classification=False, prediction="value", bounded=False),
    "exact_match": MetricInfo(True, 1.0, is_classification=False, prediction="sequence", bounded=True),
    "perplexity": MetricInfo(False, 1.0, is_classification=False, prediction="vector", bounded=False),
}

# The options each metric takes in lab.toml's [metric] table, with their defaults.
METRIC_OPTIONS: dict[str, dict[str, int]] = {
    "top_k_accuracy": {"k": 5},
    "precision": {"positive": 1},
    "recall": {"positive": 1},
    "roc_auc": {"positive": 1},
}

# What one row of a "vector" prediction holds, for the reasons.
_VECTOR_NOUNS = {
    "top_k_accuracy": "class scores",
    "log_loss": "class probabilities",
    "perplexity": "next-token probabilities",
}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def metric_options_problems(metric: str, options: Any) -> list[str]:
    """What is wrong with ``options`` (lab.toml's ``[metric]`` table, without its ``name``) for
    ``metric``; [] if nothing. The messages do not name the table (the caller adds "[metric] ").

    A metric that is not in ``METRICS`` (``custom``, or an unknown name, reported elsewhere) is not
    checked here.
    """
    if options is None or metric not in METRICS:
        return []
    if not isinstance(options, dict):
        return ["must be a table of the metric's options"]
    allowed = METRIC_OPTIONS.get(metric, {})
    problems = []
    for key, value in options.items():
        if key not in allowed:
            known = ", ".join(sorted(allowed)) if allowed else "none"
            problems.append(f"{key!r} is not an option of {metric} (its options: {known})")
        elif key == "k" and not (_is_int(value) and value >= 1):
            problems.append(f"k must be a whole number ≥ 1, got {value!r}")
        elif key == "positive" and not (_is_int(value) and value >= 0):
            problems.append(f"positive must be a class id (a whole number ≥ 0), got {value!r}")
    return problems


def _resolve_options(metric: str, options: Any) -> dict[str, int]:
    problems = metric_options_problems(metric, options)
    if problems:
        raise ValueError("; ".join(f"[metric] {problem}" for problem in problems))
    return {**METRIC_OPTIONS.get(metric, {}), **(options or {})}


def _metric_info(metric: str) -> MetricInfo:
    try:
        return METRICS[metric]
    except (KeyError, TypeError):
        raise ValueError(f"unknown metric {metric!r}; expected one of {sorted(METRICS)}") from None


# --- y_true and the predictions' shape ------------------------------------------------


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


def _whole_numbers(array: np.ndarray) -> bool:
    if array.dtype.kind in "biu":
        return True
    with np.errstate(invalid="ignore"):
        return bool(np.all(np.isfinite(array) & (array == np.rint(array))))


def _truth(metric: str, info: MetricInfo, y_true: ArrayLike) -> np.ndarray:
    """``y_true`` checked for ``metric`` (ValueError when the lab's labels cannot be scored so)."""
    true = np.asarray(y_true)
    if true.ndim == 0:
        raise ValueError("y_true must hold one value per row, got a single value")
    if true.size == 0:
        raise ValueError("cannot score an empty set of predictions")
    if info.prediction == "sequence":
        if true.ndim == 1 and true.dtype.kind == "O" and all(isinstance(v, str) for v in true.tolist()):
            true = true.astype(str)
        if true.ndim == 1 and true.dtype.kind == "U":
            return true
        if true.ndim == 2 and true.dtype.kind in "biuf" and _whole_numbers(true):
            return true.astype(np.int64)
        raise ValueError(
            f"{metric} needs y_true of strings (one per row) or token sequences (rows of whole numbers),"
            f" got dtype {true.dtype} and shape {true.shape}"
        )
    true = _as_1d(true, "y_true")
    if info.prediction == "vector" or metric == "roc_auc":
        if not _whole_numbers(true) or np.any(true < 0):
            raise ValueError(f"{metric} needs y_true of class ids (whole numbers ≥ 0)")
        true = true.astype(np.int64)
    return true


def _prediction_array(y_pred: Any) -> tuple[np.ndarray, str | None]:
    """``y_pred`` as numbers (any real dtype) or strings (str, or object holding str and None)."""
    try:
        array = np.asarray(y_pred)
    except ValueError:  # a ragged list
        return np.empty(0), "predict returned rows of different lengths"
    kind = array.dtype.kind
    if kind in "biufU":
        return array, None
    if kind == "c":
        return array, "predict returned complex numbers; expected real numbers"
    if kind == "O":
        items = array.ravel().tolist()
        strings = [v for v in items if v is not None]
        if array.ndim == 1 and strings and all(isinstance(v, str) for v in strings):
            return array, None
        try:
            return array.astype(np.float64), None
        except (TypeError, ValueError):
            return array, "predict returned values that are neither numbers nor strings"
    return array, f"predict returned values of type {array.dtype}; expected numbers or strings"


def _rows_problem(n_true: int, n_pred: int, site: bool) -> str | None:
    if n_pred == n_true:
        return None
    if site:
        return f"predict returned {n_pred} predictions for {n_true} test rows"
    return f"expected {n_true} predictions, got {n_pred}"


def _got(pred: np.ndarray) -> str:
    if pred.ndim == 2:
        return f"{pred.shape[0]} rows × {pred.shape[1]} values"
    return f"an array of shape {pred.shape}"


def _one_value_problem(metric: str, info: MetricInfo, true: np.ndarray, pred: np.ndarray, site: bool) -> str | None:
    strings = pred.dtype.kind in "UO"
    if info.prediction == "label":
        if strings:
            return f"{metric} expects numeric class ids, one per row; predict returned strings"
        what, hint = "one class id per row", " (for class scores, return scores.argmax(dim=1), a 1-D array)"
    else:
        if strings:
            return f"{metric} expects one number per row; predict returned strings"
        what, hint = "one number per row", " (return a 1-D array)"
        if metric == "roc_auc":
            what = "one score per row (higher: more likely the positive class)"
            hint = " (for class probabilities, return the positive class's column, e.g. probs[:, 1])"
    if pred.ndim == 0:
        return f"{metric} expects {what}; predict returned a single value"
    if pred.ndim != 1:
        return f"{metric} expects {what}; predict returned {_got(pred)}{hint}"
    return _rows_problem(len(true), len(pred), site)


def _vector_problem(metric: str, true: np.ndarray, pred: np.ndarray, site: bool) -> str | None:
    noun = _VECTOR_NOUNS[metric]
    needed = int(true.max()) + 1
    if metric == "perplexity":
        shape, per_row = "N × vocabulary size", f"a probability for each of at least {needed} tokens per row"
    else:
        shape, per_row = f"N × {needed}", f"{needed} {noun} per row"
    expects = f"{metric} expects one row of {noun} per test row ({shape})"
    if pred.dtype.kind in "UO":
        return f"{expects}; predict returned strings"
    if pred.ndim == 0:
        return f"{expects}; predict returned a single value"
    if pred.ndim == 1:
        return f"{expects}; predict returned one number per row"
    if pred.ndim != 2:
        return f"{expects}; predict returned an array of shape {pred.shape}"
    rows = _rows_problem(len(true), len(pred), site)
    if rows:
        return rows
    if pred.shape[1] < needed:
        return f"{metric} expects {per_row}, got {pred.shape[1]}"
    return None


def _sequence_problem(metric: str, true: np.ndarray, pred: np.ndarray, site: bool) -> str | None:
    strings = pred.dtype.kind in "UO"
    if true.dtype.kind == "U":
        expects = f"{metric} expects one string per row"
        if not strings:
            return f"{expects}; predict returned numbers"
        if pred.ndim != 1:
            return f"{expects}; predict returned {'a single string' if pred.ndim == 0 else _got(pred)}"
        return _rows_problem(len(true), len(pred), site)
    width = true.shape[1]
    expects = f"{metric} expects one row of {width} token ids per test row (N × {width})"
    if strings:
        return f"{expects}; predict returned strings"
    if pred.ndim == 0:
        return f"{expects}; predict returned a single value"
    if pred.ndim == 1:
        return f"{expects}; predict returned one number per row"
    if pred.ndim != 2:
        return f"{expects}; predict returned an array of shape {pred.shape}"
    rows = _rows_problem(len(true), len(pred), site)
    if rows:
        return rows
    if pred.shape[1] != width:
        return f"{metric} expects {width} token ids per row, got {pred.shape[1]}"
    return None


def _examine(
    metric: str, y_true: ArrayLike, y_pred: Any, options: Any, *, site: bool
) -> tuple[np.ndarray, np.ndarray, dict[str, int], str | None]:
    """(y_true, predictions, options, the predictions' problem or None); ValueError for the rest."""
    info = _metric_info(metric)
    resolved = _resolve_options(metric, options)
    true = _truth(metric, info, y_true)
    pred, problem = _prediction_array(y_pred)
    if problem is None:
        if info.prediction in ("label", "value"):
            if pred.ndim == 2 and pred.shape[1] == 1:
                pred = pred[:, 0]
            problem = _one_value_problem(metric, info, true, pred, site)
        elif info.prediction == "vector":
            problem = _vector_problem(metric, true, pred, site)
        else:
            problem = _sequence_problem(metric, true, pred, site)
    return true, pred, resolved, problem


def prediction_problem(metric: str, y_true: ArrayLike, predictions: Any, options: Any = None) -> str | None:
    """Why ``predictions`` cannot be scored with ``metric`` against ``y_true`` (a reason for the
    learner: type, shape, number of rows, row width), or None when they can.

    Raises ``ValueError`` for what is not the predictions' fault: an unknown metric, bad options,
    a ``y_true`` the metric cannot score.
    """
    return _examine(metric, y_true, predictions, options, site=True)[3]


# --- classification -----------------------------------------------------------


def to_class_ids(y_pred: np.ndarray) -> np.ndarray:
    """Round predictions to int64 class ids; non-finite/absurd values become -1."""
    if np.issubdtype(y_pred.dtype, np.integer) or y_pred.dtype == np.bool_:
        return y_pred.astype(np.int64)
    with np.errstate(invalid="ignore"):
        rounded = np.rint(y_pred.astype(np.float64))
        valid = np.isfinite(rounded) & (np.abs(rounded) < 2.0**62)
    return np.where(valid, rounded, INVALID_CLASS).astype(np.int64)


def _class_counts(true: np.ndarray, pred: np.ndarray, classes: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per class of ``classes`` (sorted, those of ``true``): true positives, predicted, actual.

    Predicted ids that are not in ``classes`` count nowhere (only as misses of their row's class).
    """
    index = np.searchsorted(classes, pred).clip(max=len(classes) - 1)
    known = classes[index] == pred
    predicted = np.bincount(index[known], minlength=len(classes))
    true_index = np.searchsorted(classes, true)
    actual = np.bincount(true_index, minlength=len(classes))
    hits = np.bincount(true_index[pred == true], minlength=len(classes))
    return hits, predicted, actual


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(to_class_ids(y_true) == to_class_ids(y_pred)))


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Unweighted mean of the per-class F1 over the classes present in ``y_true``.

    Predicted labels that are not real classes only count as misses (they do
    not add zero-F1 classes of their own).
    """
    true, pred = to_class_ids(y_true), to_class_ids(y_pred)
    hits, predicted, actual = _class_counts(true, pred, np.unique(true))
    return float(np.mean(2.0 * hits / (predicted + actual)))  # actual ≥ 1 for each class


def _precision_or_recall(name: str, y_true: np.ndarray, y_pred: np.ndarray, positive: int) -> float:
    true, pred = to_class_ids(y_true), to_class_ids(y_pred)
    classes = np.unique(true)
    if classes.size <= 2:
        if classes.size == 2 and positive not in classes:
            raise ValueError(
                f"{name}: the positive class {positive} is not one of y_true's classes {classes.tolist()};"
                " set positive in the lab's [metric] table"
            )
        hits = int(np.count_nonzero((pred == positive) & (true == positive)))
        total = int(np.count_nonzero((pred if name == "precision" else true) == positive))
        return hits / total if total else 0.0
    hits, predicted, actual = _class_counts(true, pred, classes)
    total = predicted if name == "precision" else actual
    per_class = np.divide(hits, total, out=np.zeros(len(classes)), where=total > 0)
    return float(np.mean(per_class))


def precision(y_true: np.ndarray, y_pred: np.ndarray, positive: int = 1) -> float:
    """Of the rows predicted positive, the share that are (binary y_true); else the macro average."""
    return _precision_or_recall("precision", y_true, y_pred, positive)


def recall(y_true: np.ndarray, y_pred: np.ndarray, positive: int = 1) -> float:
    """Of the positive rows, the share predicted positive (binary y_true); else the macro average."""
    return _precision_or_recall("recall", y_true, y_pred, positive)


def _finite_or_lowest(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(values), values, -np.inf)


def top_k_accuracy(y_true: np.ndarray, scores: np.ndarray, k: int = 5) -> float:
    """Share of rows whose true class is among the ``k`` highest of its row's scores (N × C, C > the
    largest class id); non-finite scores count as -inf, ties go to the lower class id."""
    true = to_class_ids(y_true)
    scores = _finite_or_lowest(scores)
    own = scores[np.arange(len(true)), true][:, None]
    above = np.count_nonzero(scores > own, axis=1)
    tied_before = np.count_nonzero((scores == own) & (np.arange(scores.shape[1]) < true[:, None]), axis=1)
    return float(np.mean(above + tied_before < k))


def roc_auc(y_true: np.ndarray, scores: np.ndarray, positive: int = 1) -> float:
    """Area under the ROC curve: the chance that a positive row scores above a negative one (ties
    count half); non-finite scores rank lowest."""
    true = to_class_ids(y_true)
    classes = np.unique(true)
    if classes.size > 2:
        raise ValueError(f"roc_auc needs two classes in y_true, got {classes.size}: {classes.tolist()[:10]}")
    if classes.size == 2 and positive not in classes:
        raise ValueError(
            f"roc_auc: the positive class {positive} is not one of y_true's classes {classes.tolist()};"
            " set positive in the lab's [metric] table"
        )
    if classes.size == 1:
        raise ValueError(
            f"roc_auc is undefined when y_true holds only one class ({int(classes[0])}): it needs both a"
            " positive and a negative row"
        )
    is_positive = true == positive
    n_pos = int(np.count_nonzero(is_positive))
    n_neg = len(true) - n_pos
    _, inverse, counts = np.unique(_finite_or_lowest(scores), return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2.0)[inverse.ravel()]  # 1-based, ties averaged
    auc = (float(np.sum(ranks[is_positive])) - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)
    return min(max(auc, 0.0), 1.0)


def _true_class_probabilities(y_true: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Per row, the true class's probability after dividing the row by its sum, clipped to
    [1e-15, 1]; 1e-15 for a row with a negative or non-finite entry or a zero sum."""
    true = to_class_ids(y_true)
    probs = np.asarray(probabilities, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        sums = probs.sum(axis=1)
        own = probs[np.arange(len(true)), true] / sums
    usable = np.all(np.isfinite(probs) & (probs >= 0), axis=1) & np.isfinite(sums) & (sums > 0)
    return np.clip(np.where(usable, own, PROBABILITY_FLOOR), PROBABILITY_FLOOR, 1.0)


def log_loss(y_true: np.ndarray, probabilities: np.ndarray) -> float:
    """Mean of -log p(true class) over the rows (N × C class probabilities)."""
    return float(np.mean(-np.log(_true_class_probabilities(y_true, probabilities)))) + 0.0  # not -0.0


def perplexity(y_true: np.ndarray, probabilities: np.ndarray) -> float:
    """exp(mean of -log p(true token)) over the rows (N × V next-token probabilities)."""
    value = math.exp(float(np.mean(-np.log(_true_class_probabilities(y_true, probabilities)))))
    return min(max(value, 1.0), 1.0 / PROBABILITY_FLOOR)


# --- regression ---------------------------------------------------------------


def _errors(y_true: np.ndarray, y_pred: np.ndarray, power: int) -> np.ndarray:
    """|prediction - truth| ** power; a non-finite prediction costs span(y_true) ** power."""
    true = y_true.astype(np.float64)
    pred = y_pred.astype(np.float64)
    span = float(true.max() - true.min())
    penalty = (span if span > 0 else 1.0) ** power
    with np.errstate(over="ignore", invalid="ignore"):
        errors = np.abs(pred - true) ** power
    # inf - inf or nan: penalty; a finite prediction whose error overflows stays inf.
    errors[~np.isfinite(pred)] = penalty
    return errors


def _squared_errors(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    return _errors(y_true, y_pred, 2)


def _mean_error(errors: np.ndarray) -> float:
    with np.errstate(over="ignore"):
        value = float(np.mean(errors))
    return value if np.isfinite(value) else WORST


def mse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return _mean_error(_errors(y_true, y_pred, 2))


def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return _mean_error(_errors(y_true, y_pred, 1))


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


# --- sequences ------------------------------------------------------------------


def exact_match(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Share of rows predicted exactly: strings (surrounding whitespace stripped) or token rows."""
    if y_true.dtype.kind == "U":
        hits = [
            isinstance(guess, str) and guess.strip() == truth.strip()
            for truth, guess in zip(y_true.tolist(), y_pred.tolist(), strict=True)
        ]
        return float(np.mean(hits))
    return float(np.mean(np.all(y_pred == y_true, axis=1)))


_SCORERS: dict[str, Callable[[np.ndarray, np.ndarray, dict[str, int]], float]] = {
    "accuracy": lambda t, p, o: accuracy(t, p),
    "macro_f1": lambda t, p, o: macro_f1(t, p),
    "precision": lambda t, p, o: precision(t, p, o["positive"]),
    "recall": lambda t, p, o: recall(t, p, o["positive"]),
    "top_k_accuracy": lambda t, p, o: top_k_accuracy(t, p, o["k"]),
    "log_loss": lambda t, p, o: log_loss(t, p),
    "roc_auc": lambda t, p, o: roc_auc(t, p, o["positive"]),
    "r2": lambda t, p, o: r2(t, p),
    "mse": lambda t, p, o: mse(t, p),
    "mae": lambda t, p, o: mae(t, p),
    "exact_match": lambda t, p, o: exact_match(t, p),
    "perplexity": lambda t, p, o: perplexity(t, p),
}


def score(metric: str, y_true: ArrayLike, y_pred: ArrayLike, options: dict[str, Any] | None = None) -> float:
    """Score ``y_pred`` against ``y_true`` with ``metric`` (see module docstring); ``options`` is
    the lab's ``[metric]`` table. Raises ``ValueError`` for malformed input."""
    true, pred, resolved, problem = _examine(metric, y_true, y_pred, options, site=False)
    if problem:
        raise ValueError(problem)
    return _SCORERS[metric](true, pred, resolved)


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


def _json_number(value: Any) -> Any:
    return value if finite(value) is not None else None


def _json_value(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, list):  # one level down only: a row holds numbers
        return [_json_number(v) for v in value]
    return _json_number(value)


def predictions_to_json(values: Any) -> list[Any] | None:
    """Predictions as JSON: numbers (non-finite ones and anything else as null), strings as they
    are, and lists (a vector or token sequence per row) of numbers-or-null; None for a non-list."""
    if not isinstance(values, list):
        return None
    return [_json_value(value) for value in values]


def _predictions_from_json(predictions: list[Any]) -> tuple[np.ndarray, str | None]:
    """JSON predictions as a numpy array: numbers (null: NaN), strings, or rows of numbers."""
    kinds = {
        "strings" if isinstance(v, str) else "lists" if isinstance(v, list) else "numbers"
        for v in predictions
        if v is not None
    }
    if len(kinds) > 1:
        return np.empty(0), f"predict returned a mix of {' and '.join(sorted(kinds))}"
    if kinds == {"strings"}:
        if all(isinstance(v, str) for v in predictions):
            return np.array(predictions, dtype=str), None
        return np.array([v if isinstance(v, str) else None for v in predictions], dtype=object), None
    if kinds == {"lists"}:
        widths = {len(v) for v in predictions if isinstance(v, list)}
        if len(widths) > 1:
            return np.empty(0), "predict returned rows of different lengths"
        width = widths.pop()
        rows = [[finite(x) for x in v] if isinstance(v, list) else [None] * width for v in predictions]
        return np.array(rows, dtype=np.float64).reshape(len(rows), width), None
    return np.array([finite(v) for v in predictions], dtype=np.float64), None


def predictions_array(predictions: Any) -> np.ndarray | str:
    """A run's stored predictions (JSON, see ``predictions_to_json``) as a numpy array: float64 (null:
    NaN) 1-D for numbers, 2-D for rows of numbers; str for strings (object, with None, where some
    are null). Or the reason they cannot be one, for the learner ("error: …")."""
    if not isinstance(predictions, list):
        return "error: the run returned no predictions"
    values, problem = _predictions_from_json(predictions)
    return f"error: {problem}" if problem else values


def score_predictions(
    metric: str, y_true: np.ndarray, predictions: Any, options: dict[str, Any] | None = None
) -> ScoreOutcome:
    """Score a run's stored predictions (JSON, see ``predictions_to_json``) against the hidden test
    labels with ``metric`` and its ``options`` (lab.toml's ``[metric]`` table): a score, or an error
    ("error: …") saying why they cannot be scored."""
    values = predictions_array(predictions)
    if isinstance(values, str):
        return ScoreOutcome(error=values)
    try:
        true, pred, resolved, problem = _examine(metric, y_true, values, options, site=True)
        if problem:
            return ScoreOutcome(error=f"error: {problem}")
        return ScoreOutcome(score=_SCORERS[metric](true, pred, resolved))
    except ValueError as exc:
        return ScoreOutcome(error=f"error: {exc}")
