# Attack: kill(-1, SIGKILL), "every process I may signal", from a child process: on a host that is
# every process of the same uid, here the worker's uid is another one anyway.
# Expected: the run succeeds: in the sandbox's pid namespace only the harness (pid 1, which
# ignores signals it has no handler for) and the child exist; the child dies, the run goes on.
# expect-state: succeeded
# expect-log: CONTAINED
import os
import signal


def train(data, run):
    if os.getpid() != 1:
        print(f"ESCAPED not in a pid namespace of its own (pid {os.getpid()}); not killing anything")
        return
    child = os.fork()
    if child == 0:
        os.kill(-1, signal.SIGKILL)
        os._exit(0)
    _, status = os.waitpid(child, 0)
    print(f"CONTAINED kill(-1, SIGKILL) from a child (status {status}) left the harness running")
    return


def predict(model, x):
    return [0.0] * len(x)
