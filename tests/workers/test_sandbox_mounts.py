"""The order of the sandbox's mounts: later mounts cover earlier ones, so the private /tmp must
come before the runtime binds, or a checkout living under the host's /tmp (a fresh clone in a
temporary folder) would hide its own virtualenv from the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from workers import sandbox
from workers.jobspec import Limits


def _mount_targets(argv: list[str]) -> list[tuple[str, str]]:
    """(option, target) for every mount option, in order."""
    two_args = {"--ro-bind", "--bind", "--ro-bind-try", "--dev-bind", "--symlink", "--ro-bind-data"}
    one_arg = {"--tmpfs", "--proc", "--dev"}
    mounts, i = [], 0
    while i < len(argv):
        if argv[i] in two_args:
            mounts.append((argv[i], argv[i + 2]))
            i += 3
        elif argv[i] in one_arg:
            mounts.append((argv[i], argv[i + 1]))
            i += 2
        else:
            i += 1
    return mounts


def test_runtime_under_the_hosts_tmp_is_mounted_over_the_private_tmp(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    venv = "/tmp/fresh-clone/.venv"
    monkeypatch.setattr(sandbox, "_python_roots", lambda: [venv])
    backend = sandbox.BwrapBackend(bwrap="/usr/bin/bwrap")
    limits = Limits(wall_seconds=10, memory_mb=256, processes=16, output_bytes=10_000, disk_mb=16)
    mounts = _mount_targets(backend._bwrap_argv(tmp_path, limits, "cpu", 3, {}))
    private_tmp = mounts.index(("--tmpfs", "/tmp"))
    assert mounts.index(("--ro-bind", venv)) > private_tmp
    assert mounts.index(("--bind", "/job")) > private_tmp
    assert mounts.index(("--tmpfs", "/dev/shm")) > mounts.index(("--dev", "/dev"))
