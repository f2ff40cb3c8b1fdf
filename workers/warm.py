"""A pool of pre-started, single-use sandboxes: torch start-up off the critical path.

``import torch`` costs ~2.3 s and the first ``torch.optim`` use ~1.8 s more, so a fresh
process needs ~4.5 s before the learner's first line runs. Each pool member is the harness
already running *inside its own bubblewrap sandbox* (own uid, cgroup, namespaces, job folder
bind-mounted at ``/job``), with torch imported and its lazy parts loaded, blocked on stdin.
When a job arrives the supervisor takes a member that has reported "ready" (waiting for one
that is still starting rather than starting a fresh sandbox), renames the member's folder to
the job's name, writes the job files into it, tightens the cgroup and rlimits to the job's
limits and sends "go". The member runs exactly that one job and is destroyed; the pool's
thread starts a replacement in the background. Only a ready member may be renamed: until
bwrap has bind-mounted the folder, the member's launcher looks it up by its path.

Why not the design's forking parent (one pre-warmed process forking a child per job)?
- Fork-per-job shares one long-lived parent between learners: everything in its memory is
  inherited by every child, and a child's sandbox would have to be set up *after* the fork,
  from Python, inside the parent's namespaces. Here no two learners ever share a process, and
  nothing runs in the sandbox before the job except our own harness.
- Fork plus OpenMP or CUDA is fragile (a matmul before fork hangs the child; CUDA does not
  survive fork). Nothing forks here: every member is a fresh ``exec``, and CUDA is first
  initialised inside the job itself, so ``device == "cuda"`` works the same way.
- The latency is the same: the job only pays for writing its files and one pipe write.

Each member is created with the pool's *maximum* limits (``max_limits``) and narrowed to the
job's on acquisition (cgroup limits and ``prlimit``); a job asking for more than the maximum,
or for another device, gets a fresh sandbox instead. The warm process holds no secrets: it
has the same clean environment and file view as any run.

``LAB_WARM_POOL``: members per worker process (default 1, i.e. one per worker slot);
0 disables the pool (a fresh sandbox per job). ``LAB_WARM_DEVICE``: the device warm members
are prepared for (default ``cuda`` when the node has a GPU (``workers.gpus.discover``), else ``cpu``).
"""

from __future__ import annotations

import array
import atexit
import fcntl
import logging
import os
import select
import termios
import threading
import time
from pathlib import Path

from workers import gpus, jobdirs
from workers.jobspec import Limits
from workers.sandbox import Sandbox, SandboxBackend, jobs_dir, select_backend, worker_slot

logger = logging.getLogger(__name__)

RESPAWN_BACKOFF_S = 5.0
READY_POLL_S = 0.02  # how often ``acquire`` looks again while it waits for a member to be ready


def _total_memory_mb() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024)


def default_max_limits() -> Limits:
    """The widest job a warm member can take; tighter jobs narrow it, wider ones start fresh."""
    return Limits(
        wall_seconds=7 * 24 * 3600,
        memory_mb=max(64, _total_memory_mb()),
        processes=512,
        output_bytes=1024**3,
        disk_mb=4096,
    )


def default_device() -> str:
    configured = os.environ.get("LAB_WARM_DEVICE")
    if configured in ("cpu", "cuda"):
        return configured
    return "cuda" if gpus.discover() else "cpu"


def _fits(limits: Limits, maximum: Limits) -> bool:
    return (
        limits.memory_mb <= maximum.memory_mb
        and limits.processes <= maximum.processes
        and limits.disk_mb <= maximum.disk_mb
    )


def _has_pending_event(sandbox: Sandbox) -> bool:
    """True when the member has written its first event ("ready") and it waits unread.

    Bytes in the pipe, not mere readability: the events pipe of a sandbox that died during
    start-up is readable too (end of file) with nothing in it. Counting them (FIONREAD)
    consumes nothing; the supervisor reads the event itself.
    """
    pending = array.array("i", [0])
    try:
        fcntl.ioctl(sandbox.events_fd, termios.FIONREAD, pending)
    except (OSError, ValueError):
        return False
    return pending[0] > 0


