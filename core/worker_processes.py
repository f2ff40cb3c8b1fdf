"""Start real Celery worker processes and wait until they answer (tests and benchmarks)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from core.celery import app as celery_app

REPO = Path(__file__).resolve().parent.parent


def start_worker(
    *, queues: str, log_dir: Path, env: dict[str, str], timeout: float = 90, concurrency: int | None = 1
) -> subprocess.Popen:
    """``celery worker`` on ``queues`` as a separate process; returns once it answers a ping.

    ``concurrency=None``: the worker's own default (a lab worker: one slot per core or GPU share).
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
                "core",
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
