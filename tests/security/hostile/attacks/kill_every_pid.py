# Attack: find every process it can see (probing pids) and SIGKILL each one (from a child, so that the
# harness is a target too).
# Expected: the run succeeds: only the sandbox's own processes are visible (a fresh /proc of its
# own pid namespace; no /proc), the harness (pid 1) ignores the kill, the host is untouched.
# expect-state: succeeded
# expect-log: CONTAINED
import os
import signal


def visible_pids():
    """Pids that exist in here (no /proc in the sandbox: probed with signal 0)."""
    found = []
    for pid in range(1, 32768):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        except PermissionError:
            pass
        found.append(pid)
    return found


def train(data, run):
    if os.getpid() != 1:
        print(f"ESCAPED not in a pid namespace of its own (pid {os.getpid()}); not killing anything")
        return
    visible = visible_pids()
    print(f"visible pids: {visible}")
    child = os.fork()
    if child == 0:
        for pid in visible_pids():
            if pid != os.getpid():
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        os._exit(0)
    os.waitpid(child, 0)
    if len(visible) > 5:
        print(f"ESCAPED {len(visible)} processes visible")
    else:
        print(f"CONTAINED {len(visible)} visible process(es), all the sandbox's own; the harness survived")
    return


def predict(model, x):
    return [0.0] * len(x)
