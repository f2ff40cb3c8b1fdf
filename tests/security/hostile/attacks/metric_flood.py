# Attack: flood the live view: 300,000 run.log calls as fast as possible, plus 200,000 metric
# events written straight into the harness's events pipe (found among its open descriptors).
# Expected: the run succeeds; the harness thins run.log, the supervisor caps events, and the
# site keeps at most 5,000 curve points.
# expect-state: succeeded
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
    for step in range(300_000):
        run.log(step, loss=1.0 / (step + 1))
    fd = events_fd()
    line = b'{"kind":"metrics","step":1,"t":0,"metrics":{"forged":1.0}}\n'
    for _ in range(2000):
        os.write(fd, line * 100)
    print("flooded: 300000 run.log calls and 200000 raw events")


def predict(model, x):
    return [0.0] * len(x)
