# Attack: predict returns a numpy object array (arbitrary Python objects, which only pickle can
# carry out of the sandbox).
# Expected: the run fails: predictions must be numbers or strings.
# expect-state: failed
# expect-reason: error: predict returned values of type object; expected numbers or strings
import numpy as np


def train(data, run):
    return None


def predict(model, x):
    return np.array([object() for _ in range(len(x))], dtype=object)
