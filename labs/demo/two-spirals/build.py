"""The data of the two-spirals lab: two interleaved spiral arms in the plane, one per class, split
stratified (every split holds as many points of each arm); numpy only.

    [data]
    format = "build"
    hidden = "secret-seed"

The training and validation points come from a fixed seed: anyone can rebuild them from this file.
The hidden test points the platform scores come from ``hidden_seed``, a secret the platform draws when
it imports the lab and never writes into this folder: no file here holds them. Without it
(``hidden_seed=None``, a learner's own machine) the test points are stand-ins from the fixed seed,
drawn like the real ones but not them.
"""

import numpy as np

SEED = 20240519
SIZES = (1000, 200, 400)  # train, validation, test
TURNS = 1.75
NOISE = 0.02


def spiral_points(n: int, label: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points of one spiral arm; arm 1 is arm 0 rotated by half a turn."""
    # sqrt spreads the points evenly along the arm instead of piling them at the centre.
    t = np.sqrt(rng.uniform(0.0, 1.0, n)) * TURNS * 2.0 * np.pi
    radius = t / (TURNS * 2.0 * np.pi)  # 0 .. 1
    angle = t + label * np.pi
    points = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    return points + rng.normal(0.0, NOISE, points.shape)


def stratified_split(y: np.ndarray, fractions: tuple, rng: np.random.Generator) -> tuple:
    """Index arrays (train, val, test) with every class split by ``fractions``."""
    parts: tuple = ([], [], [])
    for label in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == label))
        n_val, n_test = round(len(idx) * fractions[1]), round(len(idx) * fractions[2])
        n_train = len(idx) - n_val - n_test
        parts[0].append(idx[:n_train])
        parts[1].append(idx[n_train : n_train + n_val])
        parts[2].append(idx[n_train + n_val :])
    return tuple(rng.permutation(np.concatenate(p)) for p in parts)  # classes not stored in blocks


def arms(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points, half of each arm, and their labels (arm 0 first)."""
    labels = np.arange(n) % 2
    x = np.empty((n, 2))
    for label in (0, 1):
        mask = labels == label
        x[mask] = spiral_points(int(mask.sum()), label, rng)
    return x, labels


def build(hidden_seed: int | None = None) -> dict:
    rng = np.random.default_rng(SEED)
    n = sum(SIZES)
    x, labels = arms(n, rng)
    train, val, test = stratified_split(labels, tuple(size / n for size in SIZES), rng)
    if hidden_seed is not None:  # the platform's test points: as many of each arm, from the secret seed
        secret = np.random.default_rng([SEED, hidden_seed])
        hidden_x, hidden_y = arms(len(test), secret)
        order = secret.permutation(len(test))
        x, labels = np.concatenate([x, hidden_x[order]]), np.concatenate([labels, hidden_y[order]])
        test = np.arange(n, n + len(test))
    x, y = x.astype(np.float32), labels.astype(np.int64)
    return {
        "x_train": x[train],
        "y_train": y[train],
        "x_val": x[val],
        "y_val": y[val],
        "x_test": x[test],
        "y_test": y[test],
        "meta": {"task": "classification", "turns": TURNS, "noise": NOISE},
    }
