"""Site-side tasks of challenges (queue ``default``): thin wrappers over services."""

from celery import shared_task

from challenges.services import phases_reveal_due as phases_reveal_due_run


@shared_task(name="challenges.tasks.phases_reveal_due")
def phases_reveal_due() -> int:
    """Beat, every minute: reveal the phases whose end has passed (see challenges.services.phase_reveal)."""
    return phases_reveal_due_run()
