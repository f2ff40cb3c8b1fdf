from celery import shared_task

from core.deadlines import deadline_reminders_send
from core.roster import roster_import_run


@shared_task(name="core.tasks.ping")
def ping(payload: str = "pong") -> dict[str, str]:
    """Round-trip probe: proves a worker consumes ``default`` and the result backend works."""
    return {"reply": payload}


@shared_task(name="core.tasks.deadline_reminders")
def deadline_reminders() -> int:
    """Beat, hourly: remind learners of lab deadlines due within a day (see core.deadlines)."""
    return deadline_reminders_send()


@shared_task(name="core.tasks.roster_import")
def roster_import(job_id: int) -> dict[str, int]:
    """A roster-import Job: put the CSV's learners into cohorts and store the report (see core.roster)."""
    return roster_import_run(job_id=job_id)
