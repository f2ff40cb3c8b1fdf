"""Deterministic datasets of the four demo labs.

Every lab has a pure builder: same code, same arrays, every time (each builder
uses its own fixed seed and nothing else). Nothing is downloaded: the data is
either generated with numpy or taken from scikit-learn's bundled ``digits``
set (scikit-learn is imported lazily, only by the digits builders).

Conventions, shared with the lab contract:

* features are ``float32``;
* labels are ``int64`` for classification and ``float32`` for regression;
* ``x_test``/``y_test`` are the hidden evaluation split: the platform shows
  learners ``x_test`` only through ``predict`` and keeps ``y_test`` to itself.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from labs.lab_spec import LabSplits

#: Split fractions (train, val, test) used by the digits labs.
DIGITS_SPLIT = (0.6, 0.2, 0.2)
DIGITS_SEED = 20240517

LINEAR_SEED = 20240515
LINEAR_SIZES = (1000, 200, 300)
#: True model of the linear-regression lab: price = bias + weights · features + noise.
LINEAR_FEATURES = ("area_m2", "age_years", "distance_km")
LINEAR_WEIGHTS = (3.0, -1.5, -4.0)
LINEAR_BIAS = 50.0
LINEAR_NOISE = 20.0

SPIRALS_SEED = 20240519
SPIRALS_SIZES = (1000, 200, 400)
SPIRALS_TURNS = 1.75
SPIRALS_NOISE = 0.02


def _split_sizes(n: int, fractions: tuple[float, float, float]) -> tuple[int, int, int]:
    n_val = round(n * fractions[1])
    n_test = round(n * fractions[2])
    return n - n_val - n_test, n_val, n_test


def _stratified_split(
    y: np.ndarray, fractions: tuple[float, float, float], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index arrays (train, val, test) with every class split by ``fractions``.

    Implemented with numpy alone so that the split cannot change with the
    scikit-learn version.
    """
    parts: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [])
    for label in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == label))
        n_train, n_val, _ = _split_sizes(len(idx), fractions)
        parts[0].append(idx[:n_train])
        parts[1].append(idx[n_train : n_train + n_val])
        parts[2].append(idx[n_train + n_val :])
    # Shuffle inside each split so the classes are not stored in blocks.
    train, val, test = (rng.permutation(np.concatenate(p)) for p in parts)
    return train, val, test


def _split_arrays(x: np.ndarray, y: np.ndarray, sizes: tuple[int, int, int]) -> dict[str, np.ndarray]:
    """Consecutive (already shuffled) rows cut into train/val/test."""
    n_train, n_val, n_test = sizes
    bounds = {"train": (0, n_train), "val": (n_train, n_train + n_val)}
    bounds["test"] = (n_train + n_val, n_train + n_val + n_test)
    out: dict[str, np.ndarray] = {}
    for name, (lo, hi) in bounds.items():
        out[f"x_{name}"] = x[lo:hi]
        out[f"y_{name}"] = y[lo:hi]
    return out


def linear_regression_dataset() -> LabSplits:
    """House prices (in thousands) from area, age and distance to the centre."""
    rng = np.random.default_rng(LINEAR_SEED)
    n = sum(LINEAR_SIZES)
    x = np.column_stack(
        [
            rng.uniform(40.0, 200.0, n),  # living area, m²
            rng.uniform(0.0, 60.0, n),  # age of the building, years
            rng.uniform(1.0, 30.0, n),  # distance to the city centre, km
        ]
    )
    y = x @ np.asarray(LINEAR_WEIGHTS) + LINEAR_BIAS + rng.normal(0.0, LINEAR_NOISE, n)
    splits = _split_arrays(x.astype(np.float32), y.astype(np.float32), LINEAR_SIZES)
    meta = {"task": "regression", "feature_names": list(LINEAR_FEATURES), "target": "price_k"}
    return LabSplits(**splits, num_classes=None, meta=meta)


def _digits_splits() -> dict[str, np.ndarray]:
    from sklearn.datasets import load_digits  # lazy: only these labs need scikit-learn

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    y = y.astype(np.int64)
    rng = np.random.default_rng(DIGITS_SEED)
    train, val, test = _stratified_split(y, DIGITS_SPLIT, rng)
    return {
        "x_train": x[train],
        "y_train": y[train],
        "x_val": x[val],
        "y_val": y[val],
        "x_test": x[test],
        "y_test": y[test],
    }


def digits_mlp_dataset() -> LabSplits:
    """8×8 handwritten digits as flat 64-feature vectors in [0, 1]."""
    meta = {"task": "classification", "n_features": 64, "image_shape": [8, 8]}
    return LabSplits(**_digits_splits(), num_classes=10, meta=meta)


def digits_cnn_dataset() -> LabSplits:
    """The same digits (same split) as 1×8×8 single-channel images."""
    splits = {
        key: value.reshape(-1, 1, 8, 8) if key.startswith("x_") else value for key, value in _digits_splits().items()
    }
    meta = {"task": "classification", "image_shape": [1, 8, 8]}
    return LabSplits(**splits, num_classes=10, meta=meta)


def _spiral_points(n: int, label: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points of one spiral arm; arm 1 is arm 0 rotated by half a turn."""
    # sqrt spreads the points evenly along the arm instead of piling them at the centre.
    t = np.sqrt(rng.uniform(0.0, 1.0, n)) * SPIRALS_TURNS * 2.0 * np.pi
    radius = t / (SPIRALS_TURNS * 2.0 * np.pi)  # 0 .. 1
    angle = t + label * np.pi
    points = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    return points + rng.normal(0.0, SPIRALS_NOISE, points.shape)


def two_spirals_dataset() -> LabSplits:
    """Two interleaved spiral arms in the plane, one per class."""
    rng = np.random.default_rng(SPIRALS_SEED)
    n = sum(SPIRALS_SIZES)
    labels = np.arange(n) % 2
    x = np.empty((n, 2))
    for label in (0, 1):
        mask = labels == label
        x[mask] = _spiral_points(int(mask.sum()), label, rng)
    # Stratified, so that every split holds exactly as many points of each arm.
    fractions = tuple(size / n for size in SPIRALS_SIZES)
    train, val, test = _stratified_split(labels, fractions, rng)
    x, y = x.astype(np.float32), labels.astype(np.int64)
    meta = {"task": "classification", "turns": SPIRALS_TURNS, "noise": SPIRALS_NOISE}
    return LabSplits(
        x_train=x[train],
        y_train=y[train],
        x_val=x[val],
        y_val=y[val],
        x_test=x[test],
        y_test=y[test],
        num_classes=2,
        meta=meta,
    )


BUILDERS: dict[str, Callable[[], LabSplits]] = {
    "linear-regression": linear_regression_dataset,
    "digits-mlp": digits_mlp_dataset,
    "digits-cnn": digits_cnn_dataset,
    "two-spirals": two_spirals_dataset,
}


def build_dataset(slug: str) -> LabSplits:
    """Build the dataset of the demo lab ``slug`` (deterministic)."""
    try:
        builder = BUILDERS[slug]
    except KeyError:
        raise ValueError(f"unknown demo lab {slug!r}; expected one of {sorted(BUILDERS)}") from None
    return builder()
