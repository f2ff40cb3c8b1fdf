"""Site-side tasks (queue ``default``): thin wrappers over services."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from labs import grading_services, services


@shared_task(name="labs.tasks.run_event")
def run_event(run_id: int, token: str, event: dict[str, Any]) -> None:
    """An event from a lab worker: claimed, running, progress, finished or lost."""
    services.run_event_apply(run_id=run_id, token=token, event=event)


@shared_task(name="labs.tasks.sweep_runs")
def sweep_runs() -> dict[str, int]:
    return services.runs_sweep()


@shared_task(name="labs.tasks.gradebook_export")
def gradebook_export(job_id: int) -> dict[str, int]:
    """Write a cohort's gradebook as CSV onto the job, finish it and notify who asked."""
    return grading_services.gradebook_export_run(job_id=job_id)
