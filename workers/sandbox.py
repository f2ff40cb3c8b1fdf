"""Where learner code runs: a bubblewrap sandbox (strong) or a plain subprocess (development).

Strong backend, ``bwrap`` (chosen when the worker is root, bubblewrap works and cgroups are
writable). Per run:

- an unprivileged uid of its own: ``LAB_SANDBOX_UID_BASE`` (61000) + 16 * ``LAB_WORKER_SLOT``
  + k, held with a host-wide ``flock`` in ``LAB_LOCK_DIR`` (``/run/labrunner``) while the
  sandbox lives. A slot needs several (the running job and its warm replacement); no two live
  sandboxes ever share one, so RLIMIT_NPROC counts and file ownership never mix;
- its own cgroup (``workers.cgroups``): memory limit (OOM kill -> ``limit: memory``), pids.max
  (fork bombs -> ``limit: processes``), and a kill switch for everything left behind;
- RLIMIT_NPROC (works because the uid is not root), RLIMIT_FSIZE (disk), no core dumps;
- ``bwrap --unshare-all``: new user, pid, net, ipc, uts and cgroup namespaces. The network
  namespace has only a loopback with nothing listening: no TCP/UDP/DNS, and the host's unix
  sockets are not even in the file tree;
- a file tree built from nothing: read-only ``/usr`` (+ the ``/bin``, ``/lib*`` links), a few
  generated or read-only ``/etc`` files (``passwd``/``group`` name only the sandbox user; no
  ``shadow``), the Python install and the virtualenv read-only at their own paths, this
  package read-only at ``/opt/labrunner/workers``, the job folder read-write at ``/job``,
  size-limited tmpfs ``/tmp`` and ``/dev/shm``, a fresh ``/proc``, a minimal ``/dev``; the root
  itself is read-only (nothing can be created in ``/`` or ``/opt``).
  Nothing else: no ``/work``, ``/var``, ``/run``, ``/home``, ``/root``, dataset cache, other
  runs or site settings;
- ``--clearenv``: only HOME, PATH, locale, TMPDIR and thread counts are set;
- ``--die-with-parent``, ``--new-session``, ``--as-pid-1`` (the harness is the namespace's init:
  when it exits, everything else in there dies); ``--disable-userns`` (no nested namespaces);
- a warm member (``workers.warm``) waits at nice 10 so that warming it never slows the job
  running next to it; its priority is restored when it takes a job (needs CAP_SYS_NICE; without
  it members are simply not niced).

Development backend, ``dev-fallback (no isolation)``: for laptops without bwrap or root. The
harness runs as a plain subprocess in its own session with RLIMIT_AS (memory, MemoryError),
RLIMIT_NPROC and RLIMIT_FSIZE. It does NOT isolate network or files: the site shows a warning.

``LAB_SANDBOX=bwrap|dev`` forces a backend; a forced ``bwrap`` that cannot work raises
``SandboxUnavailable`` instead of quietly running learner code unconfined.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from workers import cgroups, gpus, jobdirs, runtime
from workers.jobspec import Limits
from workers.sandbox_launcher import EXIT_LAUNCH_FAILED, blocking_ancestor

logger = logging.getLogger(__name__)

WORKERS_DIR = Path(__file__).resolve().parent
REPO_ROOT = WORKERS_DIR.parent
LAUNCHER = WORKERS_DIR / "sandbox_launcher.py"
HARNESS = WORKERS_DIR / "harness.py"
HARNESS_INSIDE = "/opt/labrunner/harness.py"  # the one file of the platform's code the sandbox sees
BWRAP_NAME = "bwrap"
DEV_NAME = "dev-fallback (no isolation)"
UIDS_PER_SLOT = 16
# Tasks of the sandbox itself in its cgroup: the outer bwrap (the harness is pid 1 inside).
SANDBOX_OVERHEAD_TASKS = 1
SHM_MB = 256
BACKGROUND_NICE = 10
# RLIMIT_AS counts address space, not memory: torch alone maps ~0.9 GB it never touches.
DEV_ADDRESS_SPACE_OVERHEAD_MB = 2048
ETC_READ_ONLY = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/alternatives")


class SandboxUnavailable(RuntimeError):
    """The requested sandbox backend cannot run on this machine."""


def jobs_dir() -> Path:
    """Where run folders live: ``$LAB_JOBS_DIR``, default ``<repo>/var/jobs``."""
    return Path(os.environ.get("LAB_JOBS_DIR") or REPO_ROOT / "var" / "jobs")


def worker_slot() -> int:
    return int(os.environ.get("LAB_WORKER_SLOT", "0"))


CGROUP_CPU_MAX = "/sys/fs/cgroup/cpu.max"


def cpu_count() -> int:
    """CPUs this process may use: its affinity, capped by a cgroup v2 CPU quota (a container's limit) and
    by ``LAB_CPU_LIMIT_MILLICORES`` (the pod's CPU limit, from Kubernetes' downward API), never the
    node's cores."""
    cpus = len(os.sched_getaffinity(0))
    limit = os.environ.get("LAB_CPU_LIMIT_MILLICORES")
    if limit and limit.isdigit() and int(limit) > 0:
        cpus = max(1, min(cpus, int(limit) // 1000))
    try:
        quota, period = Path(CGROUP_CPU_MAX).read_text().split()
    except (OSError, ValueError):
        return cpus
    return cpus if quota == "max" else max(1, min(cpus, int(quota) // int(period)))


def gpu_count() -> int:
    """GPUs this worker's runs may be given (``workers.gpus.discover``: NVML or the device nodes)."""
    return len(gpus.discover())


def runs_per_gpu() -> int:
    return gpus.runs_per_gpu()


def lab_slots() -> int:
    """How many runs one lab worker takes at once (its Celery concurrency, unless ``-c`` is given).

    ``LAB_WORKER_CONCURRENCY`` if set; on a GPU node, GPUs × ``LAB_RUNS_PER_GPU`` (each run gets
    its share of one GPU's memory); otherwise one per core, each run's torch on one thread: on 2
    cores, 8 short runs finished in about half the time with 2 slots as with 1 (bench.throughput),
    because a run's warm replacement imports torch on a core of its own.
    """
    configured = os.environ.get("LAB_WORKER_CONCURRENCY")
    if configured:
        return max(1, int(configured))
    gpus = gpu_count()
    return gpus * runs_per_gpu() if gpus else cpu_count()


def gpu_of_slot(index: int) -> tuple[gpus.Gpu, float] | None:
    """(GPU, memory fraction) for the lab worker's pool process ``index``: slots go round the GPUs, so
    the runs on one GPU are ``LAB_RUNS_PER_GPU`` at most, each with its share of what the contexts
    leave (``workers.gpus.memory_fraction``). None on a node without a GPU."""
    gpu = gpus.assign_slot(index, gpus.discover())
    return None if gpu is None else (gpu, gpus.memory_fraction(gpu, runs_per_gpu()))


def cpu_threads() -> int:
    """Torch/OpenMP threads per job: half of each slot's share of the CPUs, at least one.

    The other half is left for the replacement warm sandbox, which imports torch while the
    job trains, and for the site's processes. OpenMP threads degrade badly when preempted:
    on 2 cores, digits-mlp took 5.7 s with 2 threads and 1.5 s with 1 (bench.lab_overhead).
    """
    configured = os.environ.get("LAB_CPU_THREADS")
    if configured:
        return int(configured)
    slots = int(os.environ.get("LAB_WORKER_SLOTS", "1"))
    return max(1, cpu_count() // (2 * max(1, slots)))


def harness_command(site_packages: str | None) -> list[str]:
    """The interpreter and the flags the harness runs with.

    With the lab runtime (``workers.runtime``): the base interpreter, its packages added by the
    harness itself (``-I`` ignores PYTHONPATH). Without it (the development sandbox on a machine
    where it was not built): the worker's own interpreter, with a warning in the worker's log.
    """
    if site_packages is None:
        return [sys.executable, "-I", "-B", "-u"]
    return [runtime.base_python(), "-I", "-B", "-u"]


@dataclass(frozen=True)
class SandboxExit:
    """What the sandbox tells about how the run ended (facts, not learner-written text)."""

    exit_code: int | None  # the harness's exit status; 128+N when killed by signal N
    oom_kills: int
    pids_limit_hits: int
    memory_limit_hits: int = 0  # the run's own memory limit was reached (an OOM kill without it: the node's)


class Sandbox:
    """One started sandbox process: pipes, limits, and teardown."""

    backend_name = ""
    init_protected = False  # see workers.runner.decide

    def __init__(
        self, popen: subprocess.Popen, events_fd: int, job_dir: Path, job_dir_inside: str, rlimits: dict[str, int]
    ) -> None:
        self.popen = popen
        self.rlimits = rlimits  # sent with "go": the harness lowers its own limits to these
        self.stdout_fd = popen.stdout.fileno() if popen.stdout else -1
        self.events_fd = events_fd
        self.job_dir = job_dir
        self.job_dir_inside = job_dir_inside
        self.started_monotonic = time.monotonic()
        self._finished: SandboxExit | None = None
        self._lock = threading.Lock()

    # -- the job protocol -------------------------------------------------------------------
    def send_go(self, deadline_monotonic: float, task: str = "train") -> None:
        """Start the job: the harness reads one line, then never reads stdin again. ``task``: "train"
        (a learner's run), "score" (a custom metric's score.py) or "exercise" (a lesson's code cell;
        ``workers.author_jobs``)."""
        stdin: IO[bytes] | None = self.popen.stdin
        if stdin is None:
            return
        with contextlib.suppress(BrokenPipeError, OSError):
            go = {"deadline": deadline_monotonic, "job": self.job_dir_inside, "rlimits": self.rlimits, "task": task}
            stdin.write((json.dumps(go) + "\n").encode())
            stdin.flush()
        with contextlib.suppress(BrokenPipeError, OSError):
            stdin.close()

    def apply_limits(self, limits: Limits) -> None:
        """Narrow the limits of a warm sandbox to those of the job it takes.

        Resource limits travel with "go" and the harness lowers its own (lowering needs no
        privilege; ``prlimit`` on another uid's process needs CAP_SYS_RESOURCE, which
        container runtimes usually drop). The limits of the sandbox as a whole (cgroup) are
        set here, from outside.
        """
        self.rlimits = self.backend_rlimits(limits)

    def backend_rlimits(self, limits: Limits) -> dict[str, int]:
        raise NotImplementedError

    # -- process state ----------------------------------------------------------------------
    def poll(self) -> int | None:
        return self.popen.poll()

    def kill(self) -> None:
        """Kill every process of the sandbox now."""
        raise NotImplementedError

    def finish(self) -> SandboxExit:
        """Kill what is left, reap, collect the facts, release resources. Idempotent."""
        with self._lock:
            if self._finished is None:
                self.kill()
                try:
                    self.popen.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.popen.kill()
                    self.popen.wait()
                self._finished = self._collect(self.popen.returncode)
                self._close_pipes()
            return self._finished

    def _collect(self, returncode: int) -> SandboxExit:
        raise NotImplementedError

    def _close_pipes(self) -> None:
        for stream in (self.popen.stdin, self.popen.stdout):
            with contextlib.suppress(OSError, ValueError):
                if stream is not None:
                    stream.close()
        with contextlib.suppress(OSError):
            os.close(self.events_fd)

    def rename_job_dir(self, new_path: Path) -> None:
        """A warm sandbox's folder gets the job's name.

        Inside bwrap the bind mount follows the folder; the development backend's harness
        learns the new path from the "go" line.
        """
        jobdirs.rename(self.job_dir, new_path)
        if self.job_dir_inside == str(self.job_dir):
            self.job_dir_inside = str(new_path)
        self.job_dir = new_path


def _exit_status(returncode: int) -> int:
    # Popen reports a signal death as -N; bwrap itself reports its child's as 128+N.
    return 128 - returncode if returncode < 0 else returncode


def _spawn(
    argv: list[str], config: dict, *, pass_fds: tuple[int, ...], cwd: str, new_session: bool
) -> subprocess.Popen:
    command = [sys.executable, "-I", "-S", "-B", str(LAUNCHER), json.dumps({**config, "argv": argv})]
    return subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        pass_fds=pass_fds,
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
        start_new_session=new_session,
    )


def _sandbox_env(device: str) -> dict[str, str]:
    threads = str(cpu_threads())
    env = {
        "HOME": "/job",
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TMPDIR": "/tmp",  # noqa: S108 - the sandbox's own private tmpfs
        "USER": "lab",
        "LOGNAME": "lab",
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
    }
    if device != "cuda":
        return env
    gpu = run_gpu()
    if gpu is not None:  # its only GPU (the only node bound in): by UUID where NVML told it
        env["CUDA_VISIBLE_DEVICES"] = gpu.visible
    if os.environ.get("LAB_GPU_MEMORY_FRACTION"):
        env["LAB_GPU_MEMORY_FRACTION"] = os.environ["LAB_GPU_MEMORY_FRACTION"]
    libraries = gpus.driver_library_dirs()
    if libraries:  # --clearenv dropped the platform's LD_LIBRARY_PATH: the driver is found here instead
        env["LD_LIBRARY_PATH"] = ":".join(libraries)
    return env


def run_gpu() -> gpus.Gpu | None:
    """The GPU a CUDA run of this pool process gets: the slot's, else the node's first."""
    slot = gpus.slot_gpu()
    if slot is not None:
        return slot
    found = gpus.discover()
    return found[0] if found else None


class SandboxBackend:
    name = ""

    def start(self, *, job_dir: Path, limits: Limits, device: str, label: str, background: bool = False) -> Sandbox:
        """Start the harness in a new sandbox for ``job_dir``.

        ``background``: a warm member started ahead of its job runs at a lower CPU priority
        until its "go", so that warming it does not slow down the job running next to it.
        """
        raise NotImplementedError


# ------------------------------------------------------------------------------------------
# bubblewrap
# ------------------------------------------------------------------------------------------
def _lock_dir() -> Path:
    """Host-wide lock files (uids in use); the same for every worker process on the host."""
    configured = os.environ.get("LAB_LOCK_DIR")
    return Path(configured) if configured else Path("/run/labrunner")


class _UidPool:
    """Unprivileged uids for this worker slot; one per live sandbox.

    A uid is taken with an exclusive ``flock`` on ``<lock dir>/uid-<n>.lock``, held while its
    sandbox lives: two worker processes given the same slot by mistake still never share a
    uid, and a crashed worker's locks vanish with it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[int, int] = {}  # uid -> fd of its lock file

    def acquire(self) -> int:
        base = int(os.environ.get("LAB_SANDBOX_UID_BASE", "61000")) + UIDS_PER_SLOT * worker_slot()
        lock_dir = _lock_dir()
        lock_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        with self._lock:
            for uid in range(base, base + UIDS_PER_SLOT):
                if uid in self._held:
                    continue
                fd = os.open(lock_dir / f"uid-{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue
                self._held[uid] = fd
                return uid
        raise SandboxUnavailable(f"all {UIDS_PER_SLOT} sandbox uids of worker slot {worker_slot()} are in use")

    def release(self, uid: int) -> None:
        with self._lock:
            fd = self._held.pop(uid, None)
        if fd is not None:
            os.close(fd)  # closing drops the flock


_UIDS = _UidPool()


class BwrapSandbox(Sandbox):
    backend_name = BWRAP_NAME
    init_protected = True  # the harness is pid 1 of its namespace (--as-pid-1)

    def __init__(
        self,
        popen: subprocess.Popen,
        events_fd: int,
        job_dir: Path,
        cgroup: cgroups.JobCgroup,
        uid: int,
        limits: Limits,
    ):
        super().__init__(popen, events_fd, job_dir, "/job", _bwrap_rlimits(limits))
        self.cgroup = cgroup
        self.uid = uid

    def apply_limits(self, limits: Limits) -> None:
        # Raises OSError (EBUSY) if the warm process already uses more than the new limit.
        self.cgroup.set_limits(memory_bytes=limits.memory_mb * 1024 * 1024, pids_max=_pids_max(limits))
        super().apply_limits(limits)
        self._restore_priority()

    def _restore_priority(self) -> None:
        """A warm member waited at BACKGROUND_NICE; its job runs at normal priority (every thread)."""
        for pid in self.cgroup.pids():
            with contextlib.suppress(OSError):
                for tid in os.listdir(f"/proc/{pid}/task"):
                    with contextlib.suppress(OSError):
                        if os.getpriority(os.PRIO_PROCESS, int(tid)) > 0:
                            os.setpriority(os.PRIO_PROCESS, int(tid), 0)

    def backend_rlimits(self, limits: Limits) -> dict[str, int]:
        return _bwrap_rlimits(limits)

    def kill(self) -> None:
        # Inside first: when the namespace's pid 1 (the harness) dies the kernel kills the rest
        # of the namespace, and the outer bwrap reaps it and exits on its own.
        self.cgroup.kill_all(spare=self.popen.pid)
        try:
            self.popen.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.popen.kill()
        self.cgroup.kill_all()

    def _collect(self, returncode: int) -> SandboxExit:
        facts = SandboxExit(
            exit_code=_exit_status(returncode),
            oom_kills=self.cgroup.oom_kills(),
            pids_limit_hits=self.cgroup.pids_limit_hits(),
            memory_limit_hits=self.cgroup.memory_limit_hits(),
        )
        self.cgroup.kill_all()
        self.cgroup.remove()
        _UIDS.release(self.uid)
        return facts


def _can_renice() -> bool:
    """True when this process holds CAP_SYS_NICE (container runtimes often drop it)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) >> 23 & 1)
    except (OSError, ValueError):
        pass
    return False


def _pids_max(limits: Limits) -> int:
    return limits.processes + SANDBOX_OVERHEAD_TASKS


def _bwrap_rlimits(limits: Limits) -> dict[str, int]:
    # NPROC well above pids.max, so that the cgroup trips first and records the event: a fork bomb's
    # forks in flight are counted against NPROC before the cgroup charges them, and the uid's exited
    # children of an earlier sandbox count until the host's init reaps them. With a margin of only 2,
    # CI saw a fork bomb stopped by NPROC ("error: BlockingIOError"), not "limit: processes".
    return {
        "RLIMIT_NPROC": 2 * _pids_max(limits) + 16,
        "RLIMIT_FSIZE": limits.disk_mb * 1024 * 1024,
        "RLIMIT_CORE": 0,
    }


def _is_dir_link(path: Path) -> bool:
    return path.is_symlink() and path.resolve().is_dir()


def _system_binds() -> list[str]:
    """Read-only /usr plus /bin, /lib, ... as the host has them (links on merged-/usr hosts)."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if _is_dir_link(path):
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    return args


def _python_roots() -> list[str]:
    """Folders holding the base interpreter and its standard library (not the worker's venv)."""
    candidates = {os.path.realpath(p) for p in (sys.base_prefix, sys.base_exec_prefix) if p and os.path.isdir(p)}
    candidates.add(os.path.dirname(os.path.dirname(runtime.base_python())))
    roots = sorted(p for p in candidates if p != "/" and not (p == "/usr" or p.startswith("/usr/")))
    # Drop folders nested in another root: one bind covers them.
    return [p for p in roots if not any(p != other and p.startswith(other + "/") for other in roots)]


def _text_fd(text: str) -> int:
    """A pipe already holding ``text``; bwrap reads it into a read-only file (--ro-bind-data)."""
    read_end, write_end = os.pipe()
    os.write(write_end, text.encode())
    os.close(write_end)
    return read_end


_SWEPT_LAYOUTS: set[cgroups.CgroupLayout] = set()
_SWEEP_LOCK = threading.Lock()


def bwrap_path() -> str:
    return os.environ.get("LAB_BWRAP") or shutil.which("bwrap") or "/usr/bin/bwrap"


class BwrapBackend(SandboxBackend):
    name = BWRAP_NAME

    def __init__(self, bwrap: str | None = None) -> None:
        self.bwrap = bwrap or bwrap_path()
        self.layout = cgroups.detect_layout()
        self._probed: tuple[str | None] | None = None

    def unavailable_reason(self) -> str | None:
        """None when this backend can run here, else why not (probed once, by really starting one)."""
        if self._probed is None:
            self._probed = (self._probe(),)
        return self._probed[0]

    def _probe(self) -> str | None:
        if os.geteuid() != 0:
            return "the worker is not root, so it cannot run learner code under a separate uid"
        if not os.access(self.bwrap, os.X_OK):
            return f"bubblewrap not found at {self.bwrap}"
        if self.layout is None:
            return "no cgroup hierarchy with the memory and pids controllers"
        probe = subprocess.run(
            [self.bwrap, "--unshare-all", "--unshare-user", *_system_binds(), "--", "/usr/bin/true"],
            capture_output=True,
            text=True,
            check=False,
            user=int(os.environ.get("LAB_SANDBOX_UID_BASE", "61000")),
            group=int(os.environ.get("LAB_SANDBOX_UID_BASE", "61000")),
            extra_groups=[],
        )
        if probe.returncode != 0:
            return f"bubblewrap cannot create namespaces here: {probe.stderr.strip()[:300]}"
        return None

    def _sweep_once(self) -> None:
        """Remove cgroups left by worker processes that died (once per process)."""
        with _SWEEP_LOCK:
            if self.layout is None or self.layout in _SWEPT_LAYOUTS:
                return
            _SWEPT_LAYOUTS.add(self.layout)
        with contextlib.suppress(OSError):
            cgroups.sweep_stale(self.layout)

    def start(self, *, job_dir: Path, limits: Limits, device: str, label: str, background: bool = False) -> Sandbox:
        assert self.layout is not None
        self._sweep_once()
        uid = _UIDS.acquire()
        try:
            return self._start(job_dir=job_dir, limits=limits, device=device, label=label, uid=uid, nice=background)
        except BaseException:
            _UIDS.release(uid)
            raise

    def _start(self, *, job_dir: Path, limits: Limits, device: str, label: str, uid: int, nice: bool) -> Sandbox:
        os.chown(job_dir, uid, uid)
        os.chmod(job_dir, 0o700)
        out_dir = job_dir / "out"
        out_dir.mkdir(exist_ok=True)
        os.chown(out_dir, uid, uid)
        cgroup = cgroups.JobCgroup.create(
            self.layout,
            f"{cgroups.owned_prefix(worker_slot())}{label}",
            memory_bytes=limits.memory_mb * 1024 * 1024,
            pids_max=_pids_max(limits),
        )
        events_read, events_write = os.pipe()
        data_fds = {
            "/etc/passwd": _text_fd(
                f"root:x:0:0:root:/nonexistent:/usr/sbin/nologin\nlab:x:{uid}:{uid}:lab:/job:/bin/sh\n"
            ),
            "/etc/group": _text_fd(f"root:x:0:\nlab:x:{uid}:\n"),
            "/etc/nsswitch.conf": _text_fd("passwd: files\ngroup: files\nhosts: files\n"),
            "/etc/hosts": _text_fd("127.0.0.1 localhost\n::1 localhost\n"),
        }
        try:
            bind_sources = [*_python_roots(), str(HARNESS), str(_runtime_packages()), str(job_dir.resolve())]
            config = {
                "cgroup_procs": [str(p) for p in cgroup.procs_files],
                "uid": uid,
                "gid": uid,
                "expose": [p for p in bind_sources if blocking_ancestor(p, uid, uid) is not None],
                "rlimits": _bwrap_rlimits(limits),
                # Only if this worker can restore the priority later (an unprivileged process
                # cannot lower its own nice value without a raised RLIMIT_NICE).
                "nice": BACKGROUND_NICE if nice and _can_renice() else 0,
            }
            argv = self._bwrap_argv(job_dir, limits, device, events_write, data_fds)
            popen = _spawn(argv, config, pass_fds=(events_write, *data_fds.values()), cwd="/", new_session=False)
        except BaseException:
            os.close(events_read)
            cgroup.remove()
            raise
        finally:
            os.close(events_write)
            for fd in data_fds.values():
                os.close(fd)
        return BwrapSandbox(popen, events_read, job_dir, cgroup, uid, limits)

    def _bwrap_argv(
        self, job_dir: Path, limits: Limits, device: str, events_fd: int, data_fds: dict[str, int]
    ) -> list[str]:
        args = [
            self.bwrap,
            "--unshare-all",
            "--unshare-user",
            "--disable-userns",
            "--die-with-parent",
            "--new-session",
            # The harness is pid 1 of its namespace: when it exits the kernel kills everything
            # else in there, and bwrap reaps it directly (bwrap's own pid-1 reaper would be
            # left as a zombie for the host's init to collect, which not every init does).
            "--as-pid-1",
            "--clearenv",
            "--hostname",
            "sandbox",
            *_system_binds(),
        ]
        for path in ETC_READ_ONLY:
            if os.path.exists(path):
                args += ["--ro-bind", path, path]
        for target, fd in data_fds.items():
            args += ["--ro-bind-data", str(fd), target]
        # No /proc for CPU runs: its mountinfo shows the folders bound in (host paths), its
        # cmdline and environ what started the sandbox. Only cpuinfo (torch's CPU detection reads
        # it; it names no path). CUDA needs the process's own /proc/<pid> (measured on an H200:
        # without it cudaGetDeviceCount fails, error 304), so a CUDA run gets the fresh /proc of
        # its pid namespace: only its own processes, and folder names that carry no run id.
        args += ["--proc", "/proc"] if device == "cuda" else ["--ro-bind", "/proc/cpuinfo", "/proc/cpuinfo"]
        args += ["--dev", "/dev"]
        # Private, size-limited tmpfs mounts inside the sandbox (not the host's /tmp). They come
        # before the binds below: a checkout (its venv) under the host's /tmp must stay visible.
        args += ["--size", str(limits.disk_mb * 1024 * 1024), "--tmpfs", "/tmp"]  # noqa: S108
        args += ["--size", str(SHM_MB * 1024 * 1024), "--tmpfs", "/dev/shm"]  # noqa: S108
        for root in _python_roots():
            args += ["--ro-bind", root, root]
        for hidden in runtime.interpreter_site_dirs():  # the interpreter's own packages: not the learner's
            args += ["--tmpfs", hidden]
        args += ["--ro-bind", str(_runtime_packages()), runtime.SITE_INSIDE]
        args += ["--ro-bind", str(HARNESS), HARNESS_INSIDE]
        args += ["--bind", str(job_dir.resolve()), "/job"]
        if device == "cuda":
            gpu = run_gpu()
            args += gpus.device_binds(gpu) if gpu is not None else []
            args += gpus.driver_binds(gpus.driver_library_dirs())
        # Last: the root bwrap builds is a tmpfs (with no size limit); read-only, so that only
        # /job, /tmp and /dev/shm are writable, each limited (found by tests/security/hostile).
        args += ["--remount-ro", "/"]
        # PYTHONPATH: for the learner's own Python subprocesses (the harness adds the folder itself).
        for key, value in {**_sandbox_env(device), "PYTHONPATH": runtime.SITE_INSIDE}.items():
            args += ["--setenv", key, value]
        args += ["--chdir", "/job", "--"]
        args += [*harness_command(runtime.SITE_INSIDE), HARNESS_INSIDE, "--site-packages", runtime.SITE_INSIDE]
        args += ["--job", "/job", "--events-fd", str(events_fd)]
        return args


def _runtime_packages() -> Path:
    packages = runtime.site_packages()
    if packages is None:
        raise SandboxUnavailable(
            f"the lab runtime is not built at {runtime.runtime_dir()}: "
            "run `python -m workers.runtime build` (make does it)"
        )
    return packages


# ------------------------------------------------------------------------------------------
# development fallback
# ------------------------------------------------------------------------------------------
class DevSandbox(Sandbox):
    backend_name = DEV_NAME

    def backend_rlimits(self, limits: Limits) -> dict[str, int]:
        return _dev_rlimits(limits)

    def kill(self) -> None:
        # The harness leads its own session and process group; learner children that called
        # setsid() escape this (one reason this backend is "no isolation").
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)

    def _collect(self, returncode: int) -> SandboxExit:
        return SandboxExit(exit_code=_exit_status(returncode), oom_kills=0, pids_limit_hits=0)


def _tasks_of_current_user() -> int:
    uid, count = os.getuid(), 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if entry.stat().st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry.name}/task"))
    return count


def _dev_rlimits(limits: Limits) -> dict[str, int]:
    # RLIMIT_NPROC counts every task of the uid on the machine (the developer's desktop too).
    return {
        "RLIMIT_AS": (limits.memory_mb + DEV_ADDRESS_SPACE_OVERHEAD_MB) * 1024 * 1024,
        "RLIMIT_NPROC": _tasks_of_current_user() + limits.processes,
        "RLIMIT_FSIZE": limits.disk_mb * 1024 * 1024,
        "RLIMIT_CORE": 0,
    }


class DevBackend(SandboxBackend):
    name = DEV_NAME

    def start(self, *, job_dir: Path, limits: Limits, device: str, label: str, background: bool = False) -> Sandbox:
        (job_dir / "out").mkdir(exist_ok=True)
        events_read, events_write = os.pipe()
        packages = runtime.site_packages()
        if packages is None:
            logger.warning("the lab runtime is not built: learner code runs on the worker's own Python")
        argv = [
            *harness_command(str(packages) if packages else None),
            str(HARNESS),
            *(["--site-packages", str(packages)] if packages else []),
            "--job",
            str(job_dir),
            "--events-fd",
            str(events_write),
        ]
        env = {**_sandbox_env(device), "HOME": str(job_dir), **({"PYTHONPATH": str(packages)} if packages else {})}
        rlimits = _dev_rlimits(limits)
        config = {"rlimits": rlimits, "env": env}
        try:
            popen = _spawn(
                argv,
                config,
                pass_fds=(events_write,),
                cwd=str(job_dir),
                new_session=True,
            )
        except BaseException:
            os.close(events_read)
            raise
        finally:
            os.close(events_write)
        return DevSandbox(popen, events_read, job_dir, str(job_dir), rlimits)


# ------------------------------------------------------------------------------------------
# choosing
# ------------------------------------------------------------------------------------------
_BACKENDS: dict[str, SandboxBackend] = {}
_SELECT_LOCK = threading.Lock()


def select_backend() -> SandboxBackend:
    """The backend for the next run: ``LAB_SANDBOX`` if set, else bwrap when it works here."""
    wanted = os.environ.get("LAB_SANDBOX", "").strip().lower() or "auto"
    if wanted not in ("auto", "bwrap", "dev"):
        raise SandboxUnavailable(f"LAB_SANDBOX must be bwrap or dev, got {wanted!r}")
    with _SELECT_LOCK:
        if wanted != "dev":
            key = f"bwrap:{bwrap_path()}"
            backend = _BACKENDS.setdefault(key, BwrapBackend(bwrap_path()))
            reason = backend.unavailable_reason()
            if reason is None:
                return backend
            if wanted == "bwrap":
                raise SandboxUnavailable(f"LAB_SANDBOX=bwrap, but the bwrap sandbox cannot run here: {reason}")
            logger.warning("lab runs use the development sandbox (NO isolation): %s", reason)
        return _BACKENDS.setdefault("dev", DevBackend())


__all__ = [
    "BWRAP_NAME",
    "DEV_NAME",
    "EXIT_LAUNCH_FAILED",
    "BwrapBackend",
    "DevBackend",
    "Sandbox",
    "SandboxBackend",
    "SandboxExit",
    "SandboxUnavailable",
    "select_backend",
]
