"""Job folders on a lab worker: named neutrally, held while in use, always removed.

A job folder is the learner's ``/job`` inside the sandbox, so its shape is hostile: a chain of
directories thousands deep (``shutil.rmtree`` recurses and raised ``RecursionError``), millions
of files, modes that forbid reading, symlinks, fifos, sockets, hard links. ``remove_tree``
never recurses and never follows a link: it moves every nested directory up to the folder's
top level before emptying it, so each directory it works on is one level deep.

Names carry nothing about the run (``job-<random>``, ``warm-<random>``): the folder is
bind-mounted into the sandbox, and neither the run id nor its attempt token may be visible
there. Who owns a folder is told by an exclusive ``flock`` held on it by the worker process
that created it, for as long as the folder is in use; the lock vanishes with that process, so
``sweep_orphans`` (at start and every ``LAB_JOBS_SWEEP_SECONDS``) removes exactly the folders
of dead workers, across pid namespaces and containers sharing the folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
import stat
import threading
import time
from pathlib import Path

logger = logging.getLogger(__name__)

JOB_PREFIX = "job-"
WARM_PREFIX = "warm-"
NEW_PREFIX = ".new-"  # created, not yet locked: a sweep leaves such a folder alone for a minute
ORPHAN_MIN_AGE_S = 60.0
_held: dict[str, int] = {}  # folder path -> fd holding its lock
_held_lock = threading.Lock()


def create(root: Path, prefix: str = JOB_PREFIX) -> Path:
    """A new empty folder under ``root`` with a random name, locked by this process."""
    root.mkdir(parents=True, exist_ok=True)
    name = secrets.token_hex(8)
    new, path = root / f"{NEW_PREFIX}{name}", root / f"{prefix}{name}"
    new.mkdir(mode=0o700)
    fd = os.open(new, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.rename(new, path)  # only a locked folder ever has a name a sweep may take for an orphan
    with _held_lock:
        _held[str(path)] = fd
    return path


def rename(path: Path, new_path: Path) -> None:
    """Rename a folder of ours; its lock (held on the open directory) goes with it."""
    os.rename(path, new_path)
    with _held_lock:
        fd = _held.pop(str(path), None)
        if fd is not None:
            _held[str(new_path)] = fd


def release(path: Path) -> bool:
    """Remove a folder of ours and drop its lock. False (logged) when something could not go:
    the lock is dropped anyway, so that the next sweep, of any worker, tries again."""
    gone = remove_tree(path)
    with _held_lock:
        fd = _held.pop(str(path), None)
    if fd is not None:
        os.close(fd)
    if not gone:
        logger.error("could not remove the job folder %s; the orphan sweep will try again", path)
    return gone


def remove_tree(path: Path) -> bool:
    """Remove ``path`` and everything under it, whatever its shape. True when it is gone.

    Iterative and flat: a directory found inside a nested directory is first renamed to the
    top level, so paths stay short and nothing recurses however deep the chain. Links are
    removed, never followed; a directory this process may not read or write is made so first
    (the development sandbox runs as the worker's own user).
    """
    top = str(path)
    try:
        info = os.lstat(top)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode):
        with contextlib.suppress(OSError):
            os.unlink(top)
        return not os.path.lexists(top)
    pending = [top]
    while pending:
        directory = pending.pop()
        _make_accessible(directory)
        with contextlib.suppress(OSError), os.scandir(directory) as entries:
            for entry in entries:
                _remove_entry(entry, top, nested=directory != top, pending=pending)
        if directory != top:
            with contextlib.suppress(OSError):
                os.rmdir(directory)
    with contextlib.suppress(OSError):
        os.rmdir(top)
    return not os.path.lexists(top)


def _remove_entry(entry: os.DirEntry, top: str, *, nested: bool, pending: list[str]) -> None:
    try:
        is_dir = entry.is_dir(follow_symlinks=False)
    except OSError:
        is_dir = False
    try:
        if not is_dir:
            os.unlink(entry.path)
        elif nested:
            flat = os.path.join(top, f".rm-{secrets.token_hex(8)}")
            os.rename(entry.path, flat)
            pending.append(flat)
        else:
            pending.append(entry.path)
    except OSError as exc:
        logger.debug("could not remove %s: %s", entry.path, exc)


def _make_accessible(directory: str) -> None:
    with contextlib.suppress(OSError):
        info = os.lstat(directory)
        if stat.S_ISDIR(info.st_mode) and info.st_mode & 0o700 != 0o700:
            os.chmod(directory, 0o700)


def sweep_orphans(root: Path) -> int:
    """Remove the folders under ``root`` that no live worker holds; returns how many went."""
    removed = 0
    try:
        names = os.listdir(root)
    except OSError:
        return 0
    for name in names:
        path = root / name
        with _held_lock:
            if str(path) in _held:
                continue
        if _is_orphan(path) and remove_tree(path):
            removed += 1
    if removed:
        logger.warning("removed %d job folder(s) left by workers that are gone", removed)
    return removed


def _is_orphan(path: Path) -> bool:
    try:
        info = os.lstat(path)
        if path.name.startswith(NEW_PREFIX) and time.time() - info.st_ctime < ORPHAN_MIN_AGE_S:
            return False
        if not stat.S_ISDIR(info.st_mode):
            return True  # nothing of ours is a plain file here
        _make_accessible(str(path))
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True  # nobody holds it (closing the fd below drops our own lock)
    except OSError:
        return False
    finally:
        os.close(fd)


def sweep_interval() -> float:
    return float(os.environ.get("LAB_JOBS_SWEEP_SECONDS", "300"))


_sweepers: dict[str, threading.Thread] = {}


def start_sweeper(root: Path) -> None:
    """Sweep ``root`` now and then every ``LAB_JOBS_SWEEP_SECONDS``, in a daemon thread (once per folder)."""
    with _held_lock:
        if str(root) in _sweepers and _sweepers[str(root)].is_alive():
            return
        thread = threading.Thread(target=_sweep_forever, args=(root,), name="lab-jobs-sweeper", daemon=True)
        _sweepers[str(root)] = thread
    thread.start()


def _sweep_forever(root: Path) -> None:
    while True:
        try:
            sweep_orphans(root)
        except Exception:  # a sweep must never end the thread
            logger.exception("the orphan sweep of %s failed", root)
        time.sleep(sweep_interval())
