# Attack: connect to a unix socket the test itself listens on, in a folder on the host.
# Expected: the run succeeds, the connect fails (the host's folders are not in the sandbox), and
# the test's server sees no connection.
# expect-state: succeeded
# expect-log: CONTAINED
import socket

HOST = {}  # the test fills in the host's paths, ports and pids


def train(data, run):
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(3)
            conn.connect(HOST["unix_socket"])
            greeting = conn.recv(64)
    except Exception as exc:
        print(f"CONTAINED unix socket of the test: {type(exc).__name__}: {exc}")
    else:
        print(f"ESCAPED unix socket of the test answered {greeting!r}")


def predict(model, x):
    return [0.0] * len(x)
