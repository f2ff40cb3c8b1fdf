"""The lab metrics (labs.scoring): each against scikit-learn on random data, hand cases, non-finite
predictions, the reasons for predictions of the wrong shape, metric options, and JSON predictions."""

from __future__ import annotations

import inspect
import re
from typing import Any

import numpy as np
import pytest
from sklearn import metrics as sk

from labs import scoring
from labs.scoring import (
    METRICS,
    PREDICTION_KINDS,
    ScoreOutcome,
    metric_options_problems,
    prediction_problem,
    predictions_array,
    predictions_to_json,
    score,
    score_predictions,
)

SEEDS = [0, 1, 2]


def rng_for(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def class_data(seed: int, n: int = 300, classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Class ids, and predictions that are right about half the time (some ids beyond the classes)."""
    rng = rng_for(seed)
    y_true = rng.integers(0, classes, n)
    y_pred = np.where(rng.random(n) < 0.5, y_true, rng.integers(0, classes + 2, n))
    return y_true, y_pred


def probabilities(seed: int, n: int = 300, classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    rng = rng_for(seed)
    y_true = rng.integers(0, classes, n)
    probs = rng.dirichlet(np.ones(classes), size=n)
    probs[np.arange(n), y_true] += rng.random(n)  # better than chance
    return y_true, probs / probs.sum(axis=1, keepdims=True)


# --- against scikit-learn -----------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_accuracy_and_macro_f1_match_scikit_learn(seed: int) -> None:
    y_true, y_pred = class_data(seed)
    assert score("accuracy", y_true, y_pred) == pytest.approx(sk.accuracy_score(y_true, y_pred))
    expected = sk.f1_score(y_true, y_pred, average="macro", labels=np.unique(y_true))
    assert score("macro_f1", y_true, y_pred) == pytest.approx(expected)
    # Floats for class ids are rounded.
    assert score("accuracy", y_true, y_pred + 0.2) == pytest.approx(sk.accuracy_score(y_true, y_pred))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", [1, 3, 5, 9])
def test_top_k_accuracy_matches_scikit_learn(seed: int, k: int) -> None:
    rng = rng_for(seed)
    y_true = rng.integers(0, 10, 300)
    scores = rng.normal(size=(300, 10))
    scores[np.arange(300), y_true] += 1.0
    expected = sk.top_k_accuracy_score(y_true, scores, k=k, labels=np.arange(10))
    assert score("top_k_accuracy", y_true, scores, options={"k": k}) == pytest.approx(expected)


def test_top_k_accuracy_defaults_to_k_5() -> None:
    rng = rng_for(3)
    y_true, scores = rng.integers(0, 10, 200), rng.normal(size=(200, 10))
    expected = sk.top_k_accuracy_score(y_true, scores, k=5, labels=np.arange(10))
    assert score("top_k_accuracy", y_true, scores) == pytest.approx(expected)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("positive", [1, 0])
def test_binary_precision_and_recall_match_scikit_learn(seed: int, positive: int) -> None:
    y_true, y_pred = class_data(seed, classes=2)
    y_pred = np.minimum(y_pred, 1)
    options = {"positive": positive}
    for metric, function in (("precision", sk.precision_score), ("recall", sk.recall_score)):
        expected = function(y_true, y_pred, pos_label=positive, zero_division=0)
        assert score(metric, y_true, y_pred, options=options) == pytest.approx(expected)


@pytest.mark.parametrize("seed", SEEDS)
def test_multiclass_precision_and_recall_are_macro_averages_as_in_scikit_learn(seed: int) -> None:
    y_true, y_pred = class_data(seed, classes=5)
    labels = np.unique(y_true)
    for metric, function in (("precision", sk.precision_score), ("recall", sk.recall_score)):
        expected = function(y_true, y_pred, average="macro", labels=labels, zero_division=0)
        assert score(metric, y_true, y_pred) == pytest.approx(expected)


def test_precision_and_recall_count_zero_over_zero_as_zero() -> None:
    y_true = np.array([0, 0, 1, 1])
    assert score("precision", y_true, np.zeros(4)) == 0.0  # nothing predicted positive
    assert score("recall", np.zeros(4, dtype=int), np.zeros(4)) == 0.0  # no positive row
    # Multi-class: class 2 is never predicted, its precision counts 0.
    assert score("precision", [0, 1, 2], [0, 1, 1]) == pytest.approx((1 + 0.5 + 0) / 3)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("decimals", [None, 1, 0])  # 1 and 0: many tied scores
def test_roc_auc_matches_scikit_learn_ties_included(seed: int, decimals: int | None) -> None:
    rng = rng_for(seed)
    y_true = rng.integers(0, 2, 300)
    scores = rng.normal(size=300) + y_true
    if decimals is not None:
        scores = np.round(scores, decimals)
    assert score("roc_auc", y_true, scores) == pytest.approx(sk.roc_auc_score(y_true, scores))
    # The other class as the positive one: the negated scores rank the same.
    expected = sk.roc_auc_score(y_true == 0, -scores)
    assert score("roc_auc", y_true, -scores, options={"positive": 0}) == pytest.approx(expected)


def test_roc_auc_with_other_class_ids() -> None:
    y_true = np.array([3, 7, 7, 3, 7])
    scores = np.array([0.1, 0.9, 0.4, 0.5, 0.8])
    assert score("roc_auc", y_true, scores, options={"positive": 7}) == pytest.approx(
        sk.roc_auc_score(y_true == 7, scores)
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_log_loss_matches_scikit_learn(seed: int) -> None:
    y_true, probs = probabilities(seed)
    expected = sk.log_loss(y_true, y_proba=probs, labels=np.arange(10))
    assert score("log_loss", y_true, probs) == pytest.approx(expected)
    # Rows are normalised by their sum.
    scale = rng_for(seed).uniform(0.5, 20.0, size=(len(probs), 1))
    assert score("log_loss", y_true, probs * scale) == pytest.approx(expected)


@pytest.mark.parametrize("seed", SEEDS)
def test_regression_metrics_match_scikit_learn(seed: int) -> None:
    rng = rng_for(seed)
    y_true = rng.normal(size=200).astype(np.float32)
    y_pred = y_true + rng.normal(scale=0.5, size=200)
    assert score("mse", y_true, y_pred) == pytest.approx(sk.mean_squared_error(y_true, y_pred), rel=1e-6)
    assert score("mae", y_true, y_pred) == pytest.approx(sk.mean_absolute_error(y_true, y_pred), rel=1e-6)
    assert score("r2", y_true, y_pred) == pytest.approx(sk.r2_score(y_true, y_pred), rel=1e-6)


# --- hand cases ------------------------------------------------------------------------


def test_exact_match_of_strings_strips_surrounding_whitespace() -> None:
    y_true = np.array(["42", " seven", "a b", "x"])
    y_pred = np.array(["42 ", "seven", "a  b", "y"])
    assert score("exact_match", y_true, y_pred) == pytest.approx(0.5)
    assert score("exact_match", y_true, y_true) == 1.0


def test_exact_match_of_token_rows_needs_every_token() -> None:
    y_true = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9], [0, 0, 0]])
    y_pred = np.array([[1, 2, 3], [4, 5, 7], [7, 8, 9], [0, 0, np.nan]])
    assert score("exact_match", y_true, y_pred) == pytest.approx(0.5)
    assert score("exact_match", y_true, y_true.astype(np.float64)) == 1.0


@pytest.mark.parametrize("vocabulary", [2, 10, 1000])
def test_perplexity_of_a_uniform_predictor_is_the_vocabulary_size(vocabulary: int) -> None:
    y_true = rng_for(vocabulary).integers(0, vocabulary, 50)
    uniform = np.ones((50, vocabulary))
    assert score("perplexity", y_true, uniform) == pytest.approx(vocabulary)
    assert score("perplexity", y_true, np.eye(vocabulary)[y_true]) == pytest.approx(1.0)


def test_perplexity_is_exp_of_log_loss() -> None:
    y_true, probs = probabilities(7)
    assert score("perplexity", y_true, probs) == pytest.approx(np.exp(score("log_loss", y_true, probs)))


def test_top_k_accuracy_breaks_ties_towards_the_lower_class_id() -> None:
    y_true = np.array([0, 1, 2, 3])
    constant = np.zeros((4, 4))
    assert score("top_k_accuracy", y_true, constant, options={"k": 1}) == 0.25  # only class 0
    assert score("top_k_accuracy", y_true, constant, options={"k": 2}) == 0.5
    # k = 1 is the accuracy of argmax, ties included.
    rng = rng_for(5)
    y, scores = rng.integers(0, 6, 300), rng.integers(0, 3, (300, 6)).astype(np.float64)
    assert score("top_k_accuracy", y, scores, options={"k": 1}) == score("accuracy", y, scores.argmax(axis=1))


def test_top_k_accuracy_counts_non_finite_scores_as_minus_infinity() -> None:
    y_true = np.array([0, 1])
    scores = np.array([[np.nan, 0.0, 1.0], [np.inf, -5.0, -np.inf]])
    # Row 0: the true class is NaN → -inf → last; row 1: inf → -inf, so class 1 (-5) comes first.
    assert score("top_k_accuracy", y_true, scores, options={"k": 2}) == 0.5
    assert score("top_k_accuracy", y_true, scores, options={"k": 1}) == 0.5


def test_roc_auc_of_tied_or_non_finite_scores() -> None:
    y_true = np.array([0, 1, 0, 1])
    assert score("roc_auc", y_true, np.zeros(4)) == 0.5
    assert score("roc_auc", y_true, np.full(4, np.nan)) == 0.5
    # A non-finite score ranks lowest: the positive with NaN is below every negative.
    assert score("roc_auc", y_true, [0.1, np.nan, 0.2, 0.9]) == pytest.approx(0.5)
    assert score("roc_auc", y_true, [0.1, np.inf, 0.2, 0.9]) == pytest.approx(0.5)


def test_roc_auc_needs_both_classes() -> None:
    with pytest.raises(ValueError, match="only one class"):
        score("roc_auc", [1, 1, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="two classes"):
        score("roc_auc", [0, 1, 2], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="positive class 1 is not one of"):
        score("roc_auc", [2, 3], [0.1, 0.2])
    outcome = score_predictions("roc_auc", np.array([1, 1]), [0.5, 0.7])
    assert outcome.score is None and outcome.error is not None and "only one class" in outcome.error


def test_log_loss_of_unusable_rows_is_the_floor() -> None:
    floor = -np.log(1e-15)
    y_true = np.array([0, 1, 1, 0])
    probs = np.array([[1.0, 0.0], [0.5, np.nan], [-0.5, 1.5], [0.0, 0.0]])
    # Row 0 is right (loss 0); the three others are unusable (NaN, negative, zero sum).
    assert score("log_loss", y_true, probs) == pytest.approx(3 * floor / 4)
    assert score("log_loss", y_true, np.eye(2)[1 - y_true]) == pytest.approx(floor)  # all wrong, clipped
    assert score("log_loss", y_true, np.eye(2)[y_true]) == 0.0


def test_mae_costs_the_span_for_a_non_finite_prediction() -> None:
    y_true = np.arange(10, dtype=np.float64)
    assert score("mae", y_true, np.full(10, np.nan)) == pytest.approx(9.0)
    assert score("mae", np.zeros(3), [np.nan, 0.0, 0.0]) == pytest.approx(1 / 3)  # span 0 → 1
    assert score("mae", y_true, np.full(10, 1e300)) == pytest.approx(1e300)
    assert score("mae", y_true, [1e308, -1e308] * 5) == scoring.WORST  # overflow


# --- non-finite predictions ---------------------------------------------------------------

N = 12


def perfect(metric: str) -> tuple[np.ndarray, np.ndarray]:
    """(y_true, a perfect prediction) for ``metric``, N rows."""
    classes = np.arange(N) % 3
    if metric in ("accuracy", "macro_f1", "precision", "recall"):
        return classes, classes.astype(np.float64)
    if metric == "roc_auc":
        binary = np.arange(N) % 2
        return binary, binary.astype(np.float64)
    if metric in ("top_k_accuracy", "log_loss", "perplexity"):
        return classes, np.eye(3)[classes]
    if metric == "exact_match":
        tokens = np.arange(N * 4).reshape(N, 4)
        return tokens, tokens.astype(np.float64)
    values = np.linspace(-3.0, 5.0, N)
    return values, values.copy()


def not_better_than_best(metric: str, value: float) -> bool:
    info = METRICS[metric]
    return value <= info.best if info.higher_is_better else value >= info.best


def strictly_worse(metric: str, value: float) -> bool:
    info = METRICS[metric]
    return value < info.best if info.higher_is_better else value > info.best


@pytest.mark.parametrize("metric", sorted(METRICS))
def test_a_perfect_prediction_scores_the_best(metric: str) -> None:
    y_true, y_pred = perfect(metric)
    assert score(metric, y_true, y_pred) == pytest.approx(METRICS[metric].best)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, 1e308, -1e308])
@pytest.mark.parametrize("metric", sorted(METRICS))
def test_non_finite_or_huge_predictions_never_score_better_than_best(metric: str, bad: float) -> None:
    y_true, y_pred = perfect(metric)
    if metric == "top_k_accuracy":
        options: dict[str, Any] | None = {"k": 1}
    else:
        options = None
    for corrupt in (np.zeros_like(y_pred, dtype=bool), np.arange(N) < 3, np.ones(N, dtype=bool)):
        pred = y_pred.copy()
        pred[corrupt] = bad  # a whole row of a vector
        value = score(metric, y_true, pred, options=options)
        assert np.isfinite(value) and not_better_than_best(metric, value)
    everything = np.full_like(y_pred, np.nan)
    value = score(metric, y_true, everything, options=options)
    assert np.isfinite(value) and strictly_worse(metric, value)


@pytest.mark.parametrize("metric", sorted(METRICS))
def test_bounded_metrics_lie_in_zero_one(metric: str) -> None:
    y_true, y_pred = perfect(metric)
    rng = rng_for(11)
    noisy = y_pred + rng.normal(scale=2.0, size=y_pred.shape)
    value = score(metric, y_true, noisy)
    assert np.isfinite(value) and not_better_than_best(metric, value)
    if METRICS[metric].bounded and metric != "r2":
        assert 0.0 <= value <= 1.0


def test_perplexity_is_capped_at_a_finite_worst() -> None:
    y_true = np.zeros(5, dtype=int)
    assert score("perplexity", y_true, np.full((5, 3), np.nan)) == pytest.approx(1e15)
    assert score("perplexity", y_true, np.tile([0.0, 1.0, 0.0], (5, 1))) == pytest.approx(1e15)


# --- the reasons for predictions of the wrong kind or shape -------------------------------

DIGITS = np.arange(359) % 10
WORDS = np.array(["a", "b"])
TOKENS = np.zeros((2, 3), dtype=int)
ZEROS = np.zeros(2, dtype=int)

SHAPE_REASONS = [
    (
        "accuracy",
        DIGITS,
        np.zeros((359, 10)),
        "accuracy expects one class id per row; predict returned 359 rows × 10 values "
        "(for class scores, return scores.argmax(dim=1)",
    ),
    (
        "accuracy",
        DIGITS,
        np.array(["1"] * 359),
        "accuracy expects numeric class ids, one per row; predict returned strings",
    ),
    (
        "macro_f1",
        DIGITS,
        np.zeros((359, 2, 5)),
        "macro_f1 expects one class id per row; predict returned an array of shape",
    ),
    ("mse", np.zeros(5), np.zeros((5, 2)), "mse expects one number per row; predict returned 5 rows × 2 values"),
    ("roc_auc", np.arange(4) % 2, np.zeros((4, 2)), "return the positive class's column, e.g. probs[:, 1]"),
    ("r2", np.zeros(5), np.float64(3.0), "r2 expects one number per row; predict returned a single value"),
    (
        "log_loss",
        DIGITS,
        np.zeros(359),
        "log_loss expects one row of class probabilities per test row (N × 10); predict returned one number per row",
    ),
    ("log_loss", DIGITS, np.zeros((359, 9)), "log_loss expects 10 class probabilities per row, got 9"),
    ("top_k_accuracy", DIGITS, np.zeros((359, 7)), "top_k_accuracy expects 10 class scores per row, got 7"),
    ("top_k_accuracy", DIGITS, np.array(["a"] * 359), "top_k_accuracy expects one row of class scores"),
    ("perplexity", DIGITS, np.zeros((359, 4)), "perplexity expects a probability for each of at least 10 tokens"),
    ("perplexity", DIGITS, np.zeros(359), "one row of next-token probabilities per test row"),
    ("exact_match", WORDS, np.array([1.0, 2.0]), "exact_match expects one string per row; predict returned numbers"),
    ("exact_match", WORDS, np.array([["a"], ["b"]]), "exact_match expects one string per row; predict returned 2 rows"),
    ("exact_match", TOKENS, np.zeros((2, 4)), "exact_match expects 3 token ids per row, got 4"),
    ("exact_match", TOKENS, np.zeros(2), "3 token ids per test row (N × 3); predict returned one number per row"),
    ("exact_match", TOKENS, WORDS, "3 token ids per test row (N × 3); predict returned strings"),
    ("accuracy", [0, 1], [1 + 2j, 0j], "complex numbers"),
]


@pytest.mark.parametrize(("metric", "y_true", "y_pred", "reason"), SHAPE_REASONS)
def test_each_shape_mismatch_gives_its_reason(metric: str, y_true: Any, y_pred: Any, reason: str) -> None:
    problem = prediction_problem(metric, y_true, y_pred)
    assert problem is not None and reason in problem
    with pytest.raises(ValueError, match=f"^{re.escape(problem)}$"):
        score(metric, y_true, y_pred)


JSON_REASONS = [
    ("accuracy", np.zeros(3, dtype=int), [0, 1], "predict returned 2 predictions for 3 test rows"),
    ("log_loss", np.zeros(3, dtype=int), [[1.0], [1.0]], "predict returned 2 predictions for 3 test rows"),
    ("log_loss", ZEROS, [[1.0, 0.0], [1.0]], "predict returned rows of different lengths"),
    ("accuracy", ZEROS, [1, "a"], "predict returned a mix of numbers and strings"),
    ("accuracy", ZEROS, [[1], 2], "predict returned a mix of lists and numbers"),
    ("accuracy", ZEROS, ["0", "1"], "accuracy expects numeric class ids"),
    ("exact_match", WORDS, [1, 2], "exact_match expects one string per row; predict returned numbers"),
    ("accuracy", ZEROS, None, "the run returned no predictions"),
    ("custom", ZEROS, [0, 0], "unknown metric 'custom'"),
    ("top_k_accuracy", ZEROS, [[0.0], [1.0]], "[metric] k must be a whole number"),
]


@pytest.mark.parametrize(("metric", "y_true", "predictions", "reason"), JSON_REASONS)
def test_unusable_json_predictions_give_a_clear_error(metric: str, y_true: Any, predictions: Any, reason: str) -> None:
    outcome = score_predictions(metric, y_true, predictions, options={"k": 0} if metric == "top_k_accuracy" else None)
    assert outcome.score is None and outcome.error is not None
    assert outcome.error.startswith(f"error: {reason}"), outcome.error


def test_malformed_y_true_raises_value_error() -> None:
    with pytest.raises(ValueError, match="class ids"):
        score("log_loss", [0.5, 1.0], np.ones((2, 2)))
    with pytest.raises(ValueError, match="class ids"):
        score("top_k_accuracy", [-1, 1], np.ones((2, 2)))
    with pytest.raises(ValueError, match="strings"):
        score("exact_match", [0.5, 1.5], [0.5, 1.5])
    with pytest.raises(ValueError, match="empty"):
        score("exact_match", np.array([], dtype=str), np.array([], dtype=str))
    with pytest.raises(ValueError, match="numeric"):
        score("accuracy", np.array(["a", "b"]), [0, 1])


def test_unknown_metrics_custom_included_raise_value_error() -> None:
    assert "custom" not in METRICS
    for metric in ("custom", "f2"):
        with pytest.raises(ValueError, match="unknown metric"):
            score(metric, [0, 1], [0, 1])


# --- options -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metric", "options", "problem"),
    [
        ("accuracy", {"k": 3}, "'k' is not an option of accuracy (its options: none)"),
        ("top_k_accuracy", {"positive": 1}, "'positive' is not an option of top_k_accuracy (its options: k)"),
        ("top_k_accuracy", {"k": 0}, "k must be a whole number ≥ 1, got 0"),
        ("top_k_accuracy", {"k": "3"}, "k must be a whole number ≥ 1, got '3'"),
        ("top_k_accuracy", {"k": 2.0}, "k must be a whole number ≥ 1, got 2.0"),
        ("top_k_accuracy", {"k": True}, "k must be a whole number ≥ 1, got True"),
        ("precision", {"positive": "yes"}, "positive must be a class id"),
        ("recall", {"positive": -1}, "positive must be a class id"),
        ("roc_auc", {"positive": 1.5}, "positive must be a class id"),
        ("roc_auc", ["positive"], "must be a table"),
    ],
)
def test_metric_options_problems(metric: str, options: Any, problem: str) -> None:
    problems = metric_options_problems(metric, options)
    assert len(problems) == 1 and problem in problems[0]
    with pytest.raises(ValueError, match="metric"):
        score(metric, [0, 1], [0, 1], options=options)


@pytest.mark.parametrize(
    ("metric", "options"),
    [
        ("accuracy", None),
        ("accuracy", {}),
        ("top_k_accuracy", {"k": 1}),
        ("precision", {"positive": 0}),
        ("recall", {"positive": 3}),
        ("roc_auc", {"positive": 1}),
        ("custom", {"anything": "its own"}),  # not scored here: not checked here
    ],
)
def test_valid_metric_options(metric: str, options: Any) -> None:
    assert metric_options_problems(metric, options) == []


def test_several_option_problems_are_all_reported() -> None:
    assert len(metric_options_problems("top_k_accuracy", {"k": -1, "top": 2, "positive": 1})) == 3


# --- METRICS ---------------------------------------------------------------------------


def test_every_metric_is_described() -> None:
    expected = {
        "accuracy": "label",
        "macro_f1": "label",
        "precision": "label",
        "recall": "label",
        "top_k_accuracy": "vector",
        "log_loss": "vector",
        "perplexity": "vector",
        "roc_auc": "value",
        "mse": "value",
        "mae": "value",
        "r2": "value",
        "exact_match": "sequence",
    }
    assert {name: info.prediction for name, info in METRICS.items()} == expected
    assert all(info.prediction in PREDICTION_KINDS for info in METRICS.values())
    lower = {name for name, info in METRICS.items() if not info.higher_is_better}
    assert lower == {"mse", "mae", "log_loss", "perplexity"}
    assert METRICS["perplexity"].best == 1.0 and METRICS["log_loss"].best == 0.0
    assert not any(METRICS[name].bounded for name in lower)
    docstring = scoring.__doc__ or ""
    assert all(f"``{name}``" in docstring for name in METRICS)


def test_scoring_does_not_use_scikit_learn() -> None:
    assert "sklearn" not in inspect.getsource(scoring)


# --- predictions as JSON ------------------------------------------------------------------


def test_predictions_to_json() -> None:
    huge = 10**400
    assert predictions_to_json([1, 2.5, float("nan"), float("inf"), None, huge, "x", {"a": 1}]) == [
        1,
        2.5,
        None,
        None,
        None,
        None,
        "x",
        None,
    ]
    assert predictions_to_json([[0.5, float("nan")], [float("-inf"), 2], ["a", [1]]]) == [
        [0.5, None],
        [None, 2],
        [None, None],
    ]
    assert predictions_to_json(["  an answer ", "42"]) == ["  an answer ", "42"]
    assert predictions_to_json((1, 2)) is None
    assert predictions_to_json(None) is None


def test_predictions_array() -> None:
    numbers = predictions_array([1, None, 2.5])
    assert isinstance(numbers, np.ndarray) and numbers.dtype == np.float64
    np.testing.assert_array_equal(numbers, [1.0, np.nan, 2.5])
    vectors = predictions_array([[1, None], None, [0.5, 0.5]])
    assert isinstance(vectors, np.ndarray) and vectors.shape == (3, 2)
    np.testing.assert_array_equal(vectors, [[1.0, np.nan], [np.nan, np.nan], [0.5, 0.5]])
    strings = predictions_array(["a", "b"])
    assert isinstance(strings, np.ndarray) and strings.dtype.kind == "U"
    assert predictions_array("nope") == "error: the run returned no predictions"
    assert predictions_array([[1], [1, 2]]) == "error: predict returned rows of different lengths"


def test_json_predictions_score_like_arrays() -> None:
    y_true, probs = probabilities(4, n=40)
    stored = predictions_to_json(probs.tolist())
    assert score_predictions("log_loss", y_true, stored) == ScoreOutcome(score=score("log_loss", y_true, probs))
    # A null counts as wrong: a row with one makes the true class's probability 1e-15.
    stored[0][0] = None
    with_null = score_predictions("log_loss", y_true, stored)
    assert with_null.score is not None and with_null.score > score("log_loss", y_true, probs)
    top = score_predictions("top_k_accuracy", y_true, stored, options={"k": 1})
    assert top.score == pytest.approx(score("top_k_accuracy", y_true, np.nan_to_num(probs), options={"k": 1}), abs=0.03)


def test_json_string_and_token_predictions() -> None:
    y_true = np.array(["yes", "no", "maybe"])
    assert score_predictions("exact_match", y_true, ["yes ", "no", "perhaps"]).score == pytest.approx(2 / 3)
    # A non-string element (stored as null) is wrong, never a crash.
    assert score_predictions("exact_match", y_true, ["yes", None, "maybe"]).score == pytest.approx(2 / 3)
    tokens = np.array([[1, 2], [3, 4]])
    assert score_predictions("exact_match", tokens, [[1, 2], [3, None]]).score == 0.5
    assert score_predictions("exact_match", tokens, [[1, 2], None]).score == 0.5


def test_the_existing_call_forms_still_work() -> None:
    y_true = np.arange(10) % 3
    assert score("accuracy", y_true, y_true) == 1.0
    assert score_predictions("accuracy", y_true, y_true.tolist()) == ScoreOutcome(score=1.0)
    assert score_predictions("accuracy", y_true, [None] * 10) == ScoreOutcome(score=0.0)
    assert score_predictions("mse", y_true.astype(np.float32), [0] * 10).score == pytest.approx(np.mean(y_true**2))
    assert scoring.passes(0.5, 0.5, True) and scoring.passes(0.5, 0.5, False)
