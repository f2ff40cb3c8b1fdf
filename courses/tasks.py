"""Site-side tasks of courses (queue ``default``): thin wrappers over services."""

from __future__ import annotations

from celery import shared_task

from courses.services import CODE_CHECK_TASK, code_check_run


@shared_task(name=CODE_CHECK_TASK, acks_late=True)
def code_check(check_id: int) -> None:
    """A lesson's code cell, in the lab sandbox (``courses.services.code_check_run``)."""
    code_check_run(check_id=check_id)
