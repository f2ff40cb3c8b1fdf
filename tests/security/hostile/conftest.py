"""Fixtures for hostile submissions: a lab worker on a worker slot of its own, a small lab with
tight limits, servers on the host that no sandbox may reach, and the host-side checks.

The lab worker here runs with ``LAB_WORKER_SLOT`` = ``HOSTILE_SLOT``: its sandboxes get the
uids ``61000 + 16 * HOSTILE_SLOT + k``, so every process of those uids is one of ours and
anything left behind is found by uid.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings

from config import embedded_broker
from labs.datasets import dataset_publish
from labs.demo import DEMO_LAB_SLUGS, build_dataset
from labs.models import Lab
from tests.conftest import REPO, test_database_url
from workers import sandbox

HOSTILE_SLOT = 12
WARM_POOL = 2  # two warm sandboxes warm in parallel on 2 cores: every attack and normal run takes one
N_TEST = 64
HOSTILE_LIMITS = {"wall_seconds": 8, "memory_mb": 768, "processes": 32, "output_bytes": 256 * 1024, "disk_mb": 32}


def strong_sandbox_unavailable() -> str | None:
    """Why these tests cannot run here (None: they can). Fails where bwrap is demanded but broken."""
    wanted = os.environ.get("LAB_SANDBOX", "").strip().lower()
    if wanted == "dev":
        return "LAB_SANDBOX=dev runs learner code without isolation; hostile code needs the bwrap sandbox"
    reason = sandbox.BwrapBackend().unavailable_reason()
    if reason is not None and wanted == "bwrap":
        pytest.fail(f"LAB_SANDBOX=bwrap, but the bwrap sandbox cannot run here: {reason}")
    return reason


@dataclass
class HostSide:
    """What the attacks are told about the host (``HOST`` in their code) and what the test watches."""

    token: str
    canary: str
    jobs_dir: Path
    cache_dir: Path
    marker_dir: Path
    listener_dir: Path
    dataset_dir: Path
    y_test: np.ndarray
    tcp_port: int = 0
    udp_port: int = 0
    unix_socket: str = ""
    abstract_socket: str = ""
    contacts: list[str] = field(default_factory=list)  # every connection or datagram a listener got
    pids: dict[str, int] = field(default_factory=dict)

    def for_attack(self, *, dataset_file: str) -> dict:
        broker_sockets = [str(REPO / "var" / "broker" / "redis.sock")]
        broker_sockets.append(str(embedded_broker.socket_path(embedded_broker.url_for(settings.EMBEDDED_BROKER_DIR))))
        if settings.CELERY_BROKER_URL.startswith("redis+socket://"):
            broker_sockets.append(str(embedded_broker.socket_path(settings.CELERY_BROKER_URL)))
        database = settings.DATABASES["default"]
        return {
            "token": self.token,
            "canary": self.canary,
            "repo": str(REPO),
            "jobs_dir": str(self.jobs_dir),
            "cache_dir": str(self.cache_dir),
            "dataset_dir": str(self.dataset_dir),
            "dataset_file": dataset_file,
            "marker_dir": str(self.marker_dir),
            "perfect_predictions": str(self.marker_dir / "perfect_predictions.npy"),
            "broker_sockets": sorted(set(broker_sockets)),
            "sqlite_db": str(database["NAME"]) if database["ENGINE"].endswith("sqlite3") else "",
            "tcp_port": self.tcp_port,
            "udp_port": self.udp_port,
            "unix_socket": self.unix_socket,
            "abstract_socket": self.abstract_socket,
            "pids": self.pids,
            "lab_rows": demo_lab_rows(),
        }

    def secrets(self) -> list[str]:
        """Strings that must never appear in a run's log, curve, reason or predictions."""
        values = [self.canary, settings.SECRET_KEY, test_database_url(), settings.CELERY_BROKER_URL]
        return [value for value in values if value]

    def marker_files(self) -> dict[str, bytes]:
        return {path.name: path.read_bytes() for path in sorted(self.marker_dir.iterdir())}


