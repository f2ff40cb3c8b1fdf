"""Reads of the curriculum. Every page's reads are a fixed number of queries whatever the number of
courses, lessons and learners (``tests/courses/test_query_budget.py`` holds them to it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from django.contrib.auth.models import AnonymousUser
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from cohorts.models import Cohort
from core.models import User
from courses.models import (
    CodeCheck,
    Course,
    CourseLevel,
    Enrollment,
    ExerciseProgress,
    LearningPath,
    Lesson,
    LessonCompletion,
    Module,
    PathCourse,
    Progress,
    Tag,
)

AnyUser = User | AnonymousUser


def can_preview(user: AnyUser) -> bool:
    """Administrators see unpublished courses and paths (to check them before publishing)."""
    return user.is_authenticated and user.has_perm("core.administer")


def courses_visible(user: AnyUser) -> QuerySet[Course]:
    courses = Course.objects.all()
    return courses if can_preview(user) else courses.filter(published=True)


def _count(queryset: QuerySet) -> Coalesce:
    """A correlated COUNT(*) subquery; unlike Count() over joins it does not multiply rows."""
    counted = queryset.order_by().values("course_id").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def with_lesson_total(courses: QuerySet[Course]) -> QuerySet[Course]:
    return courses.annotate(lesson_total=_count(Lesson.objects.filter(course=OuterRef("pk"))))


def with_progress(courses: QuerySet[Course], user: AnyUser) -> QuerySet[Course]:
    """Annotate ``lesson_total``, ``lessons_done`` and ``enrolled`` (the latter two for ``user``)."""
    courses = with_lesson_total(courses)
    if not user.is_authenticated:
        return courses.annotate(lessons_done=Value(0), enrolled=Value(False))
    done = LessonCompletion.objects.filter(user=user, lesson__course=OuterRef("pk")).values("lesson__course_id")
    return courses.annotate(
        lessons_done=Coalesce(
            Subquery(done.annotate(n=Count("pk")).values("n").order_by(), output_field=IntegerField()), Value(0)
        ),
        enrolled=Exists(Enrollment.objects.filter(user=user, course=OuterRef("pk"))),
    )


def catalog_courses(user: AnyUser, courses: QuerySet[Course] | None = None) -> QuerySet[Course]:
    """Courses for the catalog (optionally already filtered), with tags and the user's progress."""
    courses = courses if courses is not None else courses_visible(user)
    level_rank = Case(*(When(level=level, then=Value(rank)) for rank, level in enumerate(CourseLevel.values)))
    return with_progress(courses.prefetch_related("tags"), user).order_by(level_rank, "title_en")


def tags_in_use(user: AnyUser) -> QuerySet[Tag]:
    return Tag.objects.filter(courses__in=courses_visible(user)).distinct().order_by("slug")


def paths_visible(user: AnyUser) -> QuerySet[LearningPath]:
    paths = LearningPath.objects.all()
    return paths if can_preview(user) else paths.filter(published=True)


def paths_with_courses(user: AnyUser) -> QuerySet[LearningPath]:
    """Paths with their steps' courses (progress annotated) prefetched in order."""
    steps = PathCourse.objects.filter(course__in=courses_visible(user)).order_by("position")
    courses = with_progress(Course.objects.prefetch_related("tags"), user)
    return paths_visible(user).prefetch_related(
        Prefetch("steps", queryset=steps.prefetch_related(Prefetch("course", queryset=courses)))
    )


def path_progress(path: LearningPath) -> Progress:
    """Progress over a path fetched by ``paths_with_courses``."""
    courses = [step.course for step in path.steps.all()]
    return Progress(done=sum(c.lessons_done for c in courses), total=sum(c.lesson_total for c in courses))


def course_page(user: AnyUser, slug: str) -> Course | None:
    """A course with its syllabus (modules, lessons, linked labs), tags, prerequisites with the
    user's progress on each, and the paths it belongs to."""
    lessons = Lesson.objects.select_related("lab").order_by("position")
    courses = with_progress(courses_visible(user), user).prefetch_related(
        "tags",
        Prefetch(
            "modules", queryset=Module.objects.order_by("position").prefetch_related(Prefetch("lessons", lessons))
        ),
        Prefetch("prerequisites", queryset=with_progress(Course.objects.filter(published=True), user).order_by("slug")),
        Prefetch("paths", queryset=paths_visible(user)),
    )
    return courses.filter(slug=slug).first()


def course_with_progress(user: AnyUser, slug: str) -> Course | None:
    """A course ``user`` may see, with their progress (``with_progress``) and nothing else."""
    return with_progress(courses_visible(user), user).filter(slug=slug).first()


