"""The names of the coach's run findings (``labs.diagnosis`` reads runs and explains them): shared by
the apps that refer to them — a lesson teaches the fix for some (``courses``), a skill's gap shows
in some (``skills``)."""

from __future__ import annotations

FINDING_CODES = (
    "nan_loss",
    "diverging",
    "not_learning",
    "unstable",
    "overfitting",
    "underfitting",
    "time_limit_while_improving",
    "below_threshold_close",
)
