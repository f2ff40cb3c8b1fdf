# Attack: connect to PostgreSQL's unix socket (/var/run/postgresql/.s.PGSQL.5432 and the same
# under /run), which needs no password for local users on many installs.
# Expected: the run succeeds; the socket is not even in the sandbox's file tree.
# expect-state: succeeded
# expect-log: CONTAINED
import socket

PATHS = ("/var/run/postgresql/.s.PGSQL.5432", "/run/postgresql/.s.PGSQL.5432")


def connect(path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(3)
        conn.connect(path)
        return "connected"


def train(data, run):
    for path in PATHS:
        try:
            got = connect(path)
        except Exception as exc:
            print(f"CONTAINED unix {path}: {type(exc).__name__}: {exc}")
        else:
            print(f"ESCAPED unix {path}: {got}")


def predict(model, x):
    return [0.0] * len(x)
