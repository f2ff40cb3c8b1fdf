"""Data of the "transformer-addition" lab: addition problems written as text.

    x: "123+45="   y: "168"

Numbers are written the usual way (no leading zeros, most significant digit first). Each
operand has 3 digits with probability 0.7, 2 digits with 0.2 and 1 digit with 0.1 (so
short numbers are not rare), and no problem appears twice: the train, validation and test
problems are disjoint (the order of the operands counts, so "12+7=" and "7+12=" are two
different problems). Deterministic: the same arrays on every run (numpy only, fixed seed).
"""

import numpy as np

SEED = 20240917
MAX_DIGITS = 3
N_TRAIN, N_VAL, N_TEST = 30_000, 1_000, 2_000
DIGIT_SHARES = (0.1, 0.2, 0.7)  # P(1 digit), P(2 digits), P(3 digits) for each operand


def _operands(rng: np.random.Generator, n: int) -> np.ndarray:
    digits = rng.choice(np.arange(1, MAX_DIGITS + 1), size=n, p=DIGIT_SHARES)
    low = np.where(digits == 1, 0, 10 ** (digits - 1))
    return rng.integers(low, 10**digits)


def build() -> dict:
    rng = np.random.default_rng(SEED)
    wanted = N_TRAIN + N_VAL + N_TEST
    pairs = np.empty((0, 2), dtype=np.int64)
    while len(pairs) < wanted:
        drawn = np.stack([_operands(rng, wanted), _operands(rng, wanted)], axis=1)
        pairs = np.concatenate([pairs, drawn])
        _, first = np.unique(pairs, axis=0, return_index=True)
        pairs = pairs[np.sort(first)]  # unique problems, in the order they were drawn
    pairs = pairs[rng.permutation(len(pairs))[:wanted]]
    x = np.asarray([f"{a}+{b}=" for a, b in pairs])
    y = np.asarray([str(a + b) for a, b in pairs])
    val_end = N_TRAIN + N_VAL
    return {
        "x_train": x[:N_TRAIN],
        "y_train": y[:N_TRAIN],
        "x_val": x[N_TRAIN:val_end],
        "y_val": y[N_TRAIN:val_end],
        "x_test": x[val_end:],
        "y_test": y[val_end:],
        "meta": {"max_digits": MAX_DIGITS, "alphabet": "0123456789+="},
    }
