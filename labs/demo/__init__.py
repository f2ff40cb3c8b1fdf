"""The demo labs of the platform: lab folders (``labs.lab_folder``), loaded by the same code as an
instructor's.

Each lab lives in ``labs/demo/<slug>/``: ``lab.toml``, a reference ``solution.py``, a learner
``starter.py``, and its data (``data/`` or a ``build.py``). The Python files there are data for the
platform (read as text, run in the lab sandbox or, for ``build.py``, in a process of their own),
never imported as modules of this package.

This module needs no Django and no torch (the standard library and numpy), so the site's seed command
and ``local_run`` both use it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from labs.lab_folder import LabFolder, definition_problems, metric_table, read_lab_folder
from labs.lab_spec import HIDDEN_SECRET_SEED, LabSplits

DEMO_LAB_SLUGS: tuple[str, ...] = (
    "linear-regression",
    "digits-mlp",
    "digits-cnn",
    "two-spirals",
    "loan-default",
    "shapes",
    "transformer-addition",
    "finetune-lora",
)

LABS_DIR = Path(__file__).resolve().parent


def lab_dir(slug: str) -> Path:
    """Folder of the demo lab ``slug``; ``ValueError`` for an unknown slug."""
    if slug not in DEMO_LAB_SLUGS:
        raise ValueError(f"unknown demo lab {slug!r}; expected one of {list(DEMO_LAB_SLUGS)}")
    return LABS_DIR / slug


def load_lab_definition(slug: str) -> dict[str, Any]:
    """The lab's ``lab.toml`` as a dict (``metric`` its name, ``metric_options`` its options), plus
    ``solution_code`` and ``starter_code`` text. Reads no data (``demo_lab`` does)."""
    folder = lab_dir(slug)
    with (folder / "lab.toml").open("rb") as fh:
        definition = metric_table(tomllib.load(fh))
    if definition.get("slug") != slug:
        raise ValueError(f"{folder / 'lab.toml'} declares slug {definition.get('slug')!r}")
    definition["solution_code"] = (folder / "solution.py").read_text(encoding="utf-8")
    definition["starter_code"] = (folder / "starter.py").read_text(encoding="utf-8")
    return definition


_LOADED: dict[tuple[str, int | None], LabFolder] = {}


def demo_lab(slug: str, hidden_seed: Callable[[str], int] | None = None) -> LabFolder:
    """The demo lab ``slug`` read whole from its folder (once per process and secret seed: ``build.py``
    runs once). ``hidden_seed`` as ``read_lab_folder``'s: asked only of a secret-seeded lab; without it,
    such a lab has its stand-in test rows."""
    secret = load_lab_definition(slug)["data"].get("hidden") == HIDDEN_SECRET_SEED
    seed = hidden_seed(slug) if secret and hidden_seed is not None else None
    if (slug, seed) not in _LOADED:
        _LOADED[slug, seed] = read_lab_folder(lab_dir(slug), hidden_seed=None if seed is None else lambda _: seed)
    return _LOADED[slug, seed]


def build_dataset(slug: str) -> LabSplits:
    """The data of the demo lab ``slug`` (deterministic)."""
    return demo_lab(slug).data


def param_defaults(definition: dict[str, Any]) -> dict[str, int | float]:
    """``{name: default}`` of a definition's hyper-parameters."""
    return {name: spec["default"] for name, spec in definition.get("params", {}).items()}


def validate_definition(definition: dict[str, Any]) -> list[str]:
    """Problems found in a lab definition (an empty list when it is valid)."""
    return definition_problems(definition)
