# Attack: a thread bomb: start sleeping threads until the machine runs out.
# Expected: the run fails with "limit: processes" (threads count against the cgroup's pids.max).
# expect-state: failed
# expect-reason: limit: processes
import threading
import time


def train(data, run):
    threads = 0
    while threads < 100_000:
        threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()
        threads += 1
    print(f"ESCAPED {threads} threads and no limit")


def predict(model, x):
    return [0.0] * len(x)
