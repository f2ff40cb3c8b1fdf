"""Start real Celery worker processes and wait until they answer (tests and benchmarks)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from config.celery_app import app as celery_app

REPO = Path(__file__).resolve().parent.parent
LAB_QUEUES = {"cpu", "gpu"}


def celery_app_for(queues: str) -> str:
    """The Celery app a worker on ``queues`` runs: a lab worker never loads Django (``workers.celery_app``)."""
    names = set(queues.split(","))
    if names <= LAB_QUEUES:
        return "workers.celery_app"
    if names & LAB_QUEUES:
        raise ValueError(f"a worker serves either the site's queue or the lab queues, not both: {queues}")
    return "config.celery_app"


def start_worker(
    *, queues: str, log_dir: Path, env: dict[str, str], timeout: float = 90, concurrency: int | None = 1
) -> subprocess.Popen:
    """``celery worker`` on ``queues`` as a separate process; returns once it answers a ping.

    ``concurrency=None``: the worker's own default (a lab worker: one slot per core or GPU share).
    ``env`` must name the broker (``CELERY_BROKER_URL``): a lab worker reads nothing else.
    """
    label = queues.replace(",", "-")
    name = f"test-{label}-{uuid.uuid4().hex[:6]}@{os.uname().nodename}"
    log_path = log_dir / f"{label}.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                celery_app_for(queues),
                "worker",
                "-Q",
                queues,
                "-n",
                name,
                *(["-c", str(concurrency)] if concurrency else []),
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"worker exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        if celery_app.control.ping(destination=[name], timeout=0.5):
            return process
    process.kill()
    raise RuntimeError(f"worker {name} did not answer within {timeout}s:\n{log_path.read_text()[-3000:]}")


def stop_worker(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
