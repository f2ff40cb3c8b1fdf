"""One cgroup per sandboxed run: memory and process limits, what happened, and clean-up.

Supports both layouts a Linux host may have:
- cgroup v1 (separate ``memory`` and ``pids`` hierarchies, e.g. ``/sys/fs/cgroup/memory``):
  ``memory.limit_in_bytes`` (+ ``memory.memsw.limit_in_bytes`` when swap accounting exists),
  OOM kills counted in ``memory.oom_control``; ``pids.max`` and ``pids.events``.
- cgroup v2 (one unified hierarchy): ``memory.max``, ``memory.swap.max``, ``memory.events``,
  ``pids.max``, ``pids.events``, and ``cgroup.kill`` to end everything at once.

The layout is read from ``/proc/self/mountinfo`` (never assumed from a path). A hybrid host
whose unified hierarchy lacks the memory controller (like this one) uses v1; v2 wins when it
has both controllers. Run cgroups live under ``<hierarchy>/labrunner/`` (``LAB_CGROUP_PARENT``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import time
from dataclasses import dataclass
from pathlib import Path

MOUNTINFO = Path("/proc/self/mountinfo")


class CgroupError(RuntimeError):
    """The run's cgroup could not be created or configured."""


@dataclass(frozen=True)
class CgroupLayout:
    version: int  # 1 or 2
    memory_root: Path  # v1: the memory hierarchy's mount; v2: the unified mount
    pids_root: Path

    def parent(self, root: Path) -> Path:
        return root / os.environ.get("LAB_CGROUP_PARENT", "labrunner")


