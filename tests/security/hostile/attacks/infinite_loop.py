# Attack: an infinite loop that never returns, to hold the worker forever.
# Expected: the run is stopped at the lab's wall-clock limit: timed_out, "limit: time".
# expect-state: timed_out
# expect-reason: limit: time


def train(data, run):
    spins = 0
    while True:
        spins += 1


def predict(model, x):
    return [0.0] * len(x)
