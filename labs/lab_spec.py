"""What a lab definition (``lab.toml``) must hold, and the arrays of a lab's splits: shared by the lab
folders of ``labs.lab_folder`` and the demo labs' tools (``labs.demo``), which also run without
Django (``python -m labs.demo.local_run``), so this module needs only the standard library and numpy."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

PARAM_TYPES = ("int", "float")
LIMIT_KEYS = ("wall_seconds", "memory_mb", "processes", "output_bytes", "disk_mb")
# [limits] artifact_max_mb: the largest trained weights a run keeps, in MB (0: none); optional.
ARTIFACT_MAX_MB = "artifact_max_mb"
DEFAULT_ARTIFACT_MAX_MB = 50  # Lab.artifact_max_mb's default too
MAX_ARTIFACT_MAX_MB = 100_000
# A submission's parameter the platform reads itself (labs.validation): no lab may define one so named.
SAVE_WEIGHTS = "save_weights"
REQUIRED_KEYS = (
    "slug",
    "title_en",
    "title_zh",
    "description_en",
    "description_zh",
    "metric",
    "threshold",
    "higher_is_better",
    "device_class",
    "submissions_per_day",
    "limits",
)


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def param_problems(name: str, spec: Any) -> list[str]:
    if name == SAVE_WEIGHTS:
        return [f"params.{name}: the name is reserved (learners send save_weights=false to keep no weights)"]
    if not isinstance(spec, dict):
        return [f"params.{name} must be a table with type, default, min and max"]
    if spec.get("type") not in PARAM_TYPES:
        return [f"params.{name}.type must be one of {', '.join(PARAM_TYPES)}"]
    check = is_int if spec["type"] == "int" else is_number
    values = {key: spec.get(key) for key in ("default", "min", "max")}
    wrong = [key for key, value in values.items() if not check(value)]
    if wrong:
        return [f"params.{name}.{key} must be {'an integer' if spec['type'] == 'int' else 'a number'}" for key in wrong]
    if values["min"] > values["max"]:
        return [f"params.{name}: min {values['min']} exceeds max {values['max']}"]
    if not values["min"] <= values["default"] <= values["max"]:
        return [f"params.{name}: default {values['default']} outside [{values['min']}, {values['max']}]"]
    return []


def artifact_max_mb_problems(limits: dict[str, Any]) -> list[str]:
    value = limits.get(ARTIFACT_MAX_MB, DEFAULT_ARTIFACT_MAX_MB)
    if is_int(value) and 0 <= value <= MAX_ARTIFACT_MAX_MB:
        return []
    return [f"limits.{ARTIFACT_MAX_MB} must be an integer from 0 (keep no weights) to {MAX_ARTIFACT_MAX_MB}"]


@dataclass
class LabSplits:
    """Every split of a lab, as arrays; ``y_test`` stays on the site."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int | None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def is_classification(self) -> bool:
        return self.num_classes is not None


DEVICE_CLASSES = ("cpu", "gpu")
DATA_FORMATS = ("csv", "npz", "images", "jsonl", "build")
# [data] hidden: where the hidden test rows come from, and so whether a lab is fit for ranking.
# "public" (the default): they can be found outside the platform (a public data set, the folder's own
# files or a build.py without a secret); "secret-seed": build.py draws them with a seed only the
# platform holds (``build(hidden_seed=…)``; without it, stand-in rows for a learner's own machine);
# "private": the author's own rows, uploaded to the platform and published nowhere else (their word).
HIDDEN_PUBLIC, HIDDEN_SECRET_SEED, HIDDEN_PRIVATE = "public", "secret-seed", "private"
HIDDEN_KINDS = (HIDDEN_PUBLIC, HIDDEN_SECRET_SEED, HIDDEN_PRIVATE)
CUSTOM_METRIC = "custom"  # scored by the lab's own score.py (labs.author_code), not by labs.scoring
