# Attack: log 5,000 points, each with a metric name never seen before, so that the run page has
# to draw 5,000 series (a learner's way to freeze the browser of the mentor who opens the run).
# Expected: the run succeeds; the site keeps a bounded number of distinct metric names per run.
# expect-state: succeeded


def train(data, run):
    for step in range(5000):
        run.log(step, **{f"metric_{step}": float(step)})


def predict(model, x):
    return [0.0] * len(x)
