from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class GradeRule(models.TextChoices):
    BEST = "best", _("best run")
    LATEST = "latest", _("latest run")


class Cohort(models.Model):
    """A group of learners who follow a path (or some courses) together between two dates, with
    mentors, lab deadlines and a grading policy."""

    slug = models.SlugField(unique=True)
    name = models.CharField(_("name"), max_length=200)
    path = models.ForeignKey(
        "courses.LearningPath", on_delete=models.PROTECT, null=True, blank=True, related_name="cohorts"
    )
    courses = models.ManyToManyField("courses.Course", blank=True, related_name="cohorts")
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    mentors = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="mentored_cohorts")
    # Grading policy: three kinds of assignment, weighted; see grading.rules.
    lab_weight = models.PositiveSmallIntegerField(_("weight of lab scores"), default=60)
    review_weight = models.PositiveSmallIntegerField(_("weight of mentor reviews"), default=30)
    course_weight = models.PositiveSmallIntegerField(_("weight of course progress"), default=10)
    pass_mark = models.PositiveSmallIntegerField(_("pass mark (of 100)"), default=60)
    score_rule = models.CharField(
        _("which run counts"), max_length=10, choices=GradeRule.choices, default=GradeRule.BEST
    )
    late_penalty_per_day = models.PositiveSmallIntegerField(_("late penalty, points per day"), default=10)
    late_cutoff_days = models.PositiveSmallIntegerField(_("days late after which a run no longer counts"), default=7)
    # Fair share of the GPU workers (labs.dispatch): members' GPU runs on the workers at once.
    gpu_run_limit = models.PositiveSmallIntegerField(
        _("GPU runs at once"),
        null=True,
        blank=True,
        help_text=_("At most this many of the members' GPU lab runs on the workers at once; empty: no limit."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_on__gte=models.F("starts_on")), name="cohort_dates_ordered"),
        ]

    def __str__(self) -> str:
        return self.name


class CohortMember(models.Model):
    """A learner in a cohort, with their mentor. ``path`` repeats ``cohort.path`` so the database
    holds the rule "one cohort per learner per path"."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="members")
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    mentor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="mentees"
    )
    path = models.ForeignKey(
        "courses.LearningPath", on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["cohort", "learner__username"]
        constraints = [
            models.UniqueConstraint(fields=["cohort", "learner"], name="member_once_per_cohort"),
            models.UniqueConstraint(
                fields=["learner", "path"], condition=models.Q(path__isnull=False), name="one_cohort_per_path"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.learner} in {self.cohort}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.path_id = self.cohort.path_id
        super().save(*args, **kwargs)


class LabDeadline(models.Model):
    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="deadlines")
    lab = models.ForeignKey("labs.Lab", on_delete=models.CASCADE, related_name="deadlines")
    due_at = models.DateTimeField(_("due at"))
    weight = models.PositiveSmallIntegerField(_("weight among the cohort's labs"), default=1)
    reminded_at = models.DateTimeField(null=True, blank=True, help_text="when the reminder went out")

    class Meta:
        ordering = ["cohort", "due_at"]
        constraints = [models.UniqueConstraint(fields=["cohort", "lab"], name="deadline_once_per_lab")]

    def __str__(self) -> str:
        return f"{self.lab} due {self.due_at:%Y-%m-%d} ({self.cohort})"


class JobState(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


class Job(models.Model):
    """Background work a person asked for (a roster import, a gradebook export): its state, a
    summary and a downloadable result file, shown on a status page."""

    class Kind(models.TextChoices):
        ROSTER_IMPORT = "roster_import", _("roster import")
        GRADEBOOK_EXPORT = "gradebook_export", _("gradebook export")

    kind = models.CharField(max_length=30, choices=Kind.choices)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs")
    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, null=True, blank=True, related_name="jobs")
    state = models.CharField(max_length=10, choices=JobState.choices, default=JobState.QUEUED)
    input_name = models.CharField(max_length=255, blank=True, help_text="the uploaded file's name, as sent")
    input_file = models.FileField(upload_to="jobs/input/%Y/%m/", blank=True, help_text="the uploaded file (UTF-8)")
    summary = models.JSONField(default=dict, blank=True)
    result_name = models.CharField(max_length=255, blank=True)
    result_file = models.FileField(
        upload_to="jobs/result/%Y/%m/", blank=True, help_text="the downloadable result (CSV, UTF-8)"
    )
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.state})"

    def get_absolute_url(self) -> str:
        return reverse("job", args=[self.pk])
