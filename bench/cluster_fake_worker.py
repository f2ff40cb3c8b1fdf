"""A lab worker whose job body is fake, for ``bench.cluster_sim``: one GPU node with one slot.

    celery -A bench.cluster_fake_worker worker -Q cpu,gpu -c 1

Everything around the job is the real lab worker: this is ``workers.celery_app``'s app and its task
``workers.tasks.run_lab_job`` (``RUN_TASK``, queues cpu and gpu) as it is, so the JobSpec is parsed,
the attempt claimed and its heartbeat kept in the broker's Redis, and the claimed, progress and
finished events sent through the same helpers, in the same order, as on a real node. Only the job's
body, ``workers.runner.execute_job`` (the sandboxed training run), is replaced by ``fake_job``: no
sandbox and no torch. It fetches the lab's dataset through the worker's real cache, fits the training
data by least squares with numpy (cached per dataset: a run costs next to nothing), sends one
progress batch per ten epochs of the run's ``epochs`` parameter (ten metric points and a line of
output each: the lab's default, 20 epochs, gives two, what a short real run sends) and returns one
prediction per test row, which the site scores.
"""

from __future__ import annotations

import functools
import os
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

# No warm sandbox (it would start torch in every slot), and no probe of bwrap: no job runs in one.
os.environ["LAB_WARM_POOL"] = "0"
os.environ["LAB_SANDBOX"] = "dev"

from workers import runner, tasks
from workers.celery_app import app
from workers.dataset_cache import fetch_dataset
from workers.events import AttemptResult
from workers.jobspec import JobSpec

POINTS_PER_BATCH = 10  # metric points (epochs) per progress batch
SANDBOX = "bench-fake (no sandbox)"


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@functools.cache
def _predictions(dataset: Path) -> tuple[float, ...]:
    """Least squares on the training data (with a bias column), one prediction per test row."""
    with np.load(dataset, allow_pickle=False) as arrays:
        x_train, y_train, x_test = (arrays[name].astype(np.float64) for name in ("x_train", "y_train", "x_test"))
    weights, *_ = np.linalg.lstsq(_with_bias(x_train), y_train, rcond=None)
    return tuple(float(value) for value in _with_bias(x_test) @ weights)


def _with_bias(x: np.ndarray) -> np.ndarray:
    return np.hstack([x, np.ones((len(x), 1))])


def _batch(first_step: int, started: float) -> list[dict[str, Any]]:
    points: list[dict[str, Any]] = [
        {
            "kind": "metrics",
            "step": step,
            "metrics": {"loss": round(1.0 / (step + 1), 4), "val_r2": round(0.98 - 0.5 / (step + 1), 4)},
            "t": round(time.monotonic() - started, 3),
        }
        for step in range(first_step, first_step + POINTS_PER_BATCH)
    ]
    return [*points, {"kind": "output", "text": f"epoch {first_step + POINTS_PER_BATCH - 1} done\n"}]


def fake_job(
    spec: JobSpec,
    *,
    on_progress: Callable[[list[dict]], None],
    should_cancel: Callable[[], bool],
    cache_dir: Path | None = None,
) -> AttemptResult:
    """``execute_job``'s stand-in: the same signature and the same kind of result, at once."""
    started_at, started = _utc_now(), time.monotonic()
    common = {"device": spec.device, "sandbox": SANDBOX, "worker_host": socket.gethostname()}
    if should_cancel():  # the real supervisor polls the cancel flag too
        return AttemptResult(state="cancelled", reason=runner.REASON_CANCELLED, started_at=started_at, **common)
    predictions = list(_predictions(fetch_dataset(spec.dataset, cache_dir)))
    epochs = spec.params.get("epochs", 20)
    for first_step in range(0, epochs, POINTS_PER_BATCH):
        on_progress(_batch(first_step, started))
    return AttemptResult(
        state="succeeded",
        reason=None,
        predictions=predictions,
        log_tail="fitted by least squares (bench.cluster_fake_worker)\n",
        torch_version="none",
        started_at=started_at,
        finished_at=_utc_now(),
        duration_s=round(time.monotonic() - started, 3),
        warm_start=True,
        **common,
    )


# The one replacement. Fail loudly if run_lab_job stops calling execute_job by this name: a stale
# patch would silently run real sandboxed jobs.
if getattr(tasks, "execute_job", None) is not runner.execute_job:
    raise RuntimeError("workers.tasks no longer calls runner.execute_job by that name: update this module")
tasks.execute_job = fake_job

__all__ = ["app", "fake_job"]
