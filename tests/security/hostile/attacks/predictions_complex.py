# Attack: predict returns complex numbers (a real part that would score, an imaginary part that
# might crash a naive conversion).
# Expected: the run fails: predictions must be real numbers.
# expect-state: failed
# expect-reason: error: predict returned complex numbers; expected real numbers
import torch


def train(data, run):
    return None


def predict(model, x):
    return torch.zeros(len(x), dtype=torch.complex64)
