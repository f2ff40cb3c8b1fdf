"""Celery tasks of the ``gpu`` and ``cpu`` queues: run one lab job in the sandbox.

Registered on the lab workers' own app (``workers.celery_app``): no Django model and no
database here, a lab worker talks only to the broker. It reports what happens as events
(``workers.events``: ``labs.tasks.run_event`` on the site's ``default`` queue), and the site,
which holds the hidden labels, turns the predictions into a score.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import os
import socket
import time
from datetime import UTC, datetime
from typing import Any

import redis
from billiard.process import current_process
from celery import Celery, Task
from celery.signals import celeryd_init, worker_process_init, worker_process_shutdown, worker_ready, worker_shutdown
from kombu.exceptions import OperationalError

from workers import control, gpu_stats, gpus, runtime
from workers.celery_app import LAB_QUEUES, WALL_MARGIN_SECONDS, app, lab_max_wall_seconds
from workers.events import EVENT_QUEUE, EVENT_TASK, AttemptResult, Claimed, Event, Finished, Lost, ProgressBatch
from workers.jobspec import RUN_TASK, JobSpec, JobSpecError
from workers.runner import execute_job
from workers.sandbox import gpu_of_slot, lab_slots
from workers.warm import prestart_default_pool, shutdown_default_pool

# The runner enforces each lab's own wall limit; Celery's limit is only a backstop.
HARD_LIMIT_SECONDS = lab_max_wall_seconds(os.environ) + WALL_MARGIN_SECONDS

logger = logging.getLogger(__name__)

# A run's events are the only copy of its outcome, so a worker waits out a broker restart or
# outage of up to two minutes before giving up on one, rather than drop a result that may
# have cost an hour. Celery's publish retry policy cannot stretch that far (kombu gives up
# reconnecting after the broker connection timeout, 4 s), hence the loop in _send_event.
# Progress is best effort (the finished event carries the log's tail) and waits under a
# second: the run's supervisor sends it and must go on watching the sandbox.
RESULT_PATIENCE_SECONDS = 120
PROGRESS_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}


def _send_event(celery: Celery, run_id: int, token: str, event: Event, *, patience: float) -> None:
    """Send one event to the site, trying again for ``patience`` seconds while the broker is away."""
    deadline = time.monotonic() + patience
    while True:
        try:
            celery.send_task(EVENT_TASK, args=[run_id, token, event.to_dict()], queue=EVENT_QUEUE)
            return
        except (OperationalError, redis.ConnectionError) as exc:
            if time.monotonic() >= deadline:
                raise
            logger.warning("could not send the %s event of run %s (%s); trying again", event.kind, run_id, exc)
            time.sleep(1)


def _report(celery: Celery, run_id: int, token: str, event: Event) -> None:
    """Send ``event`` of the attempt ``(run_id, token)`` to the site: progress at once or never,
    everything else waiting out a broker outage (``RESULT_PATIENCE_SECONDS``)."""
    if isinstance(event, ProgressBatch):
        celery.send_task(
            EVENT_TASK,
            args=[run_id, token, event.to_dict()],
            queue=EVENT_QUEUE,
            retry_policy=PROGRESS_PUBLISH_RETRY_POLICY,
        )
    else:
        _send_event(celery, run_id, token, event, patience=RESULT_PATIENCE_SECONDS)


@celeryd_init.connect
def _remember_queues(sender: str, instance: object, conf: object, options: dict, **kwargs: object) -> None:
    # Runs in the worker's main process before its pool forks: the pool processes inherit this.
    queues = options.get("queues") or []
    names = set(queues.split(",") if isinstance(queues, str) else queues)
    lab = bool(names & set(LAB_QUEUES))
    os.environ["LAB_WORKER"] = "1" if lab else "0"
    if lab:  # a pool sized to the node: one slot per core, or per share of a GPU
        slots = options.get("concurrency") or lab_slots()
        conf.worker_concurrency = slots
        os.environ["LAB_WORKER_SLOTS"] = str(slots)


@worker_process_init.connect
def _warm_up(**kwargs: object) -> None:
    """A lab worker's pool process takes its GPU (and its share of it) and starts its warm sandbox now."""
    if os.environ.get("LAB_WORKER") == "1":
        gpu = gpu_of_slot(getattr(current_process(), "index", 0) or 0)
        if gpu is not None:
            os.environ[gpus.SLOT_ENV], fraction = gpu[0].to_env(), gpu[1]
            os.environ["LAB_GPU_MEMORY_FRACTION"] = f"{fraction:.4f}"
        prestart_default_pool()


_stats: gpu_stats.Publisher | None = None


@worker_ready.connect
def _publish_stats(sender: Any, **kwargs: object) -> None:
    """Every 15 s, the worker's queues and its GPUs' memory and use (``/metrics``, ``workers.gpu_stats``)."""
    global _stats
    if os.environ.get("LAB_WORKER") == "1":
        _stats = gpu_stats.start_publisher(
            sender.app.conf.broker_url,
            worker=sender.hostname,
            queues=lambda: list(sender.app.amqp.queues.consume_from),
        )


