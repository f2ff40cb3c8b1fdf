# Attack: from a child, send the harness (pid 1) SIGSTOP, SIGTERM, SIGHUP, SIGUSR1, SIGSEGV and
# SIGABRT, to freeze or crash the process the supervisor talks to.
# Expected: the run succeeds: the namespace's init receives only signals it has a handler for,
# so all of these are dropped, and the harness finishes the job normally.
# expect-state: succeeded
# expect-log: CONTAINED
import os
import signal
import time

SIGNALS = ("SIGSTOP", "SIGTERM", "SIGHUP", "SIGUSR1", "SIGSEGV", "SIGABRT")


def train(data, run):
    if os.getpid() != 1:
        print(f"ESCAPED not in a pid namespace of its own (pid {os.getpid()}); not signalling")
        return
    child = os.fork()
    if child == 0:
        for name in SIGNALS:
            os.kill(1, getattr(signal, name))
        os._exit(0)
    os.waitpid(child, 0)
    time.sleep(0.2)
    print(f"CONTAINED {', '.join(SIGNALS)} sent to pid 1; the harness goes on")
    return


def predict(model, x):
    return [0.0] * len(x)
