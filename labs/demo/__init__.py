"""The four demo labs of the platform.

Each lab lives in ``labs/demo/<slug>/`` with a ``lab.toml`` definition, a
reference ``solution.py`` and a learner ``starter.py``. The Python files there
are data for the platform (read as text, run in the lab sandbox), never
imported as modules of this package.

This module needs no Django and no torch (``labs.lab_spec``: the standard library and numpy), so the
site's seed command and ``local_run`` both use it; data, scoring and the local harness live in
``builders.py``, ``labs.scoring`` and ``local_run.py``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from labs.lab_spec import LIMIT_KEYS, REQUIRED_KEYS, param_problems

DEMO_LAB_SLUGS: tuple[str, ...] = ("linear-regression", "digits-mlp", "digits-cnn", "two-spirals")

LABS_DIR = Path(__file__).resolve().parent

METRIC_NAMES = frozenset({"r2", "mse", "accuracy", "macro_f1"})
DEVICE_CLASSES = frozenset({"cpu", "gpu"})


def lab_dir(slug: str) -> Path:
    """Folder of the demo lab ``slug``; ``ValueError`` for an unknown slug."""
    if slug not in DEMO_LAB_SLUGS:
        raise ValueError(f"unknown demo lab {slug!r}; expected one of {list(DEMO_LAB_SLUGS)}")
    return LABS_DIR / slug


def load_lab_definition(slug: str) -> dict[str, Any]:
    """The lab's ``lab.toml`` as a dict, plus ``solution_code`` and ``starter_code`` text.

    ``params`` maps each hyper-parameter name to ``{type, default, min, max}``;
    ``limits`` holds ``wall_seconds``, ``memory_mb``, ``processes``,
    ``output_bytes`` and ``disk_mb``.
    """
    folder = lab_dir(slug)
    with (folder / "lab.toml").open("rb") as fh:
        definition = tomllib.load(fh)
    if definition.get("slug") != slug:
        raise ValueError(f"{folder / 'lab.toml'} declares slug {definition.get('slug')!r}")
    definition["solution_code"] = (folder / "solution.py").read_text(encoding="utf-8")
    definition["starter_code"] = (folder / "starter.py").read_text(encoding="utf-8")
    return definition


def param_defaults(definition: dict[str, Any]) -> dict[str, int | float]:
    """``{name: default}`` of a definition's hyper-parameters."""
    return {name: spec["default"] for name, spec in definition["params"].items()}


def validate_definition(definition: dict[str, Any]) -> list[str]:
    """Problems found in a lab definition (an empty list when it is valid)."""
    errors = [f"missing key {key!r}" for key in (*REQUIRED_KEYS, "params") if key not in definition]
    if errors:
        return errors
    if definition["metric"] not in METRIC_NAMES:
        errors.append(f"metric must be one of {sorted(METRIC_NAMES)}")
    if definition["device_class"] not in DEVICE_CLASSES:
        errors.append(f"device_class must be one of {sorted(DEVICE_CLASSES)}")
    if not isinstance(definition["higher_is_better"], bool):
        errors.append("higher_is_better must be a boolean")
    if not isinstance(definition["threshold"], int | float):
        errors.append("threshold must be a number")
    for name, spec in definition["params"].items():
        errors.extend(param_problems(name, spec))
    limits = definition["limits"]
    errors.extend(
        f"limits.{key} must be a positive integer"
        for key in LIMIT_KEYS
        if not (isinstance(limits.get(key), int) and limits[key] > 0)
    )
    return errors
