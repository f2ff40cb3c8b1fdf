"""Celery tasks of the ``gpu`` and ``cpu`` queues: run one lab job in the sandbox.

No Django model and no database here: a lab worker talks only to the broker. It reports
what happens as events (``labs.tasks.run_event`` on the ``default`` queue), and the
site, which holds the hidden labels, turns the predictions into a score.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import os
import socket
import time
from typing import Any

import redis
from billiard.process import current_process
from celery import Celery, Task, shared_task
from celery.signals import celeryd_init, worker_process_init, worker_process_shutdown
from kombu.exceptions import OperationalError

from workers import control
from workers.jobspec import JobSpec, JobSpecError
from workers.runner import JobResult, execute_job
from workers.sandbox import gpu_of_slot, lab_slots
from workers.warm import prestart_default_pool, shutdown_default_pool

EVENT_TASK = "labs.tasks.run_event"
# The runner enforces each lab's own wall limit; Celery's limit is only a backstop.
HARD_LIMIT_SECONDS = int(os.environ.get("LAB_MAX_WALL_SECONDS", "3600")) + 600


LAB_QUEUES = {"cpu", "gpu"}

logger = logging.getLogger(__name__)

# A run's events are the only copy of its outcome, so a worker waits out a broker restart or
# outage of up to two minutes before giving up on one, rather than drop a result that may
# have cost an hour. Celery's publish retry policy cannot stretch that far (kombu gives up
# reconnecting after the broker connection timeout, 4 s), hence the loop in _send_event.
# Progress is best effort (the finished event carries the log's tail) and waits under a
# second: the run's supervisor sends it and must go on watching the sandbox.
RESULT_PATIENCE_SECONDS = 120
PROGRESS_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}


def _send_event(app: Celery, args: list[Any], *, patience: float) -> None:
    """Send one event to the site, trying again for ``patience`` seconds while the broker is away."""
    deadline = time.monotonic() + patience
    while True:
        try:
            app.send_task(EVENT_TASK, args=args, queue="default")
            return
        except (OperationalError, redis.ConnectionError) as exc:
            if time.monotonic() >= deadline:
                raise
            logger.warning("could not send the %s event of run %s (%s); trying again", args[2]["kind"], args[0], exc)
            time.sleep(1)


@celeryd_init.connect
def _remember_queues(sender: str, instance: object, conf: object, options: dict, **kwargs: object) -> None:
    # Runs in the worker's main process before its pool forks: the pool processes inherit this.
    queues = options.get("queues") or []
    names = set(queues.split(",") if isinstance(queues, str) else queues)
    os.environ["LAB_WORKER"] = "1" if names & LAB_QUEUES else "0"
    if names & LAB_QUEUES:  # a pool sized to the node: one slot per core, or per share of a GPU
        slots = options.get("concurrency") or lab_slots()
        conf.worker_concurrency = slots
        os.environ["LAB_WORKER_SLOTS"] = str(slots)


@worker_process_init.connect
def _warm_up(**kwargs: object) -> None:
    """A lab worker's pool process takes its GPU share and starts its warm sandbox now."""
    if os.environ.get("LAB_WORKER") == "1":
        gpu = gpu_of_slot(getattr(current_process(), "index", 0) or 0)
        if gpu is not None:
            os.environ["CUDA_VISIBLE_DEVICES"], fraction = gpu[0], gpu[1]
            os.environ["LAB_GPU_MEMORY_FRACTION"] = f"{fraction:.4f}"
        prestart_default_pool()


@worker_process_shutdown.connect
def _cool_down(**kwargs: object) -> None:
    shutdown_default_pool()


def _has_cuda() -> bool:
    # Asking torch would initialise CUDA in this long-lived process; the device files tell enough.
    return os.path.exists("/dev/nvidia0") or bool(os.environ.get("LAB_FORCE_CUDA"))


def _empty_result(spec: JobSpec) -> dict[str, Any]:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {
        "predictions": None,
        "log_tail": "",
        "torch_version": "",
        "device": spec.device,
        "sandbox": "",
        "worker_host": socket.gethostname(),
        "started_at": now,
        "finished_at": now,
        "duration_s": 0.0,
    }


@shared_task(
    name="workers.tasks.run_lab_job",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=HARD_LIMIT_SECONDS,
    soft_time_limit=HARD_LIMIT_SECONDS - 60,
)
def run_lab_job(self: Task, spec_data: dict[str, Any]) -> str:
    def report(run_id: int, token: str, event: dict[str, Any]) -> None:
        if event["kind"] == "progress":
            self.app.send_task(
                EVENT_TASK, args=[run_id, token, event], queue="default", retry_policy=PROGRESS_PUBLISH_RETRY_POLICY
            )
        else:
            _send_event(self.app, [run_id, token, event], patience=RESULT_PATIENCE_SECONDS)

    try:
        spec = JobSpec.from_dict(spec_data)
    except JobSpecError as exc:
        if isinstance(spec_data, dict) and "run_id" in spec_data and "token" in spec_data:
            failed = {"state": "failed", "reason": f"platform: invalid job message: {exc}"}
            report(spec_data["run_id"], spec_data["token"], {"kind": "finished", "result": failed})
        return "invalid"

    client = control.redis_client(self.app.conf.broker_url)
    worker = self.request.hostname or socket.gethostname()
    if not control.claim(client, run_id=spec.run_id, token=spec.token, worker=worker):
        # This attempt was taken before. A duplicate of a message whose worker is still at it
        # (or has the result) changes nothing; one whose worker died is reported lost.
        status = control.attempt_status(client, run_id=spec.run_id, token=spec.token)
        if status in (control.Attempt.ALIVE, control.Attempt.FINISHED):
            return "duplicate"
        previous = control.claimed_by(client, run_id=spec.run_id, token=spec.token)
        report(spec.run_id, spec.token, {"kind": "lost", "previous_worker": previous})
        return "lost"
    if spec.device == "cuda" and not _has_cuda():
        spec = dataclasses.replace(spec, device="cpu")

    def cancelled() -> bool:
        return control.cancel_requested(client, run_id=spec.run_id, token=spec.token)

    batches = itertools.count(1)
    with control.KeepAlive(client, run_id=spec.run_id, token=spec.token, worker=worker) as heartbeat:
        report(spec.run_id, spec.token, {"kind": "claimed", "worker": worker, "device": spec.device})
        try:
            result = execute_job(
                spec,
                # Numbered, so that the site applies a batch delivered twice only once.
                on_progress=lambda events: report(
                    spec.run_id, spec.token, {"kind": "progress", "seq": next(batches), "events": events}
                ),
                should_cancel=cancelled,
            )
        except Exception as exc:  # e.g. a forced sandbox missing here: the run still ends, once
            logger.exception("run %s could not be run on this worker", spec.run_id)
            failed = {"state": "failed", "reason": f"platform: the lab worker failed: {type(exc).__name__}: {exc}"}
            result = JobResult.from_dict({**failed, **_empty_result(spec)})
        # Marked before it is sent: from now on the site waits for this result, never retries the run.
        heartbeat.finished()
        report(spec.run_id, spec.token, {"kind": "finished", "result": result.to_dict()})
    return result.state
