"""Mentors and their mentees: rubrics and reviews of runs, session records, private notes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.bilingual import bilingual


class Rubric(models.Model):
    """How a lab's runs are reviewed: criteria, each with levels worth points."""

    lab = models.OneToOneField("labs.Lab", on_delete=models.CASCADE, related_name="rubric")

    def __str__(self) -> str:
        return f"rubric of {self.lab}"

    @property
    def max_points(self) -> int:
        return sum(max((level.points for level in c.levels.all()), default=0) for c in self.criteria.all())


class Criterion(models.Model):
    rubric = models.ForeignKey(Rubric, on_delete=models.CASCADE, related_name="criteria")
    position = models.PositiveSmallIntegerField()
    title_en = models.CharField(max_length=200)
    title_zh = models.CharField(max_length=200, blank=True)
    description_en = models.TextField(blank=True)
    description_zh = models.TextField(blank=True)

    class Meta:
        ordering = ["rubric", "position"]

    def __str__(self) -> str:
        return self.title_en

    @property
    def title(self) -> str:
        return bilingual(self.title_en, self.title_zh)

    @property
    def description(self) -> str:
        return bilingual(self.description_en, self.description_zh)


class Level(models.Model):
    criterion = models.ForeignKey(Criterion, on_delete=models.CASCADE, related_name="levels")
    position = models.PositiveSmallIntegerField()
    title_en = models.CharField(max_length=200)
    title_zh = models.CharField(max_length=200, blank=True)
    points = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["criterion", "position"]

    def __str__(self) -> str:
        return f"{self.title_en} ({self.points})"

    @property
    def title(self) -> str:
        return bilingual(self.title_en, self.title_zh)


class Verdict(models.TextChoices):
    APPROVED = "approved", _("approved")
    CHANGES_REQUESTED = "changes_requested", _("changes requested")


class Review(models.Model):
    """A mentor's review of one run. A run may be reviewed again (e.g. after a discussion); the
    newest review is the one that counts."""

    run = models.ForeignKey("labs.Run", on_delete=models.CASCADE, related_name="reviews")
    mentor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews_given")
    verdict = models.CharField(max_length=20, choices=Verdict.choices)
    comment = models.TextField(blank=True, help_text="Markdown")
    points = models.PositiveSmallIntegerField(default=0)
    max_points = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["run", "created_at"])]

    def __str__(self) -> str:
        return f"review of run {self.run_id} by {self.mentor}"

    def get_absolute_url(self) -> str:
        return reverse("labs:run", args=[self.run_id]) + "#review"


class ReviewScore(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="+")
    level = models.ForeignKey(Level, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["review", "criterion"], name="one_score_per_criterion")]

    def __str__(self) -> str:
        return f"{self.criterion}: {self.level}"


class LineComment(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="line_comments")
    line = models.PositiveIntegerField(help_text="1-based line of the submitted code")
    text = models.TextField()

    class Meta:
        ordering = ["review", "line"]

    def __str__(self) -> str:
        return f"line {self.line}: {self.text[:40]}"


class DismissReason(models.TextChoices):
    STARTER = "starter", _("starter code")
    DUPLICATE = "duplicate", _("duplicate")
    NO_REVIEW = "no_review", _("the learner asked for no review")
    OTHER = "other", _("other")


class Dismissal(models.Model):
    """A mentor took a run out of the review queue, and why. Undoing it keeps the row (``undone_at``,
    ``undone_by``) so administrators see every dismissal; at most one per run is active."""

    run = models.ForeignKey(
        "labs.Run",
        on_delete=models.CASCADE,
        related_name="dismissals",
        verbose_name=_("run"),
        help_text=_("The finished run taken out of the review queue."),
    )
    reason = models.CharField(_("reason"), max_length=20, choices=DismissReason.choices)
    note = models.TextField(_("note"), blank=True, help_text=_("The mentor's words; required for the reason “other”."))
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("dismissed by")
    )
    created_at = models.DateTimeField(_("dismissed at"), auto_now_add=True)
    undone_at = models.DateTimeField(
        _("undone at"), null=True, blank=True, help_text=_("Empty while the dismissal is in effect.")
    )
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("undone by"),
    )

    class Meta:
        verbose_name = _("dismissal")
        verbose_name_plural = _("dismissals")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["run"], condition=models.Q(undone_at__isnull=True), name="one_active_dismissal_per_run"
            )
        ]

    def __str__(self) -> str:
        return f"run {self.run_id} dismissed by {self.dismissed_by} ({self.reason})"

    @property
    def active(self) -> bool:
        return self.undone_at is None


class SessionRecord(models.Model):
    """A mentoring session: what was discussed and what the learner does next. The learner sees it."""

    mentor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sessions_held")
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sessions")
    held_on = models.DateField()
    notes = models.TextField(help_text="Markdown")
    action_items = models.TextField(blank=True, help_text="one per line")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-held_on", "-created_at"]

    def __str__(self) -> str:
        return f"{self.mentor} with {self.learner} on {self.held_on}"

    @property
    def action_list(self) -> list[str]:
        return [line.strip() for line in self.action_items.splitlines() if line.strip()]


class MentorNote(models.Model):
    """A mentor's private note about a mentee. Never shown to learners (pages or API)."""

    mentor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notes_written")
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"note by {self.mentor} on {self.learner}"
