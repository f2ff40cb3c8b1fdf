# Attack: write 1 GB to stdout, to fill the site's database or the worker's memory with the log.
# Expected: the run fails with "limit: output"; the stored log is cut to the lab's output limit.
# expect-state: failed
# expect-reason: limit: output
import sys


def train(data, run):
    block = b"flood " * (1024 * 1024 // 6)
    for _ in range(1024):
        sys.stdout.buffer.write(block)
    sys.stdout.flush()
    print("ESCAPED wrote 1 GB of output")


def predict(model, x):
    return [0.0] * len(x)
