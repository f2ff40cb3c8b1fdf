# Attack: connect to the embedded broker's unix socket (var/broker/redis.sock under the repo, and
# the socket of this test session's broker under VAR_DIR) and send PING; with it, a learner could
# queue tasks or read other runs' messages.
# Expected: the run succeeds; neither socket is in the sandbox's file tree.
# expect-state: succeeded
# expect-log: CONTAINED
import socket

HOST = {}  # the test fills in the host's paths, ports and pids


def ping(path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(3)
        conn.connect(path)
        conn.sendall(b"PING\r\n")
        return conn.recv(64)


def train(data, run):
    for path in HOST["broker_sockets"]:
        try:
            got = ping(path)
        except Exception as exc:
            print(f"CONTAINED unix {path}: {type(exc).__name__}: {exc}")
        else:
            print(f"ESCAPED unix {path}: {got!r}")


def predict(model, x):
    return [0.0] * len(x)