def course_progress(*, user: User, course: Course) -> Progress:
    done = LessonCompletion.objects.filter(user=user, lesson__course=course).count()
    return Progress(done=done, total=Lesson.objects.filter(course=course).count())


def completed_lesson_ids(user: AnyUser, course: Course) -> set[int]:
    if not user.is_authenticated:
        return set()
    return set(LessonCompletion.objects.filter(user=user, lesson__course=course).values_list("lesson_id", flat=True))


def enrollment_of(user: AnyUser, course: Course) -> Enrollment | None:
    if not user.is_authenticated:
        return None
    return Enrollment.objects.filter(user=user, course=course).first()


def lesson_page(user: AnyUser, course_slug: str, lesson_slug: str) -> Lesson | None:
    visible = courses_visible(user)
    lessons = Lesson.objects.select_related("course", "module", "lab").filter(course__in=visible)
    return lessons.filter(course__slug=course_slug, slug=lesson_slug).first()


def syllabus(course: Course) -> list[Lesson]:
    """The course's lessons in order, light (no bodies), each with its module, for outlines."""
    return list(
        Lesson.objects.filter(course=course)
        .select_related("module")
        .defer("body_en", "body_zh", "exercises", "module__summary_en", "module__summary_zh")
        .order_by("position")
    )


def lesson_neighbours(outline: list[Lesson], lesson: Lesson) -> tuple[Lesson | None, Lesson | None]:
    """The lessons before and after ``lesson`` in its course's order (``outline``: ``syllabus``)."""
    index = next(i for i, item in enumerate(outline) if item.pk == lesson.pk)
    return (outline[index - 1] if index > 0 else None, outline[index + 1] if index + 1 < len(outline) else None)


def prerequisites_with_progress(user: AnyUser, course: Course) -> list[Course]:
    """The published prerequisites of ``course``, with the user's progress on each."""
    return list(with_progress(course.prerequisites.filter(published=True), user).order_by("slug"))


def unmet_prerequisites(user: AnyUser, course: Course) -> list[Course]:
    """Prerequisites of ``course`` the user has not finished (every lesson completed). An unpublished
    prerequisite cannot be taken, so it does not count."""
    return [p for p in prerequisites_with_progress(user, course) if not p.progress.complete]


class _Identified(Protocol):
    pk: int


Item = TypeVar("Item", bound=_Identified)


def resume_lesson(outline: list[Item], done: set[int], last_id: int | None) -> Item | None:
    """Where "continue" leads: the lesson last read if it is not done, else the next one not done
    after it (wrapping round to the start); None when every lesson is done."""
    start = next((i for i, lesson in enumerate(outline) if lesson.pk == last_id), 0)
    return next((lesson for lesson in outline[start:] + outline[:start] if lesson.pk not in done), None)


@dataclass(frozen=True)
class ContinueItem:
    course: Course
    progress: Progress
    lesson: Lesson | None


def learner_continue(user: User, *, limit: int = 3) -> list[ContinueItem]:
    """ "Continue where you left off": the user's most recently active courses, and in each the
    lesson last read if not done yet, else the next one not done. Four queries for any number."""
    enrollments = list(
        Enrollment.objects.filter(user=user)
        .prefetch_related(Prefetch("course", queryset=with_progress(Course.objects.all(), user)))
        .order_by("-last_activity_at")[:limit]
    )
    course_ids = [enrollment.course_id for enrollment in enrollments]
    done = set(
        LessonCompletion.objects.filter(user=user, lesson__course_id__in=course_ids).values_list("lesson_id", flat=True)
    )
    outlines: dict[int, list[Lesson]] = {}
    light = Lesson.objects.filter(course_id__in=course_ids).only(
        "course_id", "slug", "position", "title_en", "title_zh"
    )
    for lesson in light.order_by("position"):
        outlines.setdefault(lesson.course_id, []).append(lesson)
    items = []
    for enrollment in enrollments:
        outline = outlines.get(enrollment.course_id, [])
        for lesson in outline:
            lesson.course = enrollment.course
        lesson = resume_lesson(outline, done, enrollment.last_lesson_id)
        items.append(ContinueItem(course=enrollment.course, progress=enrollment.course.progress, lesson=lesson))
    return items


def my_progress(user: User) -> tuple[list[Course], list[LearningPath]]:
    """The user's enrolled courses and the paths holding any of them, progress annotated."""
    courses = list(with_progress(courses_visible(user), user).filter(enrollments__user=user).order_by("slug"))
    paths = list(paths_with_courses(user).filter(steps__course__in=[c.pk for c in courses]).distinct())
    return courses, paths


