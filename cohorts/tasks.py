"""Site-side tasks of cohorts (queue ``default``): thin wrappers over services."""

from celery import shared_task

from cohorts.roster import ROSTER_IMPORT_TASK, roster_import_run


@shared_task(name=ROSTER_IMPORT_TASK)
def roster_import(job_id: int) -> dict[str, int]:
    """A roster-import Job: put the CSV's learners into cohorts and store the report (see cohorts.roster)."""
    return roster_import_run(job_id=job_id)
