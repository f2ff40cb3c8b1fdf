"""The coach's next steps on generated cohorts: never locked, never done, never hidden, never twice.

A curriculum is generated (skills; courses behind prerequisites, one unpublished; labs, one a
draft; lessons that fix findings; cohort deadlines), then learners in every state: enrolled or
not (some in a course whose prerequisite is unfinished: they joined before it was added),
lessons completed at random, runs that passed or ended with a finding (diverging, flat,
learning), a mentor's pins and hides, some on what is done or locked. Each learner's next
steps are checked by an oracle written apart from ``coach.recommend``.

Prints ``COACH_violations <n>`` (goal 0) and ``COACH_ms <median ms>`` (a learner's next steps and
skill profile, uncached).

Runs on a temporary SQLite database, or on ``DATABASE_URL`` if set (a scratch database).

    .venv/bin/python -m bench.coach [--learners 300]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.platform_harness import broker_running

CURVES = {
    "diverging": [{"step": n, "t": n / 10, "metrics": {"loss": 0.5 * 1.6**n}} for n in range(1, 16)],
    "flat": [{"step": n, "t": n / 10, "metrics": {"loss": 0.69}} for n in range(1, 16)],
    "learning": [{"step": n, "t": n / 10, "metrics": {"loss": 1.0 / n}} for n in range(1, 16)],
}
PARAMS = {
    "epochs": {"type": "int", "default": 10, "min": 1, "max": 50},
    "lr": {"type": "float", "default": 0.1, "min": 0.0001, "max": 1.0},
}
PREFIX = "gen-coach"
CURVES_FINDINGS = ("diverging", "not_learning", "underfitting", "unstable", "overfitting")


def curriculum_generate(rng: random.Random) -> dict[str, Any]:
    """Skills, courses (a prerequisite chain, one unpublished), labs (one a draft), a cohort with a mentor."""
    from cohorts.models import Cohort, LabDeadline
    from core.services import user_create
    from courses.models import Course, Lesson, Module
    from labs.models import Dataset, Lab
    from skills.models import Skill

    skills = [
        Skill.objects.create(
            slug=f"{PREFIX}-skill-{n}", name_en=f"Skill {n}", diagnoses=rng.sample(list(CURVES_FINDINGS), 2), position=n
        )
        for n in range(5)
    ]
    courses = []
    for n in range(5):
        course = Course.objects.create(
            slug=f"{PREFIX}-course-{n}", title_en=f"Course {n}", summary_en="-", published=n != 4
        )
        module = Module.objects.create(course=course, slug="m1", position=1, title_en="Module")
        for k in range(1, rng.randint(3, 5) + 1):
            lesson = Lesson.objects.create(
                course=course,
                module=module,
                slug=f"l{k}",
                position=k,
                title_en=f"Lesson {n}.{k}",
                body_en="-",
                fixes=rng.sample(list(CURVES_FINDINGS), rng.randint(0, 1)),
            )
            lesson.skills.set(rng.sample(skills, rng.randint(0, 2)))
        courses.append(course)
    courses[1].prerequisites.add(courses[0])
    courses[3].prerequisites.add(courses[2], courses[4])  # an unpublished prerequisite does not count
    labs = []
    for n in range(6):
        lab = Lab.objects.create(
            slug=f"{PREFIX}-lab-{n}",
            title_en=f"Lab {n}",
            description_en="-",
            starter_code="pass",
            metric="accuracy",
            threshold=0.8,
            params=PARAMS,
        )
        dataset = Dataset.objects.create(
            lab=lab,
            version=1,
            sha256=hashlib.sha256(f"{PREFIX}{n}".encode()).hexdigest(),
            file_name="-",
            test_labels=b"",
            n_train=1,
            n_test=1,
            feature_shape=[1],
        )
        Lab.objects.filter(pk=lab.pk).update(dataset=dataset, published=n != 5)
        lab.refresh_from_db()
        lab.skills.set(rng.sample(skills, rng.randint(1, 2)))
        labs.append(lab)
    mentor = user_create(username=f"{PREFIX}-mentor", password=os.urandom(8).hex(), role="mentor")
    today = dt.date.today()
    cohort = Cohort.objects.create(
        slug=f"{PREFIX}-cohort", name="Generated", starts_on=today, ends_on=today + dt.timedelta(days=90)
    )
    cohort.mentors.add(mentor)
    now = dt.datetime.now(dt.UTC)
    for lab, days in zip(labs[:3], (2, -3, -30), strict=True):
        LabDeadline.objects.create(cohort=cohort, lab=lab, due_at=now + dt.timedelta(days=days))
    return {"courses": courses, "labs": labs, "mentor": mentor, "cohort": cohort}


def learner_generate(rng: random.Random, n: int, world: dict[str, Any]) -> Any:
    """A learner in a random state (see the module's docstring)."""
    from coach.models import Choice
    from cohorts.models import CohortMember
    from core.services import user_create
    from courses.models import Enrollment, Lesson, LessonCompletion
    from labs.diagnosis import run_diagnose
    from labs.models import Run, RunState, Submission

    learner = user_create(username=f"{PREFIX}-learner-{n:04d}", password=os.urandom(8).hex(), role="learner")
    if rng.random() < 0.8:
        CohortMember.objects.create(cohort=world["cohort"], learner=learner, mentor=world["mentor"])
    for course in world["courses"]:
        if rng.random() < 0.5:
            Enrollment.objects.create(user=learner, course=course)
    lessons = list(Lesson.objects.filter(course__in=world["courses"]))
    for lesson in rng.sample(lessons, rng.randint(0, len(lessons))):
        LessonCompletion.objects.create(user=learner, lesson=lesson)
    for lab in world["labs"]:
        for _ in range(rng.choice((0, 0, 1, 2))):
            kind = rng.choice(("passed", *CURVES))
            submission = Submission.objects.create(
                learner=learner,
                lab=lab,
                code="pass",
                code_sha256="0" * 64,
                source="web",
                params={"lr": rng.choice((0.0001, 0.01, 0.5, 1.0)), "epochs": rng.choice((1, 10, 50))},
            )
            run = Run.objects.create(
                submission=submission,
                dataset=lab.dataset,
                seed=1,
                state=rng.choice((RunState.SUCCEEDED, RunState.SUCCEEDED, RunState.FAILED)),
                curve=CURVES["learning" if kind == "passed" else kind],
                score=0.9 if kind == "passed" else 0.3,
                passed=kind == "passed",
                finished_at=dt.datetime.now(dt.UTC),
            )
            run_diagnose(Run.objects.select_related("submission__lab").get(pk=run.pk))
    targets = [("lesson", lesson) for lesson in rng.sample(lessons, 3)] + [("lab", rng.choice(world["labs"]))]
    for kind, target in targets:
        if rng.random() < 0.3:  # pins and hides written as they stand (the service refuses some): the coach must cope
            Choice.objects.create(
                learner=learner,
                mentor=world["mentor"],
                kind=rng.choice(("pin", "hide")),
                note="generated",
                **{kind: target},
            )
    return learner


def step_violations(learner: Any, steps: list[Any], *, limit: int) -> list[str]:
    """What is wrong with ``steps`` (an oracle that shares no code with ``coach.recommend``)."""
    from coach.models import Choice
    from courses.models import Enrollment, Lesson, LessonCompletion
    from labs.models import Lab, Run

    problems = []
    done = set(LessonCompletion.objects.filter(user=learner).values_list("lesson_id", flat=True))
    passed = set(
        Run.objects.filter(submission__learner=learner, passed=True).values_list("submission__lab_id", flat=True)
    )
    enrolled = set(Enrollment.objects.filter(user=learner).values_list("course_id", flat=True))
    hidden = {c.target_key for c in Choice.objects.filter(learner=learner, kind="hide")}
    if len(steps) > limit:
        problems.append(f"{len(steps)} steps, more than {limit}")
    seen: set[tuple[str, str]] = set()
    for step in steps:
        if not step.reason.strip():
            problems.append(f"{step.target}: no reason")
        if (step.kind == "parameter", step.target) in seen:
            problems.append(f"{step.target}: twice")
        seen.add((step.kind == "parameter", step.target))
        if step.target in hidden:
            problems.append(f"{step.target}: hidden by the mentor")
        kind, _sep, pk = step.target.partition(":")
        if kind == "lesson":
            lesson = Lesson.objects.select_related("course").get(pk=int(pk))
            course = lesson.course
            if not course.published:
                problems.append(f"{step.target}: its course is unpublished")
            if lesson.pk in done:
                problems.append(f"{step.target}: done")
            if course.pk not in enrolled:
                for needed in course.prerequisites.filter(published=True):
                    total = needed.lessons.count()
                    if not total or needed.lessons.filter(pk__in=done).count() < total:
                        problems.append(f"{step.target}: behind the unfinished prerequisite {needed.slug}")
        else:
            lab = Lab.objects.get(pk=int(pk))
            if not lab.published:
                problems.append(f"{step.target}: a draft lab")
            if lab.pk in passed:
                problems.append(f"{step.target}: passed")
    return problems


def cohort_check(learners: int, seed: int = 0) -> tuple[int, list[float], dict[str, int]]:
    """(violations, ms per learner, how many steps of each kind) over a generated cohort."""
    from coach.evidence import learner_facts
    from coach.profile import profile_build
    from coach.recommend import LIMIT, steps_choose

    rng = random.Random(seed)
    world = curriculum_generate(rng)
    violations = 0
    timings = []
    kinds: dict[str, int] = {}
    now = dt.datetime.now(dt.UTC)
    for n in range(learners):
        learner = learner_generate(rng, n, world)
        started = time.perf_counter()
        facts = learner_facts(learner)
        steps = steps_choose(learner, facts, profile_build(facts), now=now)
        timings.append((time.perf_counter() - started) * 1000)
        for step in steps:
            kinds[step.kind] = kinds.get(step.kind, 0) + 1
        problems = step_violations(learner, steps, limit=LIMIT)
        for problem in problems:
            print(f"  {learner.username}: {problem}", flush=True)
        violations += len(problems)
    return violations, timings, kinds


def main(learners: int) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="bench-coach-") as tmp, broker_running(Path(tmp)):
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
        os.environ["VAR_DIR"] = tmp
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        violations, timings, kinds = cohort_check(learners)
    print(f"coach: {learners} generated learners; steps by kind: {dict(sorted(kinds.items()))}")
    print(f"  next steps + profile per learner: median {statistics.median(timings):.1f} ms, max {max(timings):.1f} ms")
    return [f"COACH_violations {violations}", f"COACH_ms {statistics.median(timings):.1f}"]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=300)
    for line in main(parser.parse_args().learners):
        print(line)
