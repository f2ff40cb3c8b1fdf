"""What grading's writes make stale in the cached parts of pages (``core.fragments``): a learner's
generation when their grade is overridden (by the service or in the Django admin)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from core.fragments import learners_changed
from grading.models import GradeOverride


def connect() -> None:
    post_save.connect(override_saved, sender=GradeOverride, dispatch_uid="grading.generations.override_saved")
    post_delete.connect(override_saved, sender=GradeOverride, dispatch_uid="grading.generations.override_deleted")


def override_saved(sender: Any, *, instance: GradeOverride, **kwargs: Any) -> None:
    learners_changed([instance.learner_id])
