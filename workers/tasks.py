"""Celery tasks of the ``gpu`` and ``cpu`` queues: run one lab job in the sandbox.

No Django model and no database here: a lab worker talks only to the broker. It reports
what happens as events (``labs.tasks.run_event`` on the ``default`` queue), and the
site, which holds the hidden labels, turns the predictions into a score.
"""

from __future__ import annotations

import dataclasses
import os
import socket
from typing import Any

from celery import Task, shared_task
from celery.signals import celeryd_init, worker_process_init, worker_process_shutdown

from workers import control
from workers.jobspec import JobSpec, JobSpecError
from workers.runner import execute_job
from workers.warm import prestart_default_pool, shutdown_default_pool

EVENT_TASK = "labs.tasks.run_event"
# The runner enforces each lab's own wall limit; Celery's limit is only a backstop.
HARD_LIMIT_SECONDS = int(os.environ.get("LAB_MAX_WALL_SECONDS", "3600")) + 600


LAB_QUEUES = {"cpu", "gpu"}


@celeryd_init.connect
def _remember_queues(sender: str, instance: object, conf: object, options: dict, **kwargs: object) -> None:
    # Runs in the worker's main process before its pool forks: the pool processes inherit this.
    queues = options.get("queues") or []
    names = set(queues.split(",") if isinstance(queues, str) else queues)
    os.environ["LAB_WORKER"] = "1" if names & LAB_QUEUES else "0"


@worker_process_init.connect
def _warm_up(**kwargs: object) -> None:
    """A lab worker's pool process starts its warm sandbox now, so even the first job is warm."""
    if os.environ.get("LAB_WORKER") == "1":
        prestart_default_pool()


@worker_process_shutdown.connect
def _cool_down(**kwargs: object) -> None:
    shutdown_default_pool()


def _has_cuda() -> bool:
    # Asking torch would initialise CUDA in this long-lived process; the device files tell enough.
    return os.path.exists("/dev/nvidia0") or bool(os.environ.get("LAB_FORCE_CUDA"))


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
        self.app.send_task(EVENT_TASK, args=[run_id, token, event], queue="default")

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
        # This attempt was taken before: its worker died and the broker delivered it again.
        previous = control.claimed_by(client, run_id=spec.run_id, token=spec.token)
        report(spec.run_id, spec.token, {"kind": "lost", "previous_worker": previous})
        return "lost"
    if spec.device == "cuda" and not _has_cuda():
        spec = dataclasses.replace(spec, device="cpu")
    report(spec.run_id, spec.token, {"kind": "claimed", "worker": worker, "device": spec.device})

    def cancelled() -> bool:
        return control.cancel_requested(client, run_id=spec.run_id, token=spec.token)

    result = execute_job(
        spec,
        on_progress=lambda events: report(spec.run_id, spec.token, {"kind": "progress", "events": events}),
        should_cancel=cancelled,
    )
    report(spec.run_id, spec.token, {"kind": "finished", "result": result.to_dict()})
    return result.state
