# Attack: fill the disk through /tmp, which on a host is often a shared folder.
# Expected: the run fails with "limit: disk": /tmp is the sandbox's own tmpfs, sized to the lab's
# disk limit, so the write fails with "no space left on device".
# expect-state: failed
# expect-reason: limit: disk
import os


def train(data, run):
    chunk = os.urandom(1024 * 1024)
    written = 0
    with open("/tmp/fill.bin", "wb") as handle:
        while written < 2048:  # MB
            handle.write(chunk)
            handle.flush()
            written += 1
    print(f"ESCAPED wrote {written} MB into /tmp")


def predict(model, x):
    return [0.0] * len(x)
