"""Where the digits labs' data comes from: scikit-learn's bundled ``digits`` set (8×8 handwritten
digits, from the UCI repository), split 60/20/20 stratified with a fixed seed, written once into
``labs/demo/digits-mlp/data/data.npz`` and ``labs/demo/digits-cnn/data/data.npz`` (committed: the
lab folders are the labs; a test checks that the files are still what this script writes).

    python -m labs.demo.builders      # rewrite both files

Conventions, shared with the lab contract: features ``float32``; labels ``int64``; ``x_test`` and
``y_test`` the hidden evaluation split (learners see ``x_test`` only through ``predict``).
The other demo labs generate their data with their own ``build.py``.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

LABS_DIR = Path(__file__).resolve().parent
DIGITS_SPLIT = (0.6, 0.2, 0.2)  # train, validation, test
DIGITS_SEED = 20240517


def _stratified_split(
    y: np.ndarray, fractions: tuple[float, float, float], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index arrays (train, val, test) with every class split by ``fractions`` (numpy alone, so that
    the split cannot change with the scikit-learn version)."""
    parts: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [])
    for label in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == label))
        n_val, n_test = round(len(idx) * fractions[1]), round(len(idx) * fractions[2])
        n_train = len(idx) - n_val - n_test
        parts[0].append(idx[:n_train])
        parts[1].append(idx[n_train : n_train + n_val])
        parts[2].append(idx[n_train + n_val :])
    # Shuffle inside each split so the classes are not stored in blocks.
    train, val, test = (rng.permutation(np.concatenate(p)) for p in parts)
    return train, val, test


def digits_splits(image: bool) -> dict[str, np.ndarray]:
    """The digits, flat (64 features in [0, 1]) or as ``1×8×8`` images; the same split either way."""
    from sklearn.datasets import load_digits  # only this script needs scikit-learn

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    if image:
        x = x.reshape(-1, 1, 8, 8)
    y = y.astype(np.int64)
    train, val, test = _stratified_split(y, DIGITS_SPLIT, np.random.default_rng(DIGITS_SEED))
    return {
        "x_train": x[train],
        "y_train": y[train],
        "x_val": x[val],
        "y_val": y[val],
        "x_test": x[test],
        "y_test": y[test],
    }


def digits_npz(image: bool) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **digits_splits(image))
    return buffer.getvalue()


DIGITS_FILES = {"digits-mlp": False, "digits-cnn": True}  # slug -> as images


def main() -> None:
    for slug, image in DIGITS_FILES.items():
        path = LABS_DIR / slug / "data" / "data.npz"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(digits_npz(image))
        print(f"wrote {path.relative_to(LABS_DIR.parent.parent)} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
