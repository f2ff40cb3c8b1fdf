"""What a learner did, read in a fixed number of queries: the facts the skill profile
(``coach.profile``) and the next steps (``coach.recommend``) are computed from."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse

from core.models import User
from courses.models import Lesson, LessonCompletion
from courses.selectors import exercise_results
from labs.models import FINAL_STATES, Lab, Run, Submission
from mentorship.models import Review
from skills.models import Skill


@dataclass(frozen=True)
class LabFact:
    title: str
    url: str


@dataclass(frozen=True)
class ReviewFact:
    points: int
    max_points: int
    lab_title: str
    run_url: str


@dataclass(frozen=True)
class ExerciseFact:
    exercise: str
    solved: bool
    tries: int


@dataclass(frozen=True)
class Gap:
    """A finding on the learner's latest run of a lab they have not passed."""

    code: str
    run_id: int
    lab_id: int
    lab_title: str
    run_url: str
    params: dict[str, Any]
    evidence: dict[str, Any]


@dataclass
class LearnerFacts:
    skills: list[Skill]
    skill_lessons: dict[int, list[int]]  # skill -> its lessons in published courses, in course order
    skill_labs: dict[int, list[int]]  # skill -> its published labs
    labs: dict[int, LabFact]  # the published labs
    completed: set[int]  # lessons
    tried: set[int]  # labs with a run that ended
    passed: set[int]  # labs with a run that passed
    reviews: dict[int, list[ReviewFact]] = field(default_factory=dict)  # lab -> reviews with points
    exercises: dict[int, list[ExerciseFact]] = field(default_factory=dict)  # lesson -> exercises tried
    gaps: list[Gap] = field(default_factory=list)  # newest run first


def learner_facts(learner: User) -> LearnerFacts:
    skills = list(Skill.objects.all())
    labs = {lab.pk: LabFact(lab.title, lab.get_absolute_url()) for lab in Lab.objects.filter(published=True)}
    skill_lessons: dict[int, list[int]] = defaultdict(list)
    tagged = Lesson.skills.through.objects.filter(lesson__course__published=True).order_by(
        "lesson__course__slug", "lesson__position"
    )
    for skill_id, lesson_id in tagged.values_list("skill_id", "lesson_id"):
        skill_lessons[skill_id].append(lesson_id)
    skill_labs: dict[int, list[int]] = defaultdict(list)
    for skill_id, lab_id in (
        Lab.skills.through.objects.filter(lab_id__in=labs).order_by("lab__slug").values_list("skill_id", "lab_id")
    ):
        skill_labs[skill_id].append(lab_id)
    facts = LearnerFacts(
        skills=skills,
        skill_lessons=dict(skill_lessons),
        skill_labs=dict(skill_labs),
        labs=labs,
        completed=set(LessonCompletion.objects.filter(user=learner).values_list("lesson_id", flat=True)),
        tried=set(),
        passed=set(),
    )
    _runs_read(learner, facts)
    _reviews_read(learner, facts)
    for result in exercise_results(learner):
        facts.exercises.setdefault(result.lesson_id, []).append(
            ExerciseFact(exercise=result.exercise_id, solved=result.solved, tries=result.tries)
        )
    return facts


def _runs_read(learner: User, facts: LearnerFacts) -> None:
    """Which labs were tried and passed, and the findings on the latest run of each lab not passed."""
    runs = (
        Run.objects.filter(submission__learner=learner, state__in=FINAL_STATES, submission__lab_id__in=facts.labs)
        .exclude(submission__source=Submission.Source.REFERENCE)
        .order_by("-finished_at", "-pk")
        .values_list("pk", "submission__lab_id", "passed", "diagnosis", "submission__params")
    )
    latest: dict[int, tuple[int, list[dict[str, Any]] | None, dict[str, Any]]] = {}
    for pk, lab_id, passed, diagnosis, params in runs:
        facts.tried.add(lab_id)
        if passed:
            facts.passed.add(lab_id)
        latest.setdefault(lab_id, (pk, diagnosis, params or {}))
    for lab_id, (pk, diagnosis, params) in latest.items():
        if lab_id in facts.passed:
            continue
        for finding in diagnosis or []:
            facts.gaps.append(
                Gap(
                    code=finding["code"],
                    run_id=pk,
                    lab_id=lab_id,
                    lab_title=facts.labs[lab_id].title,
                    run_url=reverse("labs:run", args=[pk]),
                    params=params,
                    evidence=finding.get("evidence") or {},
                )
            )
    facts.gaps.sort(key=lambda gap: -gap.run_id)


def _reviews_read(learner: User, facts: LearnerFacts) -> None:
    reviews = (
        Review.objects.filter(
            run__submission__learner=learner, max_points__gt=0, run__submission__lab_id__in=facts.labs
        )
        .order_by("-created_at", "-pk")
        .values_list("points", "max_points", "run_id", "run__submission__lab_id")
    )
    seen: set[int] = set()
    for points, max_points, run_id, lab_id in reviews:
        if run_id in seen:
            continue  # a run reviewed again: the newest review is the one that counts
        seen.add(run_id)
        facts.reviews.setdefault(lab_id, []).append(
            ReviewFact(points, max_points, facts.labs[lab_id].title, reverse("labs:run", args=[run_id]))
        )
