"""What grading stores of its own: manual grade overrides."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class GradeOverride(models.Model):
    """An administrator's or mentor's manual grade, with the reason. Rows are never edited: the
    newest one for (cohort, learner, lab) wins and the older ones are its history. ``lab`` empty
    means the final grade."""

    cohort = models.ForeignKey("cohorts.Cohort", on_delete=models.CASCADE, related_name="overrides")
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="grade_overrides")
    lab = models.ForeignKey("labs.Lab", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    score = models.DecimalField(max_digits=5, decimal_places=2, help_text="0 to 100")
    reason = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["cohort", "learner", "lab", "created_at"])]

    def __str__(self) -> str:
        return f"{self.learner} {self.lab or 'final'} = {self.score} ({self.cohort})"
