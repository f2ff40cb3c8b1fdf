"""Site-side tasks (queue ``default``): thin wrappers over services."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from labs import services


@shared_task(name="labs.tasks.run_event")
def run_event(run_id: int, token: str, event: dict[str, Any]) -> None:
    """An event from a lab worker: claimed, running, progress, finished or lost."""
    services.run_event_apply(run_id=run_id, token=token, event=event)


@shared_task(name="labs.tasks.sweep_runs")
def sweep_runs() -> dict[str, int]:
    return services.runs_sweep()
