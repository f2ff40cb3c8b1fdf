"""What a learner can do, named once: lessons, labs and exercises are tagged with skills, and a
learner's skill profile (``coach.profile``) is read from the evidence behind each."""

from __future__ import annotations

from django.db import models

from core.bilingual import bilingual


class Skill(models.Model):
    """A skill, e.g. "Gradient descent and learning rates". ``diagnoses`` names the run findings
    (``labs.diagnosis`` codes) that show a gap in it: a run of a lab tagged with this skill that
    diverges counts against "gradient descent"."""

    slug = models.SlugField(unique=True)
    name_en = models.CharField(max_length=120)
    name_zh = models.CharField(max_length=120, blank=True)
    summary_en = models.TextField(blank=True)
    summary_zh = models.TextField(blank=True)
    diagnoses = models.JSONField(default=list, blank=True, help_text="run finding codes that show a gap in it")
    position = models.PositiveSmallIntegerField(default=0, help_text="its place on the profile chart")

    class Meta:
        ordering = ["position", "slug"]

    def __str__(self) -> str:
        return self.slug

    @property
    def name(self) -> str:
        return bilingual(self.name_en, self.name_zh) or self.slug

    @property
    def summary(self) -> str:
        return bilingual(self.summary_en, self.summary_zh)
