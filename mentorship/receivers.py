"""What mentorship hears from the apps below it (``mentorship.apps`` connects these)."""

from __future__ import annotations

from typing import Any

from labs.models import Run, Submission
from mentorship.selectors import REVIEWABLE_STATES
from mentorship.services import review_queue_changed


def run_ended_receive(sender: Any, *, run_id: int, **kwargs: Any) -> None:
    """``labs.signals.run_ended_signal``: a learner's run that ended joins their mentors' review queues
    (inside the transaction that ended it: the queues hear of it only if it commits)."""
    runs = Run.objects.filter(pk=run_id, state__in=REVIEWABLE_STATES).exclude(
        submission__source=Submission.Source.REFERENCE
    )
    learner_id = runs.values_list("submission__learner_id", flat=True).first()
    if learner_id is not None:
        review_queue_changed(learner_id=learner_id)
