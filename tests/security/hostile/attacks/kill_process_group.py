# Attack: os.killpg with SIGKILL on the sandbox's process group and on the group of pid 1, from a
# child process, hoping the group reaches outside the sandbox.
# Expected: the run succeeds: the harness runs in a new session (bwrap --new-session) inside its
# own pid namespace; the child dies, the harness (pid 1) is immune, nothing outside is reached.
# expect-state: succeeded
# expect-log: CONTAINED
import os
import signal


def train(data, run):
    if os.getpid() != 1:
        print(f"ESCAPED not in a pid namespace of its own (pid {os.getpid()}); not killing anything")
        return
    print(f"process group {os.getpgrp()}, session {os.getsid(0)}")
    child = os.fork()
    if child == 0:
        for group in (os.getpgid(1), 1, 0):
            try:
                os.killpg(group, signal.SIGKILL)
            except OSError:
                pass
        os._exit(0)
    _, status = os.waitpid(child, 0)
    print(f"CONTAINED killpg(SIGKILL) from a child (status {status}) left the harness running")
    return


def predict(model, x):
    return [0.0] * len(x)
