"""A graded cohort for the gradebook, grades and leaderboard tests.

Cohort "spring" (policy: labs 60, reviews 30, course 10, pass mark 60, best run, 10 points a day
late, cut-off 7 days) with two labs due at ``DUE`` and a course of four lessons:

* lena (mentor maria, nickname "NightOwl" shown on leaderboards):
  digits (accuracy ≥ 0.8): 0.6 on time (75 points) and 0.8 two started days late (100 − 20 = 80,
  the best); maria reviewed the on-time run 8/10 (80). prices (MSE ≤ 0.25): 0.2 on time (100).
  Two lessons of four (50 %). Final 0.6 × 90 + 0.3 × 40 + 0.1 × 50 = 71: passes.
* omar (mentor otto): digits 0.9 then 0.4, both on time (best: 100). Final 0.6 × 50 = 30: fails.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from cohorts.models import Cohort, CohortMember, LabDeadline
from core.models import Role, User
from courses.models import LessonCompletion
from labs.models import Dataset, Lab, Run, RunState, Submission
from mentorship.models import Review, Verdict
from tests.factories import CohortFactory, UserFactory, course_with_lessons

DUE = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
DAY, SECOND = timedelta(days=1), timedelta(seconds=1)


def make_lab(slug: str, *, metric: str = "accuracy", threshold: float = 0.8, higher: bool = True) -> Lab:
    lab = Lab.objects.create(
        slug=slug,
        title_en=slug.title(),
        description_en="A lab.",
        starter_code="",
        metric=metric,
        higher_is_better=higher,
        threshold=threshold,
    )
    lab.dataset = Dataset.objects.create(
        lab=lab,
        version=1,
        sha256=hashlib.sha256(slug.encode()).hexdigest(),
        file_name=f"{slug}.npz",
        test_labels=b"",
        n_train=1,
        n_test=1,
        feature_shape=[1],
    )
    lab.published = True  # a draft until it has its dataset
    lab.save(update_fields=["dataset", "published"])
    return lab


def make_run(learner: User, lab: Lab, score: float, finished_at: datetime) -> Run:
    submission = Submission.objects.create(learner=learner, lab=lab, code="x", code_sha256="x", source="web")
    return Run.objects.create(
        submission=submission,
        dataset=lab.dataset,
        state=RunState.SUCCEEDED,
        score=score,
        passed=lab.passes(score),
        finished_at=finished_at,
        seed=1,
        code_sha256="x",
    )


def make_review(run: Run, mentor: User, points: int, max_points: int = 10) -> Review:
    return Review.objects.create(run=run, mentor=mentor, verdict=Verdict.APPROVED, points=points, max_points=max_points)


@dataclass
class Spring:
    cohort: Cohort
    digits: Lab
    prices: Lab
    lena_late_run: Run
    lena_reviewed_run: Run


# Fixtures are named apart from their functions so test modules can import them without shadowing.
@pytest.fixture(name="other_mentor")
def other_mentor_fixture(db: None) -> User:
    return UserFactory(role=Role.MENTOR, username="otto")


@pytest.fixture(name="outside_mentor")
def outside_mentor_fixture(db: None) -> User:
    """A mentor with nobody in the cohort."""
    return UserFactory(role=Role.MENTOR, username="ned")


@pytest.fixture(name="spring")
def spring_fixture(learner: User, other_learner: User, mentor: User, other_mentor: User) -> Spring:
    cohort = CohortFactory(slug="spring", name="Spring cohort")
    cohort.mentors.set([mentor, other_mentor])
    CohortMember.objects.create(cohort=cohort, learner=learner, mentor=mentor)
    CohortMember.objects.create(cohort=cohort, learner=other_learner, mentor=other_mentor)
    learner.nickname, learner.show_nickname = "NightOwl", True
    learner.save(update_fields=["nickname", "show_nickname"])

    digits = make_lab("digits")
    prices = make_lab("prices", metric="mse", threshold=0.25, higher=False)
    LabDeadline.objects.create(cohort=cohort, lab=digits, due_at=DUE)
    LabDeadline.objects.create(cohort=cohort, lab=prices, due_at=DUE)

    on_time = make_run(learner, digits, 0.6, DUE - DAY)
    late = make_run(learner, digits, 0.8, DUE + DAY + SECOND)
    make_run(learner, prices, 0.2, DUE - DAY)
    make_review(on_time, mentor, 8)
    make_run(other_learner, digits, 0.9, DUE - 2 * DAY)
    make_run(other_learner, digits, 0.4, DUE - DAY)

    course = course_with_lessons(modules=2, lessons_per_module=2, slug="basics")
    cohort.courses.add(course)
    for lesson in course.lessons.order_by("position")[:2]:
        LessonCompletion.objects.create(user=learner, lesson=lesson)
    return Spring(cohort=cohort, digits=digits, prices=prices, lena_late_run=late, lena_reviewed_run=on_time)
