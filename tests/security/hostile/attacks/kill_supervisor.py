# Attack: kill the supervisor: the harness's parent (the worker side of the sandbox), and the
# lab worker, the site worker and the test runner by their host pids (filled in below).
# Expected: the run succeeds and every kill fails: the harness is pid 1 of its own pid namespace
# (its parent is invisible: ppid 0), and no host pid exists in there. The worker lives on.
# expect-state: succeeded
# expect-log: CONTAINED
import os
import signal

HOST = {}  # the test fills in the host's paths, ports and pids


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
    parent = os.getppid()
    if parent == 0:
        print("CONTAINED the harness has no visible parent (ppid 0)")
    else:
        os.kill(parent, signal.SIGKILL)
        print(f"ESCAPED killed the parent {parent}")
    visible = set(visible_pids())
    for name, pid in HOST["pids"].items():
        if pid in visible:
            print(f"pid {pid} ({name} on the host) is a different process in here; skipped")
            continue
        try:
            os.kill(pid, signal.SIGKILL)
        except Exception as exc:
            print(f"CONTAINED kill {name} (host pid {pid}): {type(exc).__name__}: {exc}")
        else:
            print(f"ESCAPED killed {name} (host pid {pid})")
    return


def predict(model, x):
    return [0.0] * len(x)
