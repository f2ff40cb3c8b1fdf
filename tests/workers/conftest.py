"""Fixtures for the lab runner tests: a tiny real dataset, isolated folders, a job helper.

No Django here: ``workers`` runs on GPU nodes without it. Run with
``python -m pytest tests/workers -p no:django --confcutdir tests/workers`` or plainly with
the project's pytest configuration.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from workers import cgroups, sandbox, warm
from workers.events import AttemptResult
from workers.jobspec import DatasetRef, JobSpec, Limits
from workers.runner import execute_job

# A slot of its own, so that the stale-sandbox sweep never touches a real worker's sandboxes.
TEST_SLOT = "13"
TEST_ROWS = 360


def bwrap_unavailable_reason() -> str | None:
    if os.geteuid() != 0:
        return "needs root"
    if shutil.which("bwrap") is None:
        return "needs bubblewrap"
    return sandbox.BwrapBackend().unavailable_reason()


_BWRAP_REASON = bwrap_unavailable_reason()
needs_bwrap = pytest.mark.skipif(_BWRAP_REASON is not None, reason=f"bwrap sandbox unavailable: {_BWRAP_REASON}")


@pytest.fixture(scope="session")
def lab_dirs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """Job and cache folders under pytest's 0700 temporary folder.

    That parent is not traversable by the sandbox uid, which is exactly the case the launcher's
    "expose" step exists for.
    """
    base = tmp_path_factory.mktemp("lab")
    dirs = {"jobs": base / "jobs", "cache": base / "cache", "source": base / "source"}
    for path in dirs.values():
        path.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAB_JOBS_DIR", str(dirs["jobs"]))
        patch.setenv("LAB_CACHE_DIR", str(dirs["cache"]))
        patch.setenv("LAB_WORKER_SLOT", TEST_SLOT)
        patch.setenv("LAB_WARM_POOL", "2")  # two warm-ups overlap the tests on 2 cores
        patch.delenv("LAB_SANDBOX", raising=False)
        yield dirs
        warm.shutdown_default_pool()


@pytest.fixture(scope="session", autouse=True)
def warm_pool_early(lab_dirs: dict[str, Path]) -> None:
    """Start the warm pool before the first test, so it warms while the unit tests run."""
    if _BWRAP_REASON is None:
        warm.prestart_default_pool()


@pytest.fixture(scope="session")
def dataset(lab_dirs: dict[str, Path]) -> DatasetRef:
    """Two Gaussian blobs, 4 features, 2 classes; test labels are not in the file."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(240 + 60 + TEST_ROWS, 4)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64)
    path = lab_dirs["source"] / "blobs.npz"
    np.savez(
        path,
        x_train=x[:240],
        y_train=y[:240],
        x_val=x[240:300],
        y_val=y[240:300],
        x_test=x[300:],
        num_classes=np.array(2),
        meta_json=np.array(json.dumps({"task": "blobs", "metric": "accuracy"})),
    )
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    return DatasetRef(sha256=sha, url=path.as_uri())


DEFAULT_LIMITS = Limits(wall_seconds=10, memory_mb=1024, processes=32, output_bytes=16 * 1024, disk_mb=64)


@dataclass
class Execution:
    result: AttemptResult
    batches: list[list[dict[str, Any]]] = field(default_factory=list)
    batch_times: list[float] = field(default_factory=list)

    @property
    def events(self) -> list[dict[str, Any]]:
        return [event for batch in self.batches for event in batch]

    @property
    def metrics(self) -> list[dict[str, Any]]:
        return [event for event in self.events if event["kind"] == "metrics"]

    @property
    def output(self) -> str:
        return "".join(event["text"] for event in self.events if event["kind"] == "output")


_run_ids = iter(range(1000, 10**6))


def make_spec(code: str, dataset: DatasetRef, **limits: int) -> JobSpec:
    return JobSpec(
        run_id=next(_run_ids),
        token="t0ken-test",
        code=code,
        params={"lr": 0.1, "epochs": 30},
        seed=123,
        device="cpu",
        limits=Limits(**{**DEFAULT_LIMITS.to_dict(), **limits}),
        dataset=dataset,
    )


@pytest.fixture
def run_lab(dataset: DatasetRef) -> Callable[..., Execution]:
    """Run learner code for real through ``execute_job`` and collect everything it reports."""

    def run(code: str, *, should_cancel: Callable[[Execution], bool] | None = None, **limits: int) -> Execution:
        execution = Execution(result=None)  # type: ignore[arg-type]
        started = time.monotonic()

        def on_progress(batch: list[dict[str, Any]]) -> None:
            execution.batches.append(batch)
            execution.batch_times.append(time.monotonic() - started)

        def cancel() -> bool:
            return bool(should_cancel and should_cancel(execution))

        execution.result = execute_job(
            make_spec(code, dataset, **limits), on_progress=on_progress, should_cancel=cancel
        )
        return execution

    return run


def sandbox_uids() -> range:
    base = int(os.environ.get("LAB_SANDBOX_UID_BASE", "61000")) + sandbox.UIDS_PER_SLOT * int(TEST_SLOT)
    return range(base, base + sandbox.UIDS_PER_SLOT)


def _run_cgroup_of(pid: str) -> str | None:
    """The name of the labrunner cgroup a process is in (pids controller, or v2), if any."""
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers in ("pids", "") and "/labrunner/" in path:
            return path.rsplit("/", 1)[-1]
    return None


def leftover_processes(allowed_cgroups: set[str]) -> list[str]:
    """Live processes under the test slot's uids that this test process must not have left.

    A process of ours is fine only inside an allowed cgroup (an idle warm member). Processes in
    run cgroups of *other* worker processes (another test session sharing the machine) are not
    ours; a sandbox-uid process outside every run cgroup would have escaped, and is reported.
    """
    ours = cgroups.owned_prefix(int(TEST_SLOT))
    out = subprocess.run(["ps", "-eo", "uid=,pid=,stat=,args="], capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        uid, pid, state, *args = line.split(None, 3)
        if int(uid) not in sandbox_uids() or state.startswith("Z"):  # zombies hold nothing
            continue
        name = _run_cgroup_of(pid)
        if name is None or (name.startswith(ours) and name not in allowed_cgroups):
            found.append(f"{pid} {state} cgroup={name} {' '.join(args)}")
    return found


def own_run_cgroups() -> set[str]:
    """Run cgroups this test process owns right now (memory and pids hierarchies)."""
    layout = cgroups.detect_layout()
    ours = cgroups.owned_prefix(int(TEST_SLOT))
    names: set[str] = set()
    for root in {layout.memory_root, layout.pids_root}:
        parent = layout.parent(root)
        if parent.is_dir():
            names |= {p.name for p in parent.iterdir() if p.is_dir() and p.name.startswith(ours)}
    return names
