"""The few steps between the worker and bubblewrap that must run as root, in a fresh process.

Run as ``python -I -S -B sandbox_launcher.py CONFIG_JSON`` by ``workers.sandbox``; standard
library only. In order, it:

1. joins the run's cgroups (memory, pids), so everything the sandbox ever starts is counted;
2. exposes paths the sandbox user could not reach (see ``expose``) in a private mount namespace;
3. sets the resource limits (RLIMIT_NPROC, RLIMIT_FSIZE, ...) and, for a warm member started
   ahead of its job, a lower CPU priority (the supervisor restores it when the job arrives);
4. drops to the sandbox's unprivileged uid/gid (no supplementary groups);
5. ``exec``s the sandbox command (``bwrap ...``) in place of itself, with exactly the
   environment given in the config (nothing inherited from the worker).

Why a separate process instead of ``Popen(preexec_fn=...)``: ``preexec_fn`` runs Python in a
forked child of a multi-threaded worker (progress threads, the warm-pool spawner), which can
deadlock; here the work happens in a clean single-threaded interpreter that costs ~15 ms.

``expose``: bubblewrap, started as the unprivileged uid, resolves its bind sources *as that
uid*. A source under a folder the uid cannot traverse (``/root`` is 0700 and holds pyenv's
Python here; pytest's temporary folders are 0700) would fail. So, in a mount namespace private
to this process, a tmpfs (0755) is mounted over the top-most untraversable ancestor and only the
needed paths are bind-mounted back at their own place. Nothing changes for the host; the rest
of that folder stays invisible.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import stat
import sys

CLONE_NEWNS = 0x00020000
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
EXIT_LAUNCH_FAILED = 125


class LaunchError(RuntimeError):
    pass


def _libc_call(function_name: str, *arguments: object) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if getattr(libc, function_name)(*arguments) != 0:
        errno = ctypes.get_errno()
        raise LaunchError(f"{function_name}{arguments!r}: {os.strerror(errno)}")


def join_cgroups(procs_files: list[str]) -> None:
    for procs in procs_files:
        with open(procs, "w") as handle:
            handle.write(str(os.getpid()))


def _traversable(st: os.stat_result, uid: int, gid: int) -> bool:
    if st.st_uid == uid:
        return bool(st.st_mode & stat.S_IXUSR)
    if st.st_gid == gid:
        return bool(st.st_mode & stat.S_IXGRP)
    return bool(st.st_mode & stat.S_IXOTH)


def blocking_ancestor(path: str, uid: int, gid: int) -> str | None:
    """The top-most ancestor of ``path`` that ``uid`` cannot traverse, if any."""
    current = "/"
    for part in [p for p in path.split("/") if p][:-1]:
        current = os.path.join(current, part)
        if not _traversable(os.stat(current), uid, gid):
            return current
    return None


def expose(paths: list[str], uid: int, gid: int) -> None:
    blocked = {path: blocking_ancestor(path, uid, gid) for path in paths}
    blocked = {path: top for path, top in blocked.items() if top is not None}
    if not blocked:
        return
    _libc_call("unshare", CLONE_NEWNS)
    # Private first: nothing mounted below may propagate back to the host.
    _libc_call("mount", b"none", b"/", None, MS_REC | MS_PRIVATE, None)
    # The fds must be opened *after* unshare: a bind source must belong to this namespace.
    handles = {path: os.open(path, os.O_PATH | os.O_CLOEXEC) for path in blocked}
    for top in sorted(set(blocked.values())):
        _libc_call("mount", b"tmpfs", top.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, b"mode=0755,size=1m")
    for path, handle in handles.items():
        if stat.S_ISDIR(os.fstat(handle).st_mode):
            os.makedirs(path, mode=0o755, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
            open(path, "a").close()  # a mount point for a file is a file
        _libc_call("mount", f"/proc/self/fd/{handle}".encode(), path.encode(), None, MS_BIND | MS_REC, None)
        os.close(handle)


def set_rlimits(limits: dict[str, int]) -> None:
    """Soft = hard: the sandboxed code may lower a limit, never raise it back."""
    for name, value in limits.items():
        resource.setrlimit(getattr(resource, name), (value, value))


def drop_privileges(uid: int, gid: int) -> None:
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise LaunchError("could not drop privileges")


def main(argv: list[str]) -> None:
    config = json.loads(argv[1])
    os.umask(0o022)
    join_cgroups(config.get("cgroup_procs", []))
    uid, gid = config.get("uid"), config.get("gid")
    if config.get("expose"):
        expose(config["expose"], uid, gid)
    set_rlimits(config.get("rlimits", {}))
    if config.get("nice"):
        os.nice(config["nice"])
    if uid is not None:
        drop_privileges(uid, gid)
    command = config["argv"]
    os.execve(command[0], command, config.get("env", {}))  # noqa: S606 - no shell on purpose


if __name__ == "__main__":
    try:
        main(sys.argv)
    except Exception as exc:  # noqa: BLE001 - any failure here is "the sandbox did not start"
        sys.stderr.write(f"sandbox launcher: {type(exc).__name__}: {exc}\n")
        sys.stderr.flush()
        os._exit(EXIT_LAUNCH_FAILED)
