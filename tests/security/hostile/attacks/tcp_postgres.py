# Attack: open a TCP connection to PostgreSQL on the host's loopback (127.0.0.1:5432) and ask for
# a session (SSLRequest, then a startup message for user postgres).
# Expected: the run succeeds and the connect fails: no route out of the sandbox's network namespace.
# expect-state: succeeded
# expect-log: CONTAINED
import socket
import struct


def attempt(label, action):
    try:
        got = action()
    except Exception as exc:
        print(f"CONTAINED {label}: {type(exc).__name__}: {exc}"[:300])
    else:
        print(f"ESCAPED {label}: {got!r}"[:300])


def startup():
    with socket.create_connection(("127.0.0.1", 5432), timeout=3) as conn:
        conn.sendall(struct.pack("!ii", 8, 80877103))  # SSLRequest
        answer = conn.recv(1)
        body = struct.pack("!i", 196608) + b"user\x00postgres\x00database\x00postgres\x00\x00"
        conn.sendall(struct.pack("!i", len(body) + 4) + body)
        return answer + conn.recv(64)


def train(data, run):
    attempt("postgres tcp 127.0.0.1:5432", startup)


def predict(model, x):
    return [0.0] * len(x)
