"""The lab worker image's entrypoint: it refuses the site's credentials, and on cgroup v2 with a
cgroup namespace it moves the container's processes into a leaf and hands the memory and pids
controllers to the run cgroups (run here in a cgroup namespace of a test cgroup of its own)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.conftest import REPO

ENTRYPOINT = REPO / "deploy" / "lab-worker-entrypoint.sh"


@pytest.mark.parametrize("variable", ["DATABASE_URL", "SECRET_KEY"])
def test_the_entrypoint_refuses_the_sites_credentials(variable: str) -> None:
    done = subprocess.run(
        ["sh", str(ENTRYPOINT), "true"], env={"PATH": os.environ["PATH"], variable: "x"}, capture_output=True, text=True
    )
    assert done.returncode == 64
    assert variable in done.stderr


def test_the_entrypoint_runs_its_command_and_leaves_cgroup_v1_alone(tmp_path: Path) -> None:
    done = subprocess.run(
        ["sh", str(ENTRYPOINT), "echo", "started"],
        env={"PATH": os.environ["PATH"], "LAB_CGROUP_ROOT": str(tmp_path)},  # no cgroup.controllers
        capture_output=True,
        text=True,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "started\n", "")
    assert list(tmp_path.iterdir()) == []


def unified_mount() -> Path | None:
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields, _, tail = line.partition(" - ")
        if tail.split()[0] == "cgroup2":
            return Path(fields.split()[4])
    return None


@pytest.fixture
def test_cgroup() -> Iterator[Path]:
    """An empty cgroup v2 of this test, below this process's own."""
    mount = unified_mount()
    if os.geteuid() != 0 or mount is None or shutil.which("unshare") is None:
        pytest.skip("needs root, cgroup v2 and unshare")
    own = next(line[3:] for line in Path("/proc/self/cgroup").read_text().splitlines() if line.startswith("0::"))
    cgroup = mount / own.lstrip("/") / f"entrypoint-test-{os.getpid()}"
    try:
        cgroup.mkdir()
    except OSError as error:
        pytest.skip(f"cannot make a test cgroup: {error}")
    yield cgroup
    for leaf in (cgroup / "supervisor", cgroup):
        if leaf.exists():
            leaf.rmdir()


def test_the_entrypoint_nests_the_container_in_a_leaf_and_delegates_memory_and_pids(test_cgroup: Path) -> None:
    # As a container starts: its process in its own cgroup, a cgroup namespace rooted there,
    # /sys/fs/cgroup mounted from inside it (here at a scratch path of a private mount namespace).
    script = (
        f"echo $$ > {test_cgroup}/cgroup.procs && exec unshare --cgroup sh -c '"
        "mkdir -p /tmp/entrypoint-cgroup && mount -t cgroup2 none /tmp/entrypoint-cgroup && "
        f'LAB_CGROUP_ROOT=/tmp/entrypoint-cgroup exec sh {ENTRYPOINT} sh -c "grep ^0:: /proc/self/cgroup"\''
    )
    # As on a lab node: no database credentials (CI's test process has some; the entrypoint refuses them).
    environment = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    done = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        capture_output=True,
        text=True,
        env=environment,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "0::/supervisor\n"  # the command runs in the leaf
    assert (test_cgroup / "cgroup.procs").read_text() == ""  # nothing left where controllers go down
    available = set((test_cgroup / "cgroup.controllers").read_text().split())
    if {"memory", "pids"} <= available:
        assert {"memory", "pids"} <= set((test_cgroup / "cgroup.subtree_control").read_text().split())
    else:  # a hybrid host (cgroup v1 holds memory and pids): the entrypoint says so and goes on
        assert "cannot hand the memory and pids controllers" in done.stderr
