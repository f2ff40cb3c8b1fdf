# Attack: ptrace (via ctypes) the lab worker, the site worker and the test runner by their host
# pids, to read or change their memory; and, from a child, the harness (pid 1) itself.
# Expected: the run succeeds; the host pids do not exist in the sandbox's pid namespace (ESRCH).
# Attaching to the harness is the learner's own process and grants nothing new: only reported.
# expect-state: succeeded
# expect-log: CONTAINED
import ctypes
import os

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


PTRACE_ATTACH, PTRACE_DETACH, WALL = 16, 17, 0x40000000
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]


def attach(pid):
    if libc.ptrace(PTRACE_ATTACH, pid, None, None) == 0:
        os.waitpid(pid, WALL)  # the tracee stops; only then can it be let go
        libc.ptrace(PTRACE_DETACH, pid, None, None)
        return None
    return os.strerror(ctypes.get_errno())


def train(data, run):
    visible = set(visible_pids())
    for name, pid in HOST["pids"].items():
        if pid in visible:
            print(f"pid {pid} ({name} on the host) is a different process in here; skipped")
            continue
        error = attach(pid)
        print(f"CONTAINED ptrace {name} (host pid {pid}): {error}" if error else f"ESCAPED ptrace {name} ({pid})")
    if os.getpid() != 1:
        print(f"ESCAPED not in a pid namespace of its own (pid {os.getpid()}); not touching pid 1")
        return
    child = os.fork()
    if child == 0:
        error = attach(1)
        print(f"ptrace of the harness (pid 1) from a child: {error or 'attached (own process)'}", flush=True)
        os._exit(0)
    os.waitpid(child, 0)


def predict(model, x):
    return [0.0] * len(x)
