"""What mentorship's writes make stale in the cached parts of pages (``core.fragments``): the
learner's generation when a run of theirs is reviewed or dismissed (or that is undone, edited or
deleted, by the services or in the Django admin)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from core.fragments import learners_changed
from labs.selectors import learner_of_run
from mentorship.models import Dismissal, Review


def connect() -> None:
    for model in (Review, Dismissal):
        uid = f"mentorship.generations.{model.__name__}"
        post_save.connect(run_judged, sender=model, dispatch_uid=f"{uid}.save")
        post_delete.connect(run_judged, sender=model, dispatch_uid=f"{uid}.delete")


def run_judged(sender: Any, *, instance: Review | Dismissal, **kwargs: Any) -> None:
    learners_changed([learner_of_run(instance.run_id)])