def _unescape(field: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as octal (\040 ...).
    return field.encode().decode("unicode_escape")


def detect_layout(mountinfo: Path = MOUNTINFO) -> CgroupLayout | None:
    """The cgroup layout usable for memory+pids limits, or None if there is none."""
    v1: dict[str, Path] = {}
    v2: Path | None = None
    try:
        lines = mountinfo.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        mount_point, fstype, super_options = Path(_unescape(fields[4])), tail[0], tail[2].split(",")
        if fstype == "cgroup":
            for controller in ("memory", "pids"):
                if controller in super_options:
                    v1.setdefault(controller, mount_point)
        elif fstype == "cgroup2" and v2 is None:
            v2 = mount_point
    if v2 is not None and {"memory", "pids"} <= _controllers(v2):
        return CgroupLayout(2, v2, v2)
    if "memory" in v1 and "pids" in v1:
        return CgroupLayout(1, v1["memory"], v1["pids"])
    return None


def _controllers(unified: Path) -> set[str]:
    try:
        return set((unified / "cgroup.controllers").read_text().split())
    except OSError:
        return set()


def _write(path: Path, value: str) -> None:
    with open(path, "w") as handle:
        handle.write(value)


def _read_int(path: Path) -> int | None:
    """An integer file (``max`` and unreadable files: None)."""
    try:
        return int(path.read_text())
    except (OSError, ValueError):
        return None


def _read_keyed(path: Path) -> dict[str, int]:
    """Parse ``key value`` lines (memory.events, pids.events, memory.oom_control)."""
    values: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for line in path.read_text().splitlines():
            key, _, value = line.partition(" ")
            with contextlib.suppress(ValueError):
                values[key] = int(value)
    return values


class JobCgroup:
    """The cgroup(s) of one sandbox. v1 uses two directories, v2 one."""

    def __init__(self, layout: CgroupLayout, name: str) -> None:
        self.layout = layout
        self.name = name
        if layout.version == 2:
            self.memory_dir = self.pids_dir = layout.parent(layout.memory_root) / name
        else:
            self.memory_dir = layout.parent(layout.memory_root) / name
            self.pids_dir = layout.parent(layout.pids_root) / name

    @property
    def dirs(self) -> list[Path]:
        return [self.memory_dir] if self.memory_dir == self.pids_dir else [self.memory_dir, self.pids_dir]

    @classmethod
    def create(cls, layout: CgroupLayout, name: str, *, memory_bytes: int, pids_max: int) -> JobCgroup:
        cgroup = cls(layout, name)
        try:
            if layout.version == 2:
                cls._enable_v2_controllers(layout)
            for directory in cgroup.dirs:
                directory.mkdir(parents=True, exist_ok=True)
            cgroup.set_limits(memory_bytes=memory_bytes, pids_max=pids_max)
        except OSError as exc:
            cgroup.remove()
            raise CgroupError(f"cannot set up cgroup {name}: {exc}") from exc
        return cgroup

    @staticmethod
    def _enable_v2_controllers(layout: CgroupLayout) -> None:
        # v2 hands a controller to children only when every ancestor lists it in
        # cgroup.subtree_control; our parent folder sits directly under the mount's root.
        parent = layout.parent(layout.memory_root)
        parent.mkdir(exist_ok=True)
        for directory in (layout.memory_root, parent):
            enabled = set((directory / "cgroup.subtree_control").read_text().split())
            if not {"memory", "pids"} <= enabled:
                _write(directory / "cgroup.subtree_control", "+memory +pids")

    def set_limits(self, *, memory_bytes: int, pids_max: int) -> None:
        """Set (or change, for a warm sandbox taking a job) the memory and process limits."""
        if self.layout.version == 2:
            _write(self.memory_dir / "memory.max", str(memory_bytes))
            with contextlib.suppress(OSError):  # no swap accounting on this host
                _write(self.memory_dir / "memory.swap.max", "0")
            with contextlib.suppress(OSError):  # on OOM, end the whole run, not one random process
                _write(self.memory_dir / "memory.oom.group", "1")
        else:
            self._set_v1_memory(memory_bytes)
        _write(self.pids_dir / "pids.max", str(pids_max))

    def _set_v1_memory(self, memory_bytes: int) -> None:
        limit = self.memory_dir / "memory.limit_in_bytes"
        memsw = self.memory_dir / "memory.memsw.limit_in_bytes"
        # memsw (memory+swap) must always stay >= limit: raise memsw first when growing,
        # lower the plain limit first when shrinking.
        current = int(limit.read_text())
        order = [memsw, limit] if memory_bytes > current else [limit, memsw]
        for path in order:
            if path == memsw and not path.exists():
                continue
            try:
                _write(path, str(memory_bytes))
            except OSError as exc:
                if path == memsw and exc.errno in (errno.EINVAL, errno.EOPNOTSUPP):
                    continue  # swap accounting disabled: the plain limit is all there is
                raise

    @property
    def procs_files(self) -> list[Path]:
        return [directory / "cgroup.procs" for directory in self.dirs]

    def pids(self) -> set[int]:
        found: set[int] = set()
        for procs in self.procs_files:
            with contextlib.suppress(OSError):
                found.update(int(line) for line in procs.read_text().split())
        return found

    def oom_kills(self) -> int:
        if self.layout.version == 2:
            return _read_keyed(self.memory_dir / "memory.events").get("oom_kill", 0)
        return _read_keyed(self.memory_dir / "memory.oom_control").get("oom_kill", 0)

    def memory_limit_hits(self) -> int:
        """Times the cgroup's own limit was reached (an OOM kill without any: the node's OOM killer).

        Some kernels leave the v1 fail counters at 0 after a limit OOM kill; the peak usage
        reaching the limit (within 2 MiB) then tells, and counts as one.
        """
        if self.layout.version == 2:
            events = _read_keyed(self.memory_dir / "memory.events")
            hits = events.get("oom", 0) + events.get("max", 0)
            names = ("memory.peak", "memory.max")
        else:
            hits = sum(_read_int(self.memory_dir / n) or 0 for n in ("memory.failcnt", "memory.memsw.failcnt"))
            names = ("memory.max_usage_in_bytes", "memory.limit_in_bytes")
        peak, limit = (_read_int(self.memory_dir / name) for name in names)
        if not hits and peak is not None and limit is not None and peak >= limit - 2 * 1024 * 1024:
            hits = 1
        return hits

    def pids_limit_hits(self) -> int:
        return _read_keyed(self.pids_dir / "pids.events").get("max", 0)

    def memory_peak_bytes(self) -> int | None:
        name = "memory.peak" if self.layout.version == 2 else "memory.max_usage_in_bytes"
        try:
            return int((self.memory_dir / name).read_text())
        except (OSError, ValueError):
            return None

    def kill_all(self, timeout: float = 5.0, *, spare: int | None = None) -> bool:
        """SIGKILL every process in the cgroup until it is empty; True when it is.

        ``spare``: a process to leave alone (the sandbox's outer bwrap, which then reaps its
        child and exits by itself, instead of leaving it a zombie for init to collect).
        """
        kill_file = self.memory_dir / "cgroup.kill"
        if spare is None and self.layout.version == 2 and kill_file.exists():
            with contextlib.suppress(OSError):
                _write(kill_file, "1")
        deadline = time.monotonic() + timeout
        while True:
            remaining = self.pids() - {spare}
            if not remaining:
                return True
            if time.monotonic() > deadline:
                return False
            # A fork bomb may fork between the read and the kills; pids.max bounds the
            # number of rounds, and killed processes cannot fork any more.
            for pid in remaining:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.01)

    def remove(self) -> None:
        """Remove the cgroup directories (they must be empty of processes)."""
        for directory in self.dirs:
            for _ in range(50):
                try:
                    directory.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError as exc:
                    if exc.errno != errno.EBUSY:
                        break
                    # The kernel releases a cgroup shortly after its last process is reaped.
                    time.sleep(0.02)


_OWNER = re.compile(r"^slot\d+-n(\d+)-p(\d+)-")


def owner_tag() -> str:
    """``n<pid namespace>-p<pid>`` of this worker process: enough to tell, later, whether it lives.

    The namespace is part of it because a pid means nothing in another pid namespace (another
    container sharing the host's cgroup tree): such cgroups are never swept from here.
    """
    return f"n{os.stat('/proc/self/ns/pid').st_ino}-p{os.getpid()}"


def owned_prefix(slot: int) -> str:
    """Run cgroup names start with the slot and the worker process that owns them."""
    return f"slot{slot}-{owner_tag()}-"


def owner_alive(name: str) -> bool:
    """False only for a name of ours whose worker process (in our pid namespace) is gone."""
    match = _OWNER.match(name)
    if match is None or int(match.group(1)) != os.stat("/proc/self/ns/pid").st_ino:
        return True  # not ours to judge
    pid = int(match.group(2))
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale(layout: CgroupLayout) -> int:
    """Kill and remove run cgroups whose worker process is gone (a crash, a SIGKILL)."""
    removed = 0
    parents = {layout.parent(layout.memory_root), layout.parent(layout.pids_root)}
    names = {entry.name for parent in parents if parent.is_dir() for entry in parent.iterdir() if entry.is_dir()}
    for name in sorted(names):
        if not owner_alive(name):
            cgroup = JobCgroup(layout, name)
            cgroup.kill_all(timeout=2.0)
            cgroup.remove()
            removed += 1
    return removed
