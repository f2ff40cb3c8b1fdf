"""What a mentor decided about a mentee's next step: a pin (this lesson or lab first, with a word
why) or a hide (never recommend this one to them). ``coach.recommend`` reads both."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Choice(models.Model):
    class Kind(models.TextChoices):
        PIN = "pin", _("pinned")
        HIDE = "hide", _("hidden")

    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="coach_choices")
    mentor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    lesson = models.ForeignKey("courses.Lesson", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    lab = models.ForeignKey("labs.Lab", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    note = models.CharField(_("why"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(lesson__isnull=True, lab__isnull=False)
                | models.Q(lesson__isnull=False, lab__isnull=True),
                name="coach_choice_one_target",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.target_key} for {self.learner_id}"

    @property
    def target_key(self) -> str:
        return f"lesson:{self.lesson_id}" if self.lesson_id else f"lab:{self.lab_id}"
