"""A sandbox killed from outside (an operator, the node's OOM killer) is the platform's failure.

The outside review found a host-side SIGKILL of a run's sandbox reported as "error: the program
was killed by SIGKILL" and charged to the learner. Nothing inside the sandbox can send the harness
SIGKILL (it is pid 1 of its own pid namespace), so a SIGKILL the supervisor did not send came
from outside: the run is retried, succeeds, and counts once in the learner's quota.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from core.models import User
from labs import services
from labs.demo_seed import demo_lab_seed
from labs.models import RunState
from labs.validation import runs_counted_today
from tests.reliability.lab_workers import (
    HEARTBEAT_SECONDS,
    SLOT,
    TRAINING_SOLUTION,
    assert_no_sandbox_left,
    final,
    start_lab_worker,
    training,
    wait_for,
)
from workers import control, sandbox

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def harness_of_the_running_job(jobs_dir: Path) -> int:
    """The host pid of the harness whose /job is a job folder (not an idle warm member's)."""
    base = int(os.environ.get("LAB_SANDBOX_UID_BASE", "61000")) + sandbox.UIDS_PER_SLOT * SLOT
    uids = range(base, base + sandbox.UIDS_PER_SLOT)
    jobs = {(p.stat().st_dev, p.stat().st_ino) for p in jobs_dir.glob("job-*")}
    out = subprocess.run(["ps", "-ww", "-eo", "uid=,pid=,args="], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        uid, pid, args = line.split(None, 2)
        if int(uid) in uids and "/opt/labrunner/harness.py" in args and "bwrap" not in args:
            job = os.stat(f"/proc/{pid}/root/job")
            if (job.st_dev, job.st_ino) in jobs:
                return int(pid)
    raise AssertionError(f"no harness of a running job among:\n{out}")


def test_a_sandbox_killed_from_outside_is_retried_and_not_charged(
    learner: User, site_worker: subprocess.Popen, tmp_path: Path, settings: object
) -> None:
    if sandbox.select_backend().name != sandbox.BWRAP_NAME:
        pytest.skip("the development sandbox cannot tell an outside kill from the learner's own")
    settings.LAB_HEARTBEAT_SECONDS = HEARTBEAT_SECONDS
    control.redis_client(django_settings.CELERY_BROKER_URL).delete("cpu", "gpu")
    lab = demo_lab_seed("linear-regression")
    jobs_dir = tmp_path / "jobs"
    jobs_dir.mkdir()
    log = tmp_path / "worker" / "cpu-gpu.log"
    worker = start_lab_worker(log.parent, jobs_dir)
    try:
        run = services.submission_create(learner=learner, lab=lab, source="api", code=TRAINING_SOLUTION)
        wait_for("the run trains", lambda: training(run), timeout=180, logs=[log])
        os.kill(harness_of_the_running_job(jobs_dir), signal.SIGKILL)  # as an operator or the OOM killer would
        wait_for("the run ends", lambda: final(run), timeout=180, logs=[log])
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    assert (run.state, run.attempt) == (RunState.SUCCEEDED, 2), (run.state, run.reason, run.log[-2000:])
    assert run.score is not None
    assert runs_counted_today(learner_id=learner.pk, lab=lab) == 1
    assert_no_sandbox_left(jobs_dir)
    assert [p.name for p in jobs_dir.iterdir() if not p.name.startswith("warm-")] == []
