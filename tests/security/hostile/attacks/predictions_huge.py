# Attack: predict returns 10^8 values (100 MB) instead of one per test row, to exhaust the
# supervisor or the site that stores and scores them.
# Expected: the run fails with a clear error from the harness; nothing that size leaves the sandbox.
# expect-state: failed
# expect-reason: error: predict returned 100000000 predictions for {n_test} test rows
import numpy as np


def train(data, run):
    return None


def predict(model, x):
    return np.zeros(10**8, dtype=np.uint8)
