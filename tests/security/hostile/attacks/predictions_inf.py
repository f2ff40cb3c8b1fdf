# Attack: predict returns +inf and -inf (infinity breaks JSON storage and regression metrics).
# Expected: the run fails: predictions must be finite numbers.
# expect-state: failed
# expect-reason: error: predict returned {n_test} non-finite values (NaN or inf)


def train(data, run):
    return None


def predict(model, x):
    return [float("inf") if row % 2 else float("-inf") for row in range(len(x))]