@pytest.fixture(scope="module")
def host_side(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostSide]:
    """Folders for the module's lab worker, the worker's environment, and the host's canaries."""
    reason = strong_sandbox_unavailable()
    if reason is not None:
        pytest.skip(f"the strong sandbox is unavailable here: {reason}")
    base = tmp_path_factory.mktemp("hostile")
    dirs = {name: base / name for name in ("jobs", "cache", "markers", "listeners", "datasets")}
    for path in dirs.values():
        path.mkdir()
    rng = np.random.default_rng(2024)
    host = HostSide(
        token=secrets.token_hex(6),
        canary=f"canary-{secrets.token_hex(12)}",
        jobs_dir=dirs["jobs"],
        cache_dir=dirs["cache"],
        marker_dir=dirs["markers"],
        listener_dir=dirs["listeners"],
        dataset_dir=dirs["datasets"],
        y_test=rng.integers(0, 3, N_TEST),
    )
    (host.marker_dir / "canary.txt").write_text(host.canary)
    np.save(host.marker_dir / "perfect_predictions.npy", host.y_test.astype(np.float64))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAB_WORKER_SLOT", str(HOSTILE_SLOT))
        patch.setenv("LAB_WARM_POOL", str(WARM_POOL))
        patch.setenv("LAB_JOBS_DIR", str(host.jobs_dir))
        patch.setenv("LAB_CACHE_DIR", str(host.cache_dir))
        # Secrets of the worker's own environment: no sandbox may see them.
        patch.setenv("LAB_HOSTILE_CANARY", host.canary)
        patch.setenv("AWS_SECRET_ACCESS_KEY", host.canary)
        with _listeners(host):
            yield host


@pytest.fixture(scope="module")
def lab_worker(host_side: HostSide, lab_worker: object, site_worker: object) -> object:
    """The shared ``lab_worker``, started only after ``host_side`` set the slot and folders."""
    host_side.pids.update({"lab worker": lab_worker.pid, "site worker": site_worker.pid, "test runner": os.getpid()})
    return lab_worker


@pytest.fixture
def hostile_lab(db: None, host_side: HostSide, settings: object) -> Lab:
    """A small classification lab with tight limits and N_TEST hidden labels (host_side.y_test)."""
    settings.DATASET_STORAGE_DIR = host_side.dataset_dir
    lab = Lab.objects.create(
        slug="hostile",
        title_en="Hostile lab",
        title_zh="攻击实验",
        description_en="Attacks.",
        metric="accuracy",
        threshold=0.5,
        submissions_per_day=100,
        params={"epochs": {"type": "int", "default": 5, "min": 1, "max": 50}},
        **HOSTILE_LIMITS,
    )
    rng = np.random.default_rng(7)
    dataset_publish(
        lab=lab,
        x_train=rng.normal(size=(96, 2)).astype(np.float32),
        y_train=rng.integers(0, 3, 96),
        x_test=rng.normal(size=(N_TEST, 2)).astype(np.float32),
        y_test=host_side.y_test,
        num_classes=3,
    )
    Lab.objects.filter(pk=lab.pk).update(published=True)  # a draft until it has its dataset
    lab.refresh_from_db()
    return lab


def demo_lab_rows(rows: int = 5) -> dict[str, list]:
    """The first hidden test rows of every demo lab with numeric features, for attacks that look for
    them (in any numeric encoding) on the files a sandbox can read."""
    tests = {slug: build_dataset(slug).x_test for slug in DEMO_LAB_SLUGS}
    return {slug: x[:rows].reshape(rows, -1).tolist() for slug, x in tests.items() if x.dtype.kind not in "US"}


# --- servers on the host that a sandbox must never reach ------------------------------------


class _Recorder(socketserver.BaseRequestHandler):
    contacts: list[str]

    def handle(self) -> None:
        if isinstance(self.request, tuple):  # UDP: (data, socket)
            data, sock = self.request
            self.contacts.append(f"udp datagram {data[:40]!r}")
            sock.sendto(b"pong", self.client_address)
        else:
            self.contacts.append(f"stream connection on {self.server.server_address!r}")
            self.request.sendall(b"pong\n")


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class _TCPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True


class _UDPServer(socketserver.ThreadingMixIn, socketserver.UDPServer):
    daemon_threads = True


