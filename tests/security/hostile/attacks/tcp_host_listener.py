# Attack: connect to a TCP server the test itself runs on the host's loopback (the port is filled
# in below) and read its greeting. Unlike Redis or PostgreSQL, this server is certainly up.
# Expected: the run succeeds, the connect fails, and the test's server sees no connection.
# expect-state: succeeded
# expect-log: CONTAINED
import socket

HOST = {}  # the test fills in the host's paths, ports and pids


def train(data, run):
    try:
        with socket.create_connection(("127.0.0.1", HOST["tcp_port"]), timeout=3) as conn:
            conn.sendall(b"hello from the sandbox\n")
            greeting = conn.recv(64)
    except Exception as exc:
        print(f"CONTAINED tcp to the test's server: {type(exc).__name__}: {exc}")
    else:
        print(f"ESCAPED tcp to the test's server answered {greeting!r}")


def predict(model, x):
    return [0.0] * len(x)
