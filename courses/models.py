"""The curriculum: learning paths of courses; courses of modules; modules of lessons; who studies what.

Every piece of content is written in English and Simplified Chinese (``*_en``/``*_zh``); the
properties without a suffix pick the active language and fall back to the other (``core.bilingual``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.bilingual import bilingual

# A course slug may not be one of these: they are path segments of /courses/ itself.
RESERVED_COURSE_SLUGS = frozenset({"paths", "progress"})


@dataclass(frozen=True)
class Progress:
    done: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.done >= self.total


class CourseLevel(models.TextChoices):
    BEGINNER = "beginner", _("Beginner")
    INTERMEDIATE = "intermediate", _("Intermediate")
    ADVANCED = "advanced", _("Advanced")


class Titled(models.Model):
    """A title in both languages; ``title`` is the one to show now."""

    title_en = models.CharField(max_length=200)
    title_zh = models.CharField(max_length=200, blank=True)

    class Meta:
        abstract = True

    @property
    def title(self) -> str:
        return bilingual(self.title_en, self.title_zh)


class TitledWithSummary(Titled):
    summary_en = models.TextField(blank=True, help_text="Markdown")
    summary_zh = models.TextField(blank=True, help_text="Markdown")

    class Meta:
        abstract = True

    @property
    def summary(self) -> str:
        return bilingual(self.summary_en, self.summary_zh)


class Tag(models.Model):
    slug = models.SlugField(unique=True)
    name_en = models.CharField(max_length=80)
    name_zh = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    @property
    def name(self) -> str:
        return bilingual(self.name_en, self.name_zh)


class Course(TitledWithSummary):
    slug = models.SlugField(unique=True)
    level = models.CharField(max_length=20, choices=CourseLevel.choices, default=CourseLevel.BEGINNER)
    tags = models.ManyToManyField(Tag, blank=True, related_name="courses")
    estimated_hours = models.DecimalField(max_digits=5, decimal_places=1, default=1, validators=[MinValueValidator(0)])
    prerequisites = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="unlocks", help_text="courses to finish first"
    )
    published = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    def get_absolute_url(self) -> str:
        return reverse("courses:course", args=[self.slug])

    @property
    def progress(self) -> Progress:
        """Needs the ``lessons_done`` and ``lesson_total`` annotations (``selectors.with_progress``)."""
        return Progress(done=self.lessons_done, total=self.lesson_total)


class LearningPath(TitledWithSummary):
    slug = models.SlugField(unique=True)
    courses = models.ManyToManyField(Course, through="PathCourse", related_name="paths")
    published = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    def get_absolute_url(self) -> str:
        return reverse("courses:path", args=[self.slug])


class PathCourse(models.Model):
    path = models.ForeignKey(LearningPath, on_delete=models.CASCADE, related_name="steps")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["path", "position"]
        constraints = [models.UniqueConstraint(fields=["path", "course"], name="path_course_unique")]

    def __str__(self) -> str:
        return f"{self.path.slug} #{self.position}: {self.course.slug}"


class Module(TitledWithSummary):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="modules")
    slug = models.SlugField()
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["course", "position"]
        constraints = [models.UniqueConstraint(fields=["course", "slug"], name="module_slug_unique")]

    def __str__(self) -> str:
        return f"{self.course.slug}/{self.slug}"


class Lesson(Titled):
    """One page of a course. ``position`` runs through the whole course (module order, then the
    lesson's order inside its module), so previous/next and "first lesson not done" are one query.
    ``course`` repeats ``module.course`` so lesson slugs are unique per course and progress counts
    need no join through modules."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="lessons", editable=False)
    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="lessons")
    slug = models.SlugField()
    position = models.PositiveSmallIntegerField()
    body_en = models.TextField(blank=True, help_text="Markdown; $…$ and $$…$$ for math")
    body_zh = models.TextField(blank=True, help_text="Markdown; $…$ and $$…$$ for math")
    minutes = models.PositiveSmallIntegerField(default=10, help_text="estimated reading time")
    lab = models.ForeignKey(
        "labs.Lab", on_delete=models.SET_NULL, null=True, blank=True, related_name="lessons", help_text="practice"
    )
    fixes = models.JSONField(
        default=list,
        blank=True,
        help_text="the run diagnoses this lesson teaches the fix for (labs.diagnosis codes, e.g. diverging)",
    )
    skills = models.ManyToManyField("skills.Skill", blank=True, related_name="lessons")
    exercises = models.JSONField(
        default=list,
        blank=True,
        editable=False,
        help_text="the exercise blocks of the body, parsed (courses.exercises); answers never leave the site",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["course", "position"]
        constraints = [models.UniqueConstraint(fields=["course", "slug"], name="lesson_slug_unique")]

    def __str__(self) -> str:
        return f"{self.course.slug}/{self.slug}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.course_id = self.module.course_id
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("courses:lesson", args=[self.course.slug, self.slug])

    @property
    def body(self) -> str:
        return bilingual(self.body_en, self.body_zh)

    def exercise(self, exercise_id: str) -> dict | None:
        """One exercise of the lesson by its id (``courses.exercises``), or None."""
        return next((exercise for exercise in self.exercises if exercise["id"] == exercise_id), None)


class Enrollment(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrollments")
    enrolled_at = models.DateTimeField(auto_now_add=True)
    last_lesson = models.ForeignKey(Lesson, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    last_activity_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-last_activity_at"]
        constraints = [models.UniqueConstraint(fields=["user", "course"], name="enrollment_unique")]

    def __str__(self) -> str:
        return f"{self.user} in {self.course.slug}"


class LessonCompletion(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="completions")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="completions")
    completed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-completed_at"]
        constraints = [models.UniqueConstraint(fields=["user", "lesson"], name="completion_unique")]

    def __str__(self) -> str:
        return f"{self.user} finished {self.lesson}"


class ExerciseProgress(models.Model):
    """A learner's tries at one exercise of a lesson (``courses.exercises``). Once solved it stays
    solved: a later try changes nothing."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exercise_progress")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="exercise_progress")
    exercise = models.SlugField(help_text="the exercise's id in the lesson")
    tries = models.PositiveIntegerField(default=0, help_text="answers judged, the right one included")
    solved = models.BooleanField(default=False)
    solved_at = models.DateTimeField(null=True, blank=True)
    last_answer = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["lesson", "exercise"]
        constraints = [models.UniqueConstraint(fields=["user", "lesson", "exercise"], name="exercise_progress_unique")]

    def __str__(self) -> str:
        return f"{self.user} on {self.lesson}#{self.exercise}"

    @property
    def wrong_tries(self) -> int:
        return self.tries - 1 if self.solved else self.tries


class CodeCheckState(models.TextChoices):
    QUEUED = "queued", _("Checking…")
    DONE = "done", _("Checked")
    FAILED = "failed", _("Could not be checked")


class CodeCheck(models.Model):
    """One code cell sent to the lab sandbox (``courses.tasks.code_check_run``): the learner's code,
    and once done whether the exercise's check passed and what the learner reads about it.
    ``failed`` is the platform's failure (no sandbox): it is not a try."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="code_checks")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="code_checks")
    exercise = models.SlugField()
    code = models.TextField()
    state = models.CharField(max_length=10, choices=CodeCheckState.choices, default=CodeCheckState.QUEUED)
    passed = models.BooleanField(null=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "lesson", "exercise", "-created_at"], name="code_check_latest")]

    def __str__(self) -> str:
        return f"{self.user} on {self.lesson}#{self.exercise}: {self.state}"
