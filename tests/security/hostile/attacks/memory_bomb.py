# Attack: a memory bomb: allocate and touch memory until the machine runs out.
# Expected: the run fails with "limit: memory" (the cgroup's memory limit; the kernel kills it).
# expect-state: failed
# expect-reason: limit: memory
import numpy as np


def train(data, run):
    hog = []
    for _ in range(1000):  # up to 200 GB
        hog.append(np.ones(25_000_000))  # 200 MB, every page touched
    print(f"ESCAPED holding {len(hog) * 200} MB")


def predict(model, x):
    return [0.0] * len(x)