def search_courses(courses: QuerySet[Course], text: str) -> QuerySet[Course]:
    """Courses whose title, summary or tag names contain ``text`` (either language)."""
    match = Q()
    for field in ("title_en", "title_zh", "summary_en", "summary_zh", "tags__name_en", "tags__name_zh"):
        match |= Q(**{f"{field}__icontains": text})
    return courses.filter(pk__in=Course.objects.filter(match).values("pk"))


# --- A cohort's courses ---------------------------------------------------------------


def cohort_courses(cohort: Cohort) -> QuerySet[Course]:
    """The published courses a cohort follows: its path's and its own (ids, usable as a subquery)."""
    chosen = Q(pk__in=Course.objects.filter(cohorts=cohort).values("pk"))
    if cohort.path_id is not None:
        chosen |= Q(pk__in=PathCourse.objects.filter(path_id=cohort.path_id).values("course_id"))
    return Course.objects.filter(chosen, published=True).values("pk")


def cohort_lesson_total(cohort: Cohort) -> int:
    """The number of lessons in the cohort's courses."""
    return Lesson.objects.filter(course__in=cohort_courses(cohort)).count()


def lessons_done(cohort: Cohort, learners: QuerySet | list[int]) -> tuple[int, dict[int, int]]:
    """The number of lessons in the cohort's courses, and how many each learner has completed."""
    courses = cohort_courses(cohort)
    total = cohort_lesson_total(cohort)
    done = dict(
        LessonCompletion.objects.filter(user__in=learners, lesson__course__in=courses)
        .values("user_id")
        .annotate(n=Count("pk"))
        .values_list("user_id", "n")
        .order_by()
    )
    return total, done


def modules_with_lessons(user: User | AnonymousUser) -> QuerySet[Module]:
    """The modules of the courses ``user`` may see, each with its lessons (and their labs) in order."""
    lessons = Lesson.objects.select_related("lab").order_by("position")
    modules = Module.objects.filter(course__in=courses_visible(user))
    return (
        modules.select_related("course").prefetch_related(Prefetch("lessons", lessons)).order_by("course", "position")
    )


def lessons_visible(user: User | AnonymousUser) -> QuerySet[Lesson]:
    """The lessons of the courses ``user`` may see, in course order."""
    visible = courses_visible(user)
    return Lesson.objects.filter(course__in=visible).select_related("course", "lab").order_by("course", "position")


# --- exercises -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExerciseResult:
    """One exercise a learner has tried (``exercise_results``). The exercise's skills are its
    lesson's (``Lesson.skills``)."""

    lesson_id: int
    exercise_id: str
    tries: int
    solved: bool
    solved_at: datetime | None


def exercise_results(user: AnyUser) -> list[ExerciseResult]:
    """Every exercise ``user`` has tried at least once (an answer judged), by lesson then id."""
    if not user.is_authenticated:
        return []
    rows = ExerciseProgress.objects.filter(user=user, tries__gt=0).order_by("lesson_id", "exercise")
    return [
        ExerciseResult(lesson_id=lesson_id, exercise_id=exercise, tries=tries, solved=solved, solved_at=solved_at)
        for lesson_id, exercise, tries, solved, solved_at in rows.values_list(
            "lesson_id", "exercise", "tries", "solved", "solved_at"
        )
    ]


def exercise_progress(user: AnyUser, lesson: Lesson) -> dict[str, ExerciseProgress]:
    """The learner's progress on each exercise of ``lesson``, by exercise id (one query; none
    without exercises)."""
    if not user.is_authenticated or not lesson.exercises:
        return {}
    return {p.exercise: p for p in ExerciseProgress.objects.filter(user=user, lesson=lesson)}


def code_checks_latest(user: AnyUser, lesson: Lesson) -> dict[str, CodeCheck]:
    """The newest code check of each code exercise of ``lesson`` (one query; none without code cells)."""
    if not user.is_authenticated or not any(e["kind"] == "code" for e in lesson.exercises):
        return {}
    latest: dict[str, CodeCheck] = {}
    for check in CodeCheck.objects.filter(user=user, lesson=lesson).order_by("-created_at", "-pk")[:50]:
        latest.setdefault(check.exercise, check)
    return latest


def code_check_latest(user: AnyUser, lesson: Lesson, exercise_id: str) -> CodeCheck | None:
    if not user.is_authenticated:
        return None
    checks = CodeCheck.objects.filter(user=user, lesson=lesson, exercise=exercise_id)
    return checks.order_by("-created_at", "-pk").first()
