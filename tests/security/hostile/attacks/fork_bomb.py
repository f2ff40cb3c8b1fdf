# Attack: a fork bomb: every process forks forever.
# Expected: the run fails with "limit: processes" (the cgroup's pids.max stops it; the machine and
# the worker are fine, and nothing is left behind).
# expect-state: failed
# expect-reason: limit: processes
import os


def train(data, run):
    forks = 0
    while forks < 1_000_000:
        os.fork()
        forks += 1
    print(f"ESCAPED {forks} forks and no limit")


def predict(model, x):
    return [0.0] * len(x)
