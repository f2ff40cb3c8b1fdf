"""A large, realistic data set for load tests and query budgets (``manage.py generate_scale_data``).

Everything is bulk-inserted in a few statements per table, deterministic for a given seed, and
named with a prefix (``scale-``) so it sits next to the demo data and can be removed again.
The defaults are issue 7's data set: 10,000 learners, 200 courses, 100,000 runs.

Shape: learners are split into cohorts of ``COHORT_SIZE`` on one learning path, each cohort with
mentors and lab deadlines; each learner is enrolled in the path's courses with some lessons done
and has submitted runs (all final: mostly scored, a few failed or cancelled) to the demo
labs; a tenth of the finished runs carry a mentor review.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from cohorts.models import Cohort, CohortMember, LabDeadline
from core.models import Role, User
from core.services import roles_sync
from courses.models import Course, Enrollment, LearningPath, Lesson, LessonCompletion, Module, PathCourse
from labs.demo_seed import demo_labs_seed
from labs.models import Lab, Run, RunState, Submission
from mentorship.models import Review, Verdict

PREFIX = "scale"
COHORT_SIZE = 500
LEARNERS_PER_MENTOR = 50
PATH_COURSES = 5
MODULES_PER_COURSE = 2
LESSONS_PER_MODULE = 5
BATCH = 2000
CODE = (
    "import torch\n\n\ndef train(data, run):\n    return None\n\n\n"
    "def predict(model, x):\n    return torch.zeros(len(x))\n"
)
LESSON_BODY = "A generated lesson.\n\n$$\\sigma(x) = \\frac{1}{1 + e^{-x}}$$\n\n```python\nimport torch\n```\n"


@dataclass(frozen=True)
class ScaleCounts:
    learners: int
    mentors: int
    courses: int
    lessons: int
    cohorts: int
    enrollments: int
    completions: int
    runs: int
    reviews: int


def scale_data_exists() -> bool:
    return User.objects.filter(username__startswith=f"{PREFIX}-").exists()


@transaction.atomic
def scale_data_delete() -> None:
    """Remove everything a previous generation made (in dependency order)."""
    users = User.objects.filter(username__startswith=f"{PREFIX}-")
    Review.objects.filter(mentor__in=users).delete()
    Run.objects.filter(submission__learner__in=users).delete()
    Submission.objects.filter(learner__in=users).delete()
    Cohort.objects.filter(slug__startswith=f"{PREFIX}-").delete()
    LearningPath.objects.filter(slug__startswith=f"{PREFIX}-").delete()
    Course.objects.filter(slug__startswith=f"{PREFIX}-").delete()
    users.delete()


def _chunks(items: Iterable[Model], size: int = BATCH) -> Iterator[list[Model]]:
    chunk: list[Model] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _insert(model: type[Model], rows: Iterable[Model]) -> int:
    """Bulk-insert lazily built rows in batches (a generator never holds 100,000 objects)."""
    count = 0
    for chunk in _chunks(rows):
        model.objects.bulk_create(chunk)
        count += len(chunk)
    return count


def _users(role: str, count: int, password_hash: str, label: str) -> list[User]:
    _insert(
        User,
        (
            User(
                username=f"{PREFIX}-{label}-{n:05d}",
                password=password_hash,
                display_name=f"{label.title()} {n}",
                email=f"{PREFIX}-{label}-{n:05d}@example.test",
            )
            for n in range(count)
        ),
    )
    users = list(User.objects.filter(username__startswith=f"{PREFIX}-{label}-").order_by("username"))
    group = roles_sync()[role]
    _insert(User.groups.through, (User.groups.through(user_id=u.pk, group_id=group.pk) for u in users))
    return users


def _curriculum(courses: int) -> tuple[LearningPath, list[Course], dict[int, list[int]]]:
    """``courses`` courses of 2 modules × 5 lessons; the first PATH_COURSES form the path."""
    _insert(
        Course,
        (
            Course(
                slug=f"{PREFIX}-course-{n:04d}",
                title_en=f"Generated course {n}",
                title_zh=f"生成的课程 {n}",
                summary_en="A course of the generated data set.",
                summary_zh="生成数据集中的课程。",
                level=("beginner", "intermediate", "advanced")[n % 3],
            )
            for n in range(courses)
        ),
    )
    course_list = list(Course.objects.filter(slug__startswith=f"{PREFIX}-course-").order_by("slug"))
    _insert(
        Module,
        (
            Module(course=c, slug=f"m{m}", position=m, title_en=f"Module {m}", title_zh=f"模块 {m}")
            for c in course_list
            for m in range(1, MODULES_PER_COURSE + 1)
        ),
    )
    modules = Module.objects.filter(course__in=course_list).order_by("course_id", "position")
    _insert(
        Lesson,
        (
            Lesson(
                course_id=module.course_id,
                module=module,
                slug=f"{module.slug}-l{k}",
                position=(module.position - 1) * LESSONS_PER_MODULE + k,
                title_en=f"Lesson {module.position}.{k}",
                title_zh=f"第 {module.position}.{k} 课",
                body_en=LESSON_BODY,
                body_zh=LESSON_BODY,
            )
            for module in modules
            for k in range(1, LESSONS_PER_MODULE + 1)
        ),
    )
    path = LearningPath.objects.create(
        slug=f"{PREFIX}-path", title_en="Generated path", title_zh="生成的学习路径", summary_en="Generated."
    )
    on_path = course_list[:PATH_COURSES]
    PathCourse.objects.bulk_create(PathCourse(path=path, course=c, position=i + 1) for i, c in enumerate(on_path))
    lessons: dict[int, list[int]] = {}
    for course_id, lesson_id in (
        Lesson.objects.filter(course__in=on_path).order_by("position").values_list("course_id", "pk")
    ):
        lessons.setdefault(course_id, []).append(lesson_id)
    return path, on_path, lessons


def scale_data_generate(
    *, learners: int = 10_000, courses: int = 200, runs: int = 100_000, password: str, seed: int = 1
) -> ScaleCounts:
    """Generate the data set. Refuses (ValueError) when one is already there."""
    if scale_data_exists():
        raise ValueError("generated data already exists; remove it first (--replace)")
    rng = random.Random(seed)  # noqa: S311 -- reproducible data, not secrets
    labs: list[Lab] = demo_labs_seed()
    password_hash = make_password(password)
    with transaction.atomic():
        learner_list = _users(Role.LEARNER, learners, password_hash, "learner")
        mentor_list = _users(Role.MENTOR, max(1, learners // LEARNERS_PER_MENTOR), password_hash, "mentor")
        path, on_path, path_lessons = _curriculum(courses)
        mentor_of = _cohorts(path, on_path, learner_list, mentor_list, labs)
        enrollments = _insert(Enrollment, (Enrollment(user=u, course=c) for u in learner_list for c in on_path))
        completions = _insert(
            LessonCompletion,
            (
                LessonCompletion(user=u, lesson_id=lesson_id)
                for u in learner_list
                for lessons in path_lessons.values()
                for lesson_id in lessons[: rng.randrange(len(lessons) + 1)]
            ),
        )
    run_count, review_count = _runs(rng, runs, learner_list, mentor_of, labs)
    _statistics_refresh()
    return ScaleCounts(
        learners=len(learner_list),
        mentors=len(mentor_list),
        courses=courses,
        lessons=Lesson.objects.filter(course__slug__startswith=f"{PREFIX}-").count(),
        cohorts=Cohort.objects.filter(slug__startswith=f"{PREFIX}-").count(),
        enrollments=enrollments,
        completions=completions,
        runs=run_count,
        reviews=review_count,
    )


def _cohorts(
    path: LearningPath, on_path: list[Course], learners: list[User], mentors: list[User], labs: list[Lab]
) -> dict[int, int]:
    """Cohorts of COHORT_SIZE; returns learner id -> mentor id."""
    today = timezone.localdate()
    mentor_of: dict[int, int] = {}
    for number, start in enumerate(range(0, len(learners), COHORT_SIZE)):
        cohort = Cohort.objects.create(
            slug=f"{PREFIX}-cohort-{number:03d}",
            name=f"Generated cohort {number}",
            path=path,
            starts_on=today - dt.timedelta(days=30),
            ends_on=today + dt.timedelta(days=60),
        )
        cohort.courses.set(on_path)
        members = learners[start : start + COHORT_SIZE]
        per_cohort = max(1, COHORT_SIZE // LEARNERS_PER_MENTOR)
        own_mentors = mentors[number * per_cohort : (number + 1) * per_cohort] or mentors[:per_cohort]
        cohort.mentors.set(own_mentors)
        rows = []
        for i, learner in enumerate(members):
            mentor = own_mentors[i % len(own_mentors)]
            mentor_of[learner.pk] = mentor.pk
            rows.append(CohortMember(cohort=cohort, learner=learner, mentor=mentor, path=path))
        _insert(CohortMember, rows)
        LabDeadline.objects.bulk_create(
            LabDeadline(cohort=cohort, lab=lab, due_at=timezone.now() + dt.timedelta(days=7 * (k + 1)))
            for k, lab in enumerate(labs)
        )
    return mentor_of


def _runs(
    rng: random.Random, count: int, learners: list[User], mentor_of: dict[int, int], labs: list[Lab]
) -> tuple[int, int]:
    """``count`` submissions with one run each, spread over learners and labs; a tenth reviewed."""
    now = timezone.now()
    code_sha = "0" * 64
    for chunk_start in range(0, count, BATCH):
        n = min(BATCH, count - chunk_start)
        picks = [(learners[(chunk_start + i) % len(learners)], labs[rng.randrange(len(labs))]) for i in range(n)]
        with transaction.atomic():
            submissions = Submission.objects.bulk_create(
                Submission(learner=u, lab=lab, code=CODE, code_sha256=code_sha, source="api") for u, lab in picks
            )
            Run.objects.bulk_create(_run_row(rng, s, lab, now) for s, (_, lab) in zip(submissions, picks, strict=True))
    ours = Run.objects.filter(submission__learner__username__startswith=f"{PREFIX}-")
    finished = list(ours.filter(state=RunState.SUCCEEDED).values_list("pk", "submission__learner_id"))
    reviews = (
        Review(
            run_id=run_id,
            mentor_id=mentor_of[learner_id],
            verdict=Verdict.APPROVED,
            comment="Good.",
            points=3,
            max_points=4,
        )
        for run_id, learner_id in finished
        if learner_id in mentor_of and rng.random() < 0.1
    )
    return ours.count(), _insert(Review, reviews)


def _run_row(rng: random.Random, submission: Submission, lab: Lab, now: dt.datetime) -> Run:
    roll = rng.random()
    # No live states: a sweeper running next to the data set would try to send them to workers.
    state = RunState.SUCCEEDED if roll < 0.9 else RunState.FAILED if roll < 0.98 else RunState.CANCELLED
    started = now - dt.timedelta(minutes=rng.randrange(1, 60 * 24 * 30))
    score = round(rng.uniform(0.5, 1.0), 4) if state == RunState.SUCCEEDED else None
    curve = [{"step": k, "t": k * 0.1, "metrics": {"loss": round(1 / (k + 1), 4)}} for k in range(5)]
    return Run(
        submission=submission,
        dataset_id=lab.dataset_id,
        state=state,
        reason="" if state != RunState.FAILED else "error: ValueError: generated failure",
        seed=rng.randrange(2**31),
        code_sha256=submission.code_sha256,
        started_at=started,
        finished_at=started + dt.timedelta(seconds=rng.randrange(2, 90)),
        sent_at=started,
        worker_host="scale-worker",
        device="cpu",
        curve=curve,
        log="epoch 1 loss 0.5\n",
        score=score,
        passed=None if score is None else lab.passes(score),
    )


def _statistics_refresh() -> None:
    """Let the query planner know the tables' new sizes, as autovacuum would a while later.

    Without it PostgreSQL plans the first queries after a bulk load for nearly empty tables
    (nested loops over 100,000 runs: the review queue took 2.6 s instead of 5 ms).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
