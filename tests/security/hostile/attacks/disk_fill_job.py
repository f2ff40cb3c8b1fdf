# Attack: fill the disk through the job folder with many files, each under the per-file size limit
# (RLIMIT_FSIZE), so only the folder's total can stop it.
# Expected: the run fails with "limit: disk" (the supervisor measures the folder and kills the
# run); the folder is removed afterwards.
# expect-state: failed
# expect-reason: limit: disk
import os
import time


def train(data, run):
    os.makedirs("/job/fill", exist_ok=True)
    chunk = os.urandom(1024 * 1024)
    written = 0
    started = time.monotonic()
    while written < 4096:  # MB, as fast as it can
        with open(f"/job/fill/{written}.bin", "wb") as handle:
            handle.write(chunk)
        written += 1
        if written % 64 == 0:
            print(f"wrote {written} MB in {time.monotonic() - started:.1f} s", flush=True)
    print(f"ESCAPED wrote {written} MB into the job folder")


def predict(model, x):
    return [0.0] * len(x)
