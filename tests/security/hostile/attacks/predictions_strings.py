# Attack: predict returns strings ("cat") instead of numbers.
# Expected: the run fails: predictions must be numbers.
# expect-state: failed
# expect-reason: error: predict returned values of type <U3; expected numbers


def train(data, run):
    return None


def predict(model, x):
    return ["cat"] * len(x)
