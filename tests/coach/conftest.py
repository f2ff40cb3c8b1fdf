"""A small curriculum for the coach: courses with lessons tagged with skills, labs with bare
datasets (rows only: the coach reads no data), and runs that ended with a curve, read by the run
coach as the site reads them."""

from __future__ import annotations

import datetime as dt

import pytest

from cohorts.models import Cohort, CohortMember
from core.models import User
from courses.models import Course, Lesson
from labs.diagnosis import run_diagnose
from labs.models import Lab, Run, RunState, Submission
from skills.models import Skill
from tests.factories import CourseFactory, LessonFactory, ModuleFactory
from tests.grading.gradebook_setup import make_lab

DIVERGING = [{"step": n, "t": n / 10, "metrics": {"loss": 0.5 * 1.6**n}} for n in range(1, 16)]
LEARNING = [{"step": n, "t": n / 10, "metrics": {"loss": 1.0 / n}} for n in range(1, 16)]
PARAMS = {
    "epochs": {"type": "int", "default": 10, "min": 1, "max": 50},
    "lr": {"type": "float", "default": 0.1, "min": 0.0001, "max": 1.0},
}


def skill(slug: str, *, diagnoses: tuple[str, ...] = (), position: int = 0) -> Skill:
    return Skill.objects.create(
        slug=slug,
        name_en=slug.replace("-", " ").capitalize(),
        name_zh=f"技能 {slug}",
        diagnoses=list(diagnoses),
        position=position,
    )


def bare_lab(slug: str, *, published: bool = True, skills: tuple[Skill, ...] = (), params: dict | None = None) -> Lab:
    """A lab with a dataset row and no data file (the coach reads no data)."""
    lab = make_lab(slug)
    Lab.objects.filter(pk=lab.pk).update(
        title_en=f"Lab {slug}",
        title_zh=f"实验 {slug}",
        params=PARAMS if params is None else params,
        published=published,
    )
    lab.refresh_from_db()
    lab.skills.set(skills)
    return lab


def course(
    slug: str, lessons: int, *, skills: tuple[Skill, ...] = (), published: bool = True, fixes: tuple[str, ...] = ()
) -> Course:
    made = CourseFactory(slug=slug, title_en=f"Course {slug}", published=published)
    module = ModuleFactory(course=made, position=1)
    for n in range(1, lessons + 1):
        lesson = LessonFactory(module=module, position=n, slug=f"{slug}-{n}", fixes=list(fixes) if n == 1 else [])
        lesson.skills.set(skills)
    return made


def ended_run(learner: User, lab: Lab, curve: list[dict], *, params: dict | None = None, **fields: object) -> Run:
    submission = Submission.objects.create(
        learner=learner, lab=lab, code="pass", code_sha256="0" * 64, source="web", params=params or {}
    )
    fields = {"state": RunState.SUCCEEDED, "score": 0.2, "passed": False} | fields
    run = Run.objects.create(submission=submission, dataset=lab.dataset, seed=1, curve=curve, **fields)
    run_diagnose(Run.objects.select_related("submission__lab").get(pk=run.pk))
    run.refresh_from_db()
    return run


def lessons_of(made: Course) -> list[Lesson]:
    return list(made.lessons.order_by("position"))


def mentored(learner: User, mentor: User) -> Cohort:
    today = dt.date.today()
    cohort = Cohort.objects.create(
        slug=f"cohort-{learner.pk}", name="Spring cohort", starts_on=today, ends_on=today + dt.timedelta(days=60)
    )
    cohort.mentors.add(mentor)
    CohortMember.objects.create(cohort=cohort, learner=learner, mentor=mentor)
    return cohort


@pytest.fixture
def cohort(learner: User, mentor: User) -> Cohort:
    """The learner's cohort, with ``mentor`` as their mentor."""
    return mentored(learner, mentor)
