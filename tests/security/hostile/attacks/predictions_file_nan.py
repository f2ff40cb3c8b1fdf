# Attack: skip predict and write the predictions file directly (NaN in every row), then exit with
# status 0, so that only the supervisor's own check stands between the file and the scorer.
# Expected: the run fails: the supervisor re-checks the file it reads and refuses NaN.
# expect-state: failed
# expect-reason: error: the predictions contain NaN or infinite values
import os

import numpy as np


def train(data, run):
    with np.load("/job/dataset.npz") as archive:
        rows = len(archive["x_test"])
    np.save("/job/out/predictions.npy", np.full(rows, np.nan))
    os._exit(0)


def predict(model, x):
    return [0.0] * len(x)
