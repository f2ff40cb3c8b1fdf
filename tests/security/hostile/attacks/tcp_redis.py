# Attack: talk to the Redis broker over TCP on the host's loopback (127.0.0.1:6379 and [::1]:6379)
# and send it a PING.
# Expected: the run succeeds and every connect fails: the sandbox has its own network namespace,
# whose loopback has nothing listening.
# expect-state: succeeded
# expect-log: CONTAINED
import socket


def attempt(label, action):
    try:
        got = action()
    except Exception as exc:
        print(f"CONTAINED {label}: {type(exc).__name__}: {exc}"[:300])
    else:
        print(f"ESCAPED {label}: {got!r}"[:300])


def ping(family, host):
    with socket.socket(family, socket.SOCK_STREAM) as conn:
        conn.settimeout(3)
        conn.connect((host, 6379))
        conn.sendall(b"PING\r\n")
        return conn.recv(64)


def train(data, run):
    attempt("redis tcp 127.0.0.1:6379", lambda: ping(socket.AF_INET, "127.0.0.1"))
    attempt("redis tcp [::1]:6379", lambda: ping(socket.AF_INET6, "::1"))


def predict(model, x):
    return [0.0] * len(x)
