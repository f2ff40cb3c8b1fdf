# Attack: predict returns strings ("cat") instead of class ids.
# Expected: the run fails when the site checks them against the metric (strings are predictions
# only for exact_match).
# expect-state: failed
# expect-reason: error: accuracy expects numeric class ids, one per row; predict returned strings


def train(data, run):
    return None


def predict(model, x):
    return ["cat"] * len(x)
