# Attack: predict returns a single number (a 0-d tensor), hoping it is broadcast to every row.
# Expected: the run fails: one prediction per test row is needed.
# expect-state: failed
# expect-reason: error: predict returned an array of shape (); expected one prediction per test row (a number, a row of class scores, or a string)
import torch


def train(data, run):
    return None


def predict(model, x):
    return torch.tensor(1.0)
