# Attack: predict returns a 2-D array (class scores) instead of one prediction per row.
# Expected: the run fails when the site checks the shape against the metric, with a hint to take the argmax.
# expect-state: failed
# expect-reason: error: accuracy expects one class id per row; predict returned {n_test} rows × 3 values (for class scores, return scores.argmax(dim=1), a 1-D array)
import torch


def train(data, run):
    return None


def predict(model, x):
    return torch.zeros(len(x), 3)