@contextlib.contextmanager
def _listeners(host: HostSide) -> Iterator[None]:
    handler = type("Handler", (_Recorder,), {"contacts": host.contacts})
    host.unix_socket = str(host.listener_dir / "listener.sock")
    host.abstract_socket = f"hostile-{host.token}"
    servers = [
        _TCPServer(("127.0.0.1", 0), handler),
        _UDPServer(("127.0.0.1", 0), handler),
        _UnixServer(host.unix_socket, handler),
        _UnixServer("\0" + host.abstract_socket, handler),
    ]
    host.tcp_port, host.udp_port = servers[0].server_address[1], servers[1].server_address[1]
    threads = [threading.Thread(target=server.serve_forever, daemon=True) for server in servers]
    for thread in threads:
        thread.start()
    _check_listeners_answer(host)
    try:
        yield
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def _check_listeners_answer(host: HostSide) -> None:
    """The servers work from the host itself: so a sandbox that reaches none of them is isolated."""
    with socket.create_connection(("127.0.0.1", host.tcp_port), timeout=5) as conn:
        assert conn.recv(8) == b"pong\n"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        sock.sendto(b"ping", ("127.0.0.1", host.udp_port))
        assert sock.recvfrom(8)[0] == b"pong"
    for address in (host.unix_socket, "\0" + host.abstract_socket):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(5)
            conn.connect(address)
            assert conn.recv(8) == b"pong\n"
    host.contacts.clear()


# --- processes of the hostile slot's sandboxes ------------------------------------------------


def sandbox_uids() -> range:
    base = int(os.environ.get("LAB_SANDBOX_UID_BASE", "61000")) + sandbox.UIDS_PER_SLOT * HOSTILE_SLOT
    return range(base, base + sandbox.UIDS_PER_SLOT)


@dataclass(frozen=True)
class SandboxProcess:
    pid: int
    uid: int
    parent: int
    cgroup: str | None
    stdin: str
    cmdline: str


def _run_cgroup_of(pid: int) -> str | None:
    """The name of the labrunner cgroup a process is in (pids controller, or v2), if any."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controllers in ("pids", "") and "/labrunner/" in path:
            return path.rsplit("/", 1)[-1]
    return None


def sandbox_processes() -> list[SandboxProcess]:
    """Live (not zombie) processes of the hostile slot's sandbox uids."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            uid = entry.stat().st_uid
            if uid not in sandbox_uids():
                continue
            state, parent = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[:2]
            if state == "Z":
                continue
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            stdin = os.readlink(f"/proc/{pid}/fd/0")
            found.append(SandboxProcess(pid, uid, int(parent), _run_cgroup_of(pid), stdin, cmdline[:90]))
        except (FileNotFoundError, ProcessLookupError):
            continue  # ended while we looked
    return found


def worker_processes(worker_pid: int) -> set[int]:
    """A worker process and its children (Celery's pool process owns the sandboxes)."""
    pids = {worker_pid}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                if int(Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()[1]) == worker_pid:
                    pids.add(int(entry.name))
    return pids


def left_behind(worker_pid: int, *, settle_seconds: float = 5.0) -> list[str]:
    """``_left_behind_now``, asked again for up to ``settle_seconds`` while it finds something: a
    process that is still exiting when the run's result arrives (no cgroup left, an empty command
    line) is gone a moment later; one that was truly left behind stays, and is reported."""
    deadline = time.monotonic() + settle_seconds
    while (problems := _left_behind_now(worker_pid)) and time.monotonic() < deadline:
        time.sleep(0.25)
    return problems


def _left_behind_now(worker_pid: int) -> list[str]:
    """Sandbox processes of this worker that are not idle warm members, while it runs no job.

    A sandbox's cgroup is named after the slot and the worker process that owns it; processes
    in cgroups of other worker processes (another test session on the same slot) are not ours.
    An idle warm member (bwrap and the harness waiting for its job) still reads the
    supervisor's pipe on stdin; a harness that took a job reads /dev/null from then on, and so
    does anything it forked. The pool holds at most WARM_POOL sandboxes, one cgroup each.
    """
    owners = worker_processes(worker_pid)
    processes, problems = [], []
    for process in sandbox_processes():
        match = re.match(rf"slot{HOSTILE_SLOT}-n\d+-p(\d+)-", process.cgroup or "")
        if match is None:
            problems.append(f"outside the slot's run cgroups: {process}")
        elif int(match.group(1)) in owners:
            processes.append(process)
    problems += [f"took a job (stdin is not a pipe): {p}" for p in processes if not p.stdin.startswith("pipe:")]
    sandboxes = {p.cgroup for p in processes}
    if len(sandboxes) > WARM_POOL:
        problems.append(f"{len(sandboxes)} live sandboxes for a pool of {WARM_POOL}: {processes}")
    return problems
