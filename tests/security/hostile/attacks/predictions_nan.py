# Attack: predict returns NaN for every row (NaN breaks comparisons in naive scoring code).
# Expected: the run fails: predictions must be finite numbers.
# expect-state: failed
# expect-reason: error: predict returned {n_test} non-finite values (NaN or inf)
import torch


def train(data, run):
    return None


def predict(model, x):
    return torch.full((len(x),), float("nan"))
