"""Site-side tasks of grading (queue ``default``): thin wrappers over services."""

from celery import shared_task

from grading.reminders import deadline_reminders_send
from grading.services import GRADEBOOK_EXPORT_TASK, gradebook_export_run


@shared_task(name="grading.tasks.deadline_reminders")
def deadline_reminders() -> int:
    """Beat, hourly: remind learners of lab deadlines due within a day (see grading.reminders)."""
    return deadline_reminders_send()


@shared_task(name=GRADEBOOK_EXPORT_TASK)
def gradebook_export(job_id: int) -> dict[str, int]:
    """Write a cohort's gradebook as CSV onto the job, finish it and notify who asked."""
    return gradebook_export_run(job_id=job_id)
