"""Scoring on the site: predictions from the sandbox against the hidden test labels.

Predictions travel as JSON, where NaN and infinity have no place (PostgreSQL's JSONB
refuses them), so non-finite values are stored as null and scored as wrong.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from labs.metrics import score


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