class WarmPool:
    """Keeps ``size`` idle warm sandboxes; each is handed out once, then replaced.

    A member is handed out only once it has reported "ready": from then on its harness runs
    inside bwrap, which has bind-mounted the member's folder at ``/job``, so the supervisor
    may rename that folder. Before that, the member's launcher and bwrap still look the folder
    up *by its path*; renaming it then makes the sandbox fail to start (``FileNotFoundError``,
    exit status 125).
    """

    def __init__(
        self,
        size: int,
        *,
        backend: SandboxBackend,
        jobs_dir: Path,
        device: str = "cpu",
        max_limits: Limits | None = None,
    ) -> None:
        self.size = size
        self.backend = backend
        self.jobs_dir = jobs_dir
        self.device = device
        self.max_limits = max_limits or default_max_limits()
        self._idle: list[Sandbox] = []
        self._cond = threading.Condition()
        self._closed = False
        self._spawning = 0
        self._thread: threading.Thread | None = None
        # Failures (a member that could not start, or died while idle) pause the refilling
        # for RESPAWN_BACKOFF_S, and make a waiting ``acquire`` give up at once.
        self._setbacks = 0
        self._backoff_until = 0.0
        self.started_members = 0

    def start(self) -> WarmPool:
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        jobdirs.start_sweeper(self.jobs_dir)  # folders of workers that died, now and periodically
        # The members are started from this long-lived thread on purpose: bwrap's
        # --die-with-parent fires when the *thread* that started it exits.
        self._thread = threading.Thread(target=self._keep_filled, name="lab-warm-pool", daemon=True)
        self._thread.start()
        return self

    def _keep_filled(self) -> None:
        while True:
            with self._cond:
                while not self._closed:
                    self._drop_dead_members()
                    now = time.monotonic()
                    if now < self._backoff_until:
                        self._cond.wait(timeout=min(1.0, self._backoff_until - now))
                    elif len(self._idle) < self.size:
                        break
                    else:
                        self._cond.wait(timeout=1.0)
                if self._closed:
                    return
                self._spawning += 1
            try:
                member = self._start_member()
            except Exception:
                logger.exception("could not start a warm sandbox; retrying in %.0f s", RESPAWN_BACKOFF_S)
                with self._cond:
                    self._spawning -= 1
                    self._setback()
                continue
            with self._cond:
                self._spawning -= 1
                if self._closed:
                    _destroy(member)
                    return
                self._idle.append(member)
                self._cond.notify_all()

    def _setback(self) -> None:
        """Called with the lock held."""
        self._setbacks += 1
        self._backoff_until = time.monotonic() + RESPAWN_BACKOFF_S
        self._cond.notify_all()

    def _drop_dead_members(self) -> None:
        """Called with the lock held."""
        for member in [m for m in self._idle if m.poll() is not None]:
            logger.warning(
                "a warm sandbox exited while idle (status %s); replacing it in %.0f s. Its output: %s",
                member.poll(),
                RESPAWN_BACKOFF_S,
                _pending_output(member),
            )
            self._idle.remove(member)
            _destroy(member)
            self._setback()

    def _start_member(self) -> Sandbox:
        job_dir = jobdirs.create(self.jobs_dir, jobdirs.WARM_PREFIX)
        try:
            member = self.backend.start(
                job_dir=job_dir, limits=self.max_limits, device=self.device, label=job_dir.name, background=True
            )
        except BaseException:
            jobdirs.release(job_dir)
            raise
        self.started_members += 1
        return member

    def _member_coming(self) -> bool:
        """Called with the lock held: whether a member may become ready without a new failure."""
        if any(m.poll() is None for m in self._idle) or self._spawning:
            return True
        refilling = self._thread is not None and self._thread.is_alive()
        return refilling and len(self._idle) < self.size and time.monotonic() >= self._backoff_until

    def acquire(self, limits: Limits, device: str, *, wait: float = 0.0) -> Sandbox | None:
        """A ready idle member for a job with these limits, or None (start a fresh sandbox).

        ``wait``: seconds to wait for a member that is still starting (or about to be started)
        to report ready; the rest of its start-up is shorter than a fresh sandbox's whole
        one. The wait ends early, with None, when the pool closes or a member fails.
        Never hands out a member that has not reported ready (see the class docstring).
        """
        if device != self.device or not _fits(limits, self.max_limits):
            return None
        deadline = time.monotonic() + wait
        with self._cond:
            setbacks = self._setbacks
            while not self._closed:
                self._drop_dead_members()
                ready = [m for m in self._idle if _has_pending_event(m)]
                if ready:
                    member = ready[0]  # the oldest
                    self._idle.remove(member)
                    self._cond.notify_all()  # start the replacement now
                    return member
                if self._setbacks != setbacks:
                    return None  # a member failed meanwhile: do not keep the job waiting on the pool
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._member_coming():
                    return None
                self._cond.wait(timeout=min(remaining, READY_POLL_S))
        return None

    def members(self) -> list[Sandbox]:
        with self._cond:
            return list(self._idle)

    def wait_settled(self, timeout: float, *, ready: bool = False) -> bool:
        """Block until the pool is full and no member is being started (and, with ``ready``,
        every member has reported ready). For tests, benchmarks and orderly start-up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._cond:
                full = len(self._idle) >= self.size and self._spawning == 0
                if full and (not ready or all(_has_pending_event(m) for m in self._idle)):
                    return True
            time.sleep(0.05)
        return False

    def close(self) -> None:
        with self._cond:
            self._closed = True
            members, self._idle = self._idle, []
            self._cond.notify_all()
        for member in members:
            _destroy(member)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)
            self._thread = None


def _pending_output(member: Sandbox, limit: int = 4000) -> str:
    """What a dead member wrote (for the log), without ever blocking."""
    try:
        readable, _, _ = select.select([member.stdout_fd], [], [], 0)
        data = os.read(member.stdout_fd, limit) if readable else b""
    except (OSError, ValueError):
        data = b""
    return data.decode("utf-8", errors="replace").strip()[-limit:]


def _destroy(member: Sandbox) -> None:
    member.finish()
    jobdirs.release(member.job_dir)


# ------------------------------------------------------------------------------------------
# the worker process's default pool
# ------------------------------------------------------------------------------------------
_DEFAULTS: dict[str, tuple[tuple, WarmPool]] = {}  # backend name -> (configuration, pool)
_DEFAULT_LOCK = threading.Lock()


def pool_size() -> int:
    return int(os.environ.get("LAB_WARM_POOL", "1"))


def get_default_pool(backend: SandboxBackend) -> WarmPool | None:
    """This process's pool for ``backend`` (created on first use), or None if disabled.

    A changed configuration (pool size, jobs folder, device, slot) replaces the pool.
    """
    size = pool_size()
    key = (size, str(jobs_dir()), default_device(), worker_slot(), id(backend))
    with _DEFAULT_LOCK:
        current = _DEFAULTS.get(backend.name)
        if current is not None and current[0] != key:
            current[1].close()
            del _DEFAULTS[backend.name]
            current = None
        if size <= 0:
            return None
        if current is None:
            pool = WarmPool(size, backend=backend, jobs_dir=jobs_dir(), device=default_device()).start()
            _DEFAULTS[backend.name] = (key, pool)
            return pool
        return current[1]


def prestart_default_pool() -> WarmPool | None:
    """Call at worker start-up so that even the first job finds a warm sandbox."""
    return get_default_pool(select_backend())


def shutdown_default_pool() -> None:
    """Close every default pool (worker shutdown; also registered with atexit)."""
    with _DEFAULT_LOCK:
        pools = [pool for _, pool in _DEFAULTS.values()]
        _DEFAULTS.clear()
    for pool in pools:
        pool.close()


atexit.register(shutdown_default_pool)
