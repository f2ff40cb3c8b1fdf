"""Helpers for the fault tests: lab workers a test starts (and kills) itself, and waiting on runs.

The workers are real ``celery worker -c 1`` processes on the test database and broker (as in
``tests.conftest.start_worker``), with a short heartbeat and a sandbox slot of their own, so
that the sandbox processes they leave behind, if any, can be told from everyone else's.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings

from config import worker_processes
from core.models import NotificationKind
from labs.models import Run, RunState
from notifications.models import Notification
from tests.conftest import test_database_url
from workers import sandbox

# For the linear-regression demo lab: least squares (every run scores the same, up to rounding),
# then two seconds of logged "training".
TRAINING_SOLUTION = """
import time
import torch

def train(data, run):
    x = torch.cat([data.x_train, torch.ones(len(data.x_train), 1)], dim=1)
    weights = torch.linalg.lstsq(x, data.y_train.unsqueeze(1)).solution
    for step in range(20):
        run.log(step, loss=1.0 / (step + 1))
        print("step", step)
        time.sleep(0.1)
    return weights

def predict(model, x):
    return (torch.cat([x, torch.ones(len(x), 1)], dim=1) @ model).squeeze(1)
"""

# Heartbeat life for the workers and the sweeper in these tests (the smallest allowed).
HEARTBEAT_SECONDS = 3
# A sandbox slot no other test uses: its uids and cgroups are these tests' own.
SLOT = 11  # tests/workers use 13, tests/security/hostile 12, bench 14


def start_lab_worker(log_dir: Path, jobs_dir: Path) -> subprocess.Popen:
    """A lab worker (queues cpu and gpu) that answers pings; its warm sandbox is starting."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": test_database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND,
        "LAB_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
        "LAB_WORKER_SLOT": str(SLOT),
        "LAB_JOBS_DIR": str(jobs_dir),
    }
    log_dir.mkdir(parents=True, exist_ok=True)
    return worker_processes.start_worker(queues="cpu,gpu", log_dir=log_dir, env=env)


def kill_hard(process: subprocess.Popen) -> list[int]:
    """SIGKILL a worker's main process and its pool process at once, as a crash or an OOM kill would.

    Nothing else is killed: the sandboxes must go by themselves (bwrap --die-with-parent).
    Returns the pids killed.
    """
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    pids = [int(pid) for pid in children] + [process.pid]
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    process.wait(timeout=10)
    return pids


def sandbox_processes(jobs_dir: Path) -> list[str]:
    """Live processes of the test slot's sandboxes: its uids (bwrap), or harnesses in its jobs folder (dev)."""
    base = int(os.environ.get("LAB_SANDBOX_UID_BASE", "61000")) + sandbox.UIDS_PER_SLOT * SLOT
    uids = range(base, base + sandbox.UIDS_PER_SLOT)
    out = subprocess.run(["ps", "-eo", "uid=,pid=,stat=,args="], capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        uid, pid, state, *args = line.split(None, 3)
        if state.startswith("Z"):
            continue  # a zombie holds nothing
        if int(uid) in uids or (args and f"--job {jobs_dir}" in args[0]):
            found.append(f"{pid} uid={uid} {state} {' '.join(args)}")
    return found


def assert_no_sandbox_left(jobs_dir: Path, timeout: float = 30) -> None:
    """The sandboxes of the test slot are all gone (after a kill they die with their worker, not at once)."""
    deadline = time.monotonic() + timeout
    while (left := sandbox_processes(jobs_dir)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert left == [], "sandbox processes outlived their worker:\n" + "\n".join(left)


def wait_for(what: str, condition: Callable[[], bool], *, timeout: float, logs: list[Path] = ()) -> None:
    """Poll ``condition`` until it holds; fail with the runs' states and the workers' logs if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    states = list(Run.objects.order_by("pk").values_list("pk", "state", "attempt", "reason"))
    tails = "\n".join(f"--- {log}\n{log.read_text()[-3000:]}" for log in logs if log.exists())
    pytest.fail(f"{what}: not within {timeout}s; runs {states}\n{tails}")


def training(run: Run) -> bool:
    """The run is running and has reported a point of its curve."""
    run.refresh_from_db()
    return run.state == RunState.RUNNING and bool(run.curve)


def final(run: Run) -> bool:
    run.refresh_from_db()
    return run.is_final


def finished_notifications(run: Run) -> list[Notification]:
    return list(Notification.objects.filter(kind=NotificationKind.RUN_FINISHED, url=run.get_absolute_url()))


def site_queue_drained(timeout: float = 60) -> None:
    """Return once the site worker has handled every event sent before this call.

    The site worker takes one message at a time, in order (``-c 1``, prefetch 1): when a no-op
    event sent now has been handled, so has everything queued before it.
    """
    from config.celery_app import app

    app.send_task("labs.tasks.run_event", args=[0, "barrier", {"kind": "barrier"}], queue="default").get(
        timeout=timeout
    )
