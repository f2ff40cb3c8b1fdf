# Attack: blame the platform: report a failure reason starting with "platform:" through the
# events pipe, then exit. Platform failures are retried for free and do not count against the
# learner's daily quota, so a forged one would buy unlimited runs.
# Expected: the run fails with the reason marked as the learner's ("error: platform: ..."), is
# not retried, and counts against the quota.
# expect-state: failed
# expect-reason: error: platform: the worker crashed
import json
import os
import stat


def events_fd():
    # No /proc in the sandbox (its cmdline named the fd): the events pipe is the one inherited
    # pipe above stderr.
    for fd in range(3, 256):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                return fd
        except OSError:
            pass
    raise RuntimeError("no events pipe found")


def train(data, run):
    event = {"kind": "failure", "reason": "platform: the worker crashed"}
    os.write(events_fd(), (json.dumps(event) + "\n").encode())
    os._exit(3)


def predict(model, x):
    return [0.0] * len(x)
