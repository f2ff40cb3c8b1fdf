# Attack: resolve names from inside the sandbox: the system resolver (getaddrinfo of a public
# name), and a raw DNS query to a UDP server the test runs on the host's loopback.
# Expected: the run succeeds; the resolver fails (no resolv.conf, no network) and the raw query
# gets no answer. Only "localhost" resolves, from the sandbox's own /etc/hosts.
# expect-state: succeeded
# expect-log: CONTAINED
import socket
import struct

HOST = {}  # the test fills in the host's paths, ports and pids


def raw_query():
    question = b"".join(bytes([len(part)]) + part for part in (b"pypi", b"org")) + b"\x00"
    packet = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + question + struct.pack("!HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(3)
        sock.sendto(packet, ("127.0.0.1", HOST["udp_port"]))
        return sock.recvfrom(512)


def train(data, run):
    print("localhost resolves to", socket.gethostbyname("localhost"))
    attempts = (
        ("getaddrinfo pypi.org", lambda: socket.getaddrinfo("pypi.org", 443)),
        ("raw dns query to the host", raw_query),
    )
    for label, action in attempts:
        try:
            got = action()
        except Exception as exc:
            print(f"CONTAINED {label}: {type(exc).__name__}: {exc}")
        else:
            print(f"ESCAPED {label}: {got!r}"[:300])


def predict(model, x):
    return [0.0] * len(x)