@worker_shutdown.connect
def _stop_stats(**kwargs: object) -> None:
    if _stats is not None:
        _stats.stop()  # the record goes at once


@worker_ready.connect
def _gpu_health_gate(sender: Any, **kwargs: object) -> None:
    """Before a worker takes ``gpu`` jobs, every GPU it was given must run a short CUDA program; a
    broken one takes the worker off the ``gpu`` queue (it keeps its ``cpu`` jobs) and says why."""
    queues = {queue.name for queue in sender.task_consumer.queues} if sender.task_consumer else set()
    if "gpu" not in queues or not gpus.discover():
        return
    problem = gpu_problem()
    if problem is not None:
        leave_gpu_queue(sender.app, sender.hostname, problem, consumer=sender)


def gpu_problem() -> str | None:
    """Why this node's GPUs cannot take runs (the first failing probe), or None."""
    command = gpus.probe_command(runtime.base_python(), _runtime_site_packages())
    for gpu in gpus.discover():
        problem = gpus.probe(gpu, command)
        if problem is not None:
            return problem
    return None


def _runtime_site_packages() -> str | None:
    packages = runtime.site_packages()
    return str(packages) if packages is not None else None


def leave_gpu_queue(celery: Celery, hostname: str, problem: str, *, consumer: Any = None) -> None:
    """Stop consuming ``gpu`` (directly from the main process, else by a broadcast to it) and tell the
    operator: the worker's log and a broker key (``workers.control.gpu_health``) that says why."""
    logger.error("GPU health check failed on %s: %s; this worker stops taking gpu jobs", hostname, problem)
    control.gpu_health_set(control.redis_client(celery.conf.broker_url), hostname, problem)
    if consumer is not None:
        consumer.cancel_task_queue("gpu")
    else:
        celery.control.cancel_consumer("gpu", destination=[hostname])


@worker_process_shutdown.connect
def _cool_down(**kwargs: object) -> None:
    shutdown_default_pool()


def _has_cuda() -> bool:
    # Asking torch would initialise CUDA in this long-lived process; NVML or the device nodes tell enough.
    return gpus.slot_gpu() is not None or bool(gpus.discover()) or bool(os.environ.get("LAB_FORCE_CUDA"))


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _failed_here(reason: str, device: str) -> AttemptResult:
    """The result of an attempt this worker could not run at all: the platform's failure."""
    now = _utc_now()
    return AttemptResult(
        state="failed",
        reason=reason,
        device=device,
        worker_host=socket.gethostname(),
        started_at=now,
        finished_at=now,
    )


@app.task(
    name=RUN_TASK,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=HARD_LIMIT_SECONDS,
    soft_time_limit=HARD_LIMIT_SECONDS - 60,
)
def run_lab_job(self: Task, spec_data: dict[str, Any]) -> str:
    try:
        spec = JobSpec.from_dict(spec_data)
    except JobSpecError as exc:
        if isinstance(spec_data, dict) and "run_id" in spec_data and "token" in spec_data:
            failed = _failed_here(f"platform: invalid job message: {exc}", device="")
            _report(self.app, spec_data["run_id"], spec_data["token"], Finished(failed))
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
        _report(self.app, spec.run_id, spec.token, Lost(previous_worker=previous))
        return "lost"
    if spec.device == "cuda" and not _has_cuda():
        spec = dataclasses.replace(spec, device="cpu")
    if spec.device == "cuda":  # CUDA, cuBLAS and cuDNN need more host memory and threads than a CPU lab
        spec = dataclasses.replace(spec, limits=gpus.cuda_limits(spec.limits))

    def cancelled() -> bool:
        return control.cancel_requested(client, run_id=spec.run_id, token=spec.token)

    batches = itertools.count(1)
    with control.KeepAlive(client, run_id=spec.run_id, token=spec.token, worker=worker) as heartbeat:
        _report(self.app, spec.run_id, spec.token, Claimed(worker=worker, device=spec.device))
        try:
            result = execute_job(
                spec,
                # Numbered, so that the site applies a batch delivered twice only once.
                on_progress=lambda events: _report(
                    self.app, spec.run_id, spec.token, ProgressBatch(seq=next(batches), events=events)
                ),
                should_cancel=cancelled,
            )
        except Exception as exc:  # e.g. a forced sandbox missing here: the run still ends, once
            logger.exception("run %s could not be run on this worker", spec.run_id)
            reason = f"platform: the lab worker failed: {type(exc).__name__}: {exc}"
            result = _failed_here(reason, device=spec.device)
        # Marked before it is sent: from now on the site waits for this result, never retries the run.
        heartbeat.finished()
        _report(self.app, spec.run_id, spec.token, Finished(result))
    if spec.device == "cuda" and (result.reason or "").startswith("platform: "):
        # The run goes back (the site retries a platform failure on another worker); a GPU that has
        # broken since the worker started takes this worker off the gpu queue.
        problem = gpu_problem()
        if problem is not None:
            leave_gpu_queue(self.app, worker, problem)
    return result.state or "failed"
