"""Site-side tasks of labs (queue ``default``): thin wrappers over the run's life."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import InterfaceError, OperationalError

from labs import run_events, sweeper
from labs.dispatch import DISPATCH_TASK, runs_dispatch
from workers.events import EVENT_TASK


# While the database is away (a restart, a failover) an event waits for it rather than be
# lost: the lab worker has moved on, and its message holds the run's only result. Retries
# back off 1, 2, 4, 8, then 15 s, each drawn between 0 and that (jitter): 30 of them wait about
# three and a half minutes in all, and an event is applied at most 15 s after the database is
# back. Every event handler is a compare-and-set, so applying an event again is safe.
@shared_task(
    name=EVENT_TASK,
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=1,
    retry_backoff_max=15,
    max_retries=30,
)
def run_event(run_id: int, token: str, event: dict[str, Any]) -> None:
    """An event from a lab worker (``workers.events``): claimed, progress, finished or lost."""
    run_events.run_event_apply(run_id=run_id, token=token, event=event)


@shared_task(name=DISPATCH_TASK)
def dispatch_runs() -> int:
    """Send the waiting runs fair share allows, waiting for another dispatcher to finish first."""
    return runs_dispatch() or 0


@shared_task(name="labs.tasks.sweep_runs")
def sweep_runs() -> dict[str, int]:
    return sweeper.runs_sweep()
