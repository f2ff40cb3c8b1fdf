"""cgroup layout detection (v1, v2, hybrid) and the v2 file protocol on a fake hierarchy."""

from __future__ import annotations

from pathlib import Path

from workers.cgroups import CgroupLayout, JobCgroup, detect_layout

V1 = """\
30 25 0:26 / /sys/fs/cgroup/memory rw,relatime shared:10 - cgroup cgroup rw,memory
31 25 0:27 / /sys/fs/cgroup/pids rw,relatime shared:11 - cgroup cgroup rw,pids
"""


def test_v1_layout(tmp_path: Path) -> None:
    (tmp_path / "mountinfo").write_text(V1)
    assert detect_layout(tmp_path / "mountinfo") == CgroupLayout(
        1, Path("/sys/fs/cgroup/memory"), Path("/sys/fs/cgroup/pids")
    )


def test_v2_with_controllers_wins_and_hybrid_without_falls_back(tmp_path: Path) -> None:
    unified = tmp_path / "unified"
    unified.mkdir()
    (tmp_path / "mountinfo").write_text(V1 + f"40 25 0:30 / {unified} rw - cgroup2 cgroup2 rw\n")
    (unified / "cgroup.controllers").write_text("hugetlb\n")
    assert detect_layout(tmp_path / "mountinfo").version == 1
    (unified / "cgroup.controllers").write_text("cpu io memory pids\n")
    assert detect_layout(tmp_path / "mountinfo") == CgroupLayout(2, unified, unified)


def test_no_usable_controllers(tmp_path: Path) -> None:
    (tmp_path / "mountinfo").write_text("22 1 0:20 / /proc rw - proc proc rw\n")
    assert detect_layout(tmp_path / "mountinfo") is None


def test_v2_files_written_and_read(tmp_path: Path) -> None:
    # A fake unified hierarchy: plain files stand in for the kernel's.
    (tmp_path / "cgroup.subtree_control").write_text("")
    layout = CgroupLayout(2, tmp_path, tmp_path)
    (tmp_path / "labrunner").mkdir()
    (tmp_path / "labrunner" / "cgroup.subtree_control").write_text("")
    cgroup = JobCgroup.create(layout, "slot1-run7", memory_bytes=512 * 2**20, pids_max=40)
    directory = tmp_path / "labrunner" / "slot1-run7"
    assert cgroup.dirs == [directory]
    assert (tmp_path / "cgroup.subtree_control").read_text() == "+memory +pids"
    assert (directory / "memory.max").read_text() == str(512 * 2**20)
    assert (directory / "memory.swap.max").read_text() == "0"
    assert (directory / "memory.oom.group").read_text() == "1"
    assert (directory / "pids.max").read_text() == "40"
    (directory / "memory.events").write_text("low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\n")
    (directory / "pids.events").write_text("max 3\n")
    (directory / "cgroup.procs").write_text("")
    assert cgroup.oom_kills() == 1 and cgroup.pids_limit_hits() == 3
    assert cgroup.kill_all(timeout=0.1)
    assert cgroup.procs_files == [directory / "cgroup.procs"]


def test_only_cgroups_of_dead_workers_are_swept() -> None:
    import os
    import subprocess

    from workers.cgroups import owned_prefix, owner_alive, owner_tag

    dead = subprocess.Popen(["true"])
    dead.wait()
    namespace = owner_tag().split("-")[0]
    assert owned_prefix(3) == f"slot3-{namespace}-p{os.getpid()}-"
    assert owner_alive(f"{owned_prefix(3)}run7-abc")  # ours
    assert owner_alive(f"slot3-{namespace}-p{os.getppid()}-warm-1")  # a live worker's
    assert not owner_alive(f"slot3-{namespace}-p{dead.pid}-run9-abc")  # its worker is gone
    assert owner_alive(f"slot3-n1-p{dead.pid}-run9-abc")  # another pid namespace: not ours to judge
    assert owner_alive("somebody-elses-cgroup")  # not named by us: never touched
