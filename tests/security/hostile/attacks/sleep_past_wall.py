# Attack: sleep far past the wall-clock limit, ignoring the polite signals (SIGTERM, SIGHUP,
# SIGINT) a supervisor might send first.
# Expected: timed_out, "limit: time" (the sandbox is killed with SIGKILL, which cannot be ignored).
# expect-state: timed_out
# expect-reason: limit: time
import signal
import time


def train(data, run):
    for name in ("SIGTERM", "SIGHUP", "SIGINT"):
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    time.sleep(3600)
    print("ESCAPED slept an hour")


def predict(model, x):
    return [0.0] * len(x)
