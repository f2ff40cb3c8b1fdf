"""What labs' writes make stale in the cached parts of pages (``core.fragments``): a learner's
generation moves when one of their runs finishes, or a finished run is edited or deleted.

Signals, not calls in the services: the Django admin and cascades write runs too. A run's moves
along its life are compare-and-set UPDATEs that send no ``post_save``; its end is heard through
``run_ended_signal``, and a live run's progress (saved often) moves nothing."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from core.fragments import learners_changed
from labs.models import Run, Submission
from labs.selectors import learner_of_run
from labs.signals import run_ended_signal


def connect() -> None:
    post_save.connect(run_saved, sender=Run, dispatch_uid="labs.generations.run_saved")
    post_delete.connect(run_deleted, sender=Run, dispatch_uid="labs.generations.run_deleted")
    run_ended_signal.connect(run_ended_receive, dispatch_uid="labs.generations.run_ended")


def run_saved(sender: Any, *, instance: Run, **kwargs: Any) -> None:
    if instance.is_final:
        learners_changed([_learner_of(instance)])


def run_deleted(sender: Any, *, instance: Run, **kwargs: Any) -> None:
    learners_changed([_learner_of(instance)])


def run_ended_receive(sender: Any, *, run_id: int, **kwargs: Any) -> None:
    learners_changed([learner_of_run(run_id)])


def _learner_of(run: Run) -> int | None:
    if Run.submission.is_cached(run):
        return run.submission.learner_id
    return Submission.objects.filter(pk=run.submission_id).values_list("learner_id", flat=True).first()
