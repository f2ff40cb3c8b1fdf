# Attack: write a predictions file with a valid header for the right number of rows followed by
# 30 MB of padding, then exit with status 0, to make the supervisor (root) read a huge file.
# Expected: the run fails: the supervisor checks the file's size before reading it.
# expect-state: failed
# expect-reason: error: the predictions file is larger than the predictions can be
import os

import numpy as np


def train(data, run):
    with np.load("/job/dataset.npz") as archive:
        rows = len(archive["x_test"])
    np.save("/job/out/predictions.npy", np.zeros(rows))
    with open("/job/out/predictions.npy", "ab") as handle:
        for _ in range(30):
            handle.write(b"\0" * 1024 * 1024)
    os._exit(0)


def predict(model, x):
    return [0.0] * len(x)
