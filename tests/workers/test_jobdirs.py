"""Job folders: removed whatever shape learner code gave them; orphans of dead workers swept.

Finding 2 of the outside review: a directory chain a few thousand levels deep in ``/job`` made
``shutil.rmtree`` raise ``RecursionError``, the job task crashed, and the folders stayed on the
worker's disk for good.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workers import jobdirs


def _deep_chain(top: Path, depth: int) -> None:
    """``top/d/d/d/...`` ``depth`` levels deep, each with a file (paths far beyond PATH_MAX)."""
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(depth):
            os.mkdir("d", dir_fd=fd)
            file_fd = os.open("f", os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=fd)
            os.close(file_fd)
            child = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = child
    finally:
        os.close(fd)


def test_a_chain_thousands_of_levels_deep_is_removed(tmp_path: Path) -> None:
    job = tmp_path / "job-deep"
    job.mkdir()
    _deep_chain(job, 3000)
    with pytest.raises(RecursionError):  # what the supervisor used before
        shutil.rmtree(job)
    assert jobdirs.remove_tree(job)
    assert list(tmp_path.iterdir()) == []


def test_every_kind_of_entry_is_removed_and_nothing_outside_is_touched(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    precious = outside / "precious.txt"
    precious.write_text("keep me")
    job = tmp_path / "job-x"
    (job / "a" / "b").mkdir(parents=True)
    for i in range(5000):
        (job / "a" / f"f{i}").write_bytes(b"")
    os.symlink(outside, job / "link-to-dir")
    os.symlink(precious, job / "a" / "link-to-file")
    os.symlink("/", job / "a" / "b" / "root")
    os.link(precious, job / "hardlink")
    os.mkfifo(job / "fifo")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(job / "a" / "sock"))
    server.close()
    (job / "a" / "b" / "locked").mkdir()
    (job / "a" / "b" / "locked" / "secret").write_text("x")
    os.chmod(job / "a" / "b" / "locked", 0)
    os.chmod(job / "a" / "b", 0o500)  # no write: its entries cannot be removed until it is made so
    (job / "unreadable").write_text("x")
    os.chmod(job / "unreadable", 0)
    assert jobdirs.remove_tree(job)
    assert not job.exists()
    assert precious.read_text() == "keep me" and outside.is_dir()
    assert [p.name for p in tmp_path.iterdir()] == ["outside"]


def test_a_symlink_or_a_file_in_the_folder_s_place_is_unlinked_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir()
    (target / "keep").write_text("x")
    os.symlink(target, tmp_path / "job-link")
    assert jobdirs.remove_tree(tmp_path / "job-link")
    assert (target / "keep").read_text() == "x"
    assert jobdirs.remove_tree(tmp_path / "does-not-exist")


names = st.text(alphabet="abc.-_ \n", min_size=1, max_size=8).filter(lambda n: n not in (".", ".."))
ops = st.lists(
    st.tuples(st.sampled_from(["dir", "file", "symlink", "fifo", "chmod0", "hardlink"]), st.integers(0, 50), names),
    max_size=60,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops)
def test_any_folder_shape_is_removed(tmp_path_factory: pytest.TempPathFactory, plan: list) -> None:
    base = tmp_path_factory.mktemp("shape")
    outside = base / "outside"
    outside.write_text("keep")
    job = base / "job-h"
    job.mkdir()
    dirs = [job]
    for kind, pick, name in plan:
        parent = dirs[pick % len(dirs)]
        path = parent / name
        if os.path.lexists(path) or not os.access(parent, os.W_OK | os.X_OK):
            continue
        if kind == "dir":
            path.mkdir()
            dirs.append(path)
        elif kind == "file":
            path.write_bytes(b"x" * pick)
        elif kind == "symlink":
            os.symlink(dirs[pick % len(dirs)] if pick % 2 else outside, path)
        elif kind == "fifo":
            os.mkfifo(path)
        elif kind == "hardlink":
            os.link(outside, path)
        else:
            os.chmod(parent, 0)
    assert jobdirs.remove_tree(job)
    assert sorted(p.name for p in base.iterdir()) == ["outside"] and outside.read_text() == "keep"


_HOLDER = """
import sys, time
from pathlib import Path
from workers import jobdirs
path = jobdirs.create(Path(sys.argv[1]))
(path / "model.pt").write_bytes(b"x" * 1000)
print(path.name, flush=True)
time.sleep(float(sys.argv[2]))
"""


def _holder(root: Path, seconds: float) -> tuple[subprocess.Popen, Path]:
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(root), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    return process, root / process.stdout.readline().strip()


def test_the_sweep_removes_the_folders_of_dead_workers_only(tmp_path: Path) -> None:
    dead, dead_folder = _holder(tmp_path, 0)
    dead.wait()
    killed, killed_folder = _holder(tmp_path, 60)
    killed.kill()  # SIGKILL mid-run: its lock goes with it
    killed.wait()
    alive, alive_folder = _holder(tmp_path, 60)
    ours = jobdirs.create(tmp_path)
    legacy = tmp_path / "1000-token"  # a run folder of an older worker: nobody holds it
    legacy.mkdir()
    fresh = tmp_path / f"{jobdirs.NEW_PREFIX}0123"  # being created right now by someone
    fresh.mkdir()
    try:
        assert jobdirs.sweep_orphans(tmp_path) == 3
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive_folder.name, ours.name, fresh.name])
    finally:
        alive.kill()
        alive.wait()
    assert jobdirs.sweep_orphans(tmp_path) == 1  # now the other one's too
    assert jobdirs.release(ours)
    assert sorted(p.name for p in tmp_path.iterdir()) == [fresh.name]
    assert not dead_folder.exists() and not killed_folder.exists()


def test_the_sweeper_runs_at_start_and_periodically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAB_JOBS_SWEEP_SECONDS", "0.2")
    before, _ = _holder(tmp_path, 0)
    before.wait()
    jobdirs.start_sweeper(tmp_path)
    later, later_folder = _holder(tmp_path, 0)  # orphaned after the first sweep
    later.wait()
    deadline = time.monotonic() + 10
    while any(tmp_path.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(tmp_path.iterdir()) == [] and not later_folder.exists()


def test_a_folder_keeps_its_lock_when_renamed(tmp_path: Path) -> None:
    warm = jobdirs.create(tmp_path, jobdirs.WARM_PREFIX)
    job = warm.with_name(warm.name.replace(jobdirs.WARM_PREFIX, jobdirs.JOB_PREFIX))
    jobdirs.rename(warm, job)
    assert jobdirs.sweep_orphans(tmp_path) == 0  # held, under its new name
    code = (
        f"from pathlib import Path; from workers import jobdirs; print(jobdirs.sweep_orphans(Path({str(tmp_path)!r})))"
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert other.stdout.strip() == "0" and job.is_dir()  # another process sees it held
    assert jobdirs.release(job) and not job.exists()
    assert stat.S_ISDIR(os.lstat(tmp_path).st_mode)
