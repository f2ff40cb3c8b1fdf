# Attack: predict returns a 2-D array (class scores) instead of one prediction per row.
# Expected: the run fails with a hint to take the argmax.
# expect-state: failed
# expect-reason: error: predict returned an array of shape ({n_test}, 3); expected one prediction per test row (for class scores, return scores.argmax(dim=1))
import torch


def train(data, run):
    return None


def predict(model, x):
    return torch.zeros(len(x), 3)
