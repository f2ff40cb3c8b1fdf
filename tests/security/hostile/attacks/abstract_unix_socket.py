# Attack: connect to an abstract unix socket (no file, so file-tree isolation alone would not stop
# it) that the test listens on from the host; abstract names belong to a network namespace.
# Expected: the run succeeds, the connect fails (the sandbox's own network namespace has no such
# name), and the test's server sees no connection.
# expect-state: succeeded
# expect-log: CONTAINED
import socket

HOST = {}  # the test fills in the host's paths, ports and pids


def train(data, run):
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(3)
            conn.connect("\0" + HOST["abstract_socket"])
            greeting = conn.recv(64)
    except Exception as exc:
        print(f"CONTAINED abstract unix socket of the test: {type(exc).__name__}: {exc}")
    else:
        print(f"ESCAPED abstract unix socket of the test answered {greeting!r}")


def predict(model, x):
    return [0.0] * len(x)
