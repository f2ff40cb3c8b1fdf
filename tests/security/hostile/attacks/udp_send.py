# Attack: send UDP datagrams out of the sandbox: to a UDP echo server the test runs on the host's
# loopback (waiting for its answer), and to a public resolver (8.8.8.8:53).
# Expected: the run succeeds; no answer comes back and the test's server receives nothing; the
# public address is unreachable (no network interface but the sandbox's own loopback).
# expect-state: succeeded
# expect-log: CONTAINED
import socket

HOST = {}  # the test fills in the host's paths, ports and pids


def echo():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(3)
        sock.sendto(b"ping from the sandbox", ("127.0.0.1", HOST["udp_port"]))
        return sock.recvfrom(64)


def public():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        return sock.sendto(b"\x00" * 12, ("8.8.8.8", 53))


def train(data, run):
    for label, action in (("udp echo on the host", echo), ("udp to 8.8.8.8:53", public)):
        try:
            got = action()
        except Exception as exc:
            print(f"CONTAINED {label}: {type(exc).__name__}: {exc}")
        else:
            print(f"ESCAPED {label}: {got!r}")


def predict(model, x):
    return [0.0] * len(x)
