"""A cohort where `mentor` mentors `learner` and `other_mentor` mentors `other_learner`, a lab
with a rubric, and finished runs to review."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cohorts.models import Cohort, CohortMember
from core.models import Role, User
from labs import services as lab_services
from labs.models import Lab, Run, RunState, Submission
from mentorship.models import Criterion, Level, Rubric
from tests.factories import UserFactory
from tests.labs.conftest import VALID_CODE, lab  # noqa: F401 - the fixture is used by the tests here


@pytest.fixture
def other_mentor(db: None) -> User:
    return UserFactory(role=Role.MENTOR, username="otto")


@pytest.fixture
def cohort(learner: User, other_learner: User, mentor: User, other_mentor: User) -> Cohort:
    today = timezone.localdate()
    cohort = Cohort.objects.create(
        slug="spring", name="Spring cohort", starts_on=today, ends_on=today + dt.timedelta(60)
    )
    cohort.mentors.set([mentor, other_mentor])
    CohortMember.objects.create(cohort=cohort, learner=learner, mentor=mentor)
    CohortMember.objects.create(cohort=cohort, learner=other_learner, mentor=other_mentor)
    return cohort


@pytest.fixture
def rubric(lab: Lab) -> Rubric:  # noqa: F811 - the lab fixture
    return rubric_create(lab)


def rubric_create(lab: Lab) -> Rubric:  # noqa: F811 - a lab, not the fixture
    """The ``rubric`` fixture's rubric: two criteria, three levels each (0, 2 and 5 points)."""
    rubric = Rubric.objects.create(lab=lab)
    for position, (title, title_zh) in enumerate([("Correctness", "正确性"), ("Code quality", "代码质量")], start=1):
        criterion = Criterion.objects.create(rubric=rubric, position=position, title_en=title, title_zh=title_zh)
        for n, (level, points) in enumerate([("Missing", 0), ("Partly", 2), ("Fully", 5)], start=1):
            Level.objects.create(criterion=criterion, position=n, title_en=level, points=points)
    return rubric


def finished_run(learner: User, lab: Lab, *, passed: bool = True, state: str = RunState.SUCCEEDED) -> Run:  # noqa: F811
    run = lab_services.submission_create(learner=learner, lab=lab, source="web", code=VALID_CODE)
    Run.objects.filter(pk=run.pk).update(
        state=state, score=0.9 if passed else 0.3, passed=passed, finished_at=timezone.now()
    )
    run.refresh_from_db()
    return run


def levels_for(rubric: Rubric, choice: str) -> dict[int, int]:
    return {c.pk: c.levels.get(title_en=choice).pk for c in rubric.criteria.all()}


def queued_result(
    learner: User,
    lab: Lab,  # noqa: F811 - a lab, not the fixture
    *,
    state: str = RunState.SUCCEEDED,
    score: float | None = 0.9,
    source: str = Submission.Source.WEB,
) -> Run:
    """A finished run written straight to the database: no quota, no dispatch (bursts of many)."""
    submission = Submission.objects.create(
        learner=learner, lab=lab, code=VALID_CODE, code_sha256="0" * 64, source=source
    )
    score = score if state == RunState.SUCCEEDED else None
    return Run.objects.create(
        submission=submission,
        dataset_id=lab.dataset_id,
        state=state,
        seed=1,
        code_sha256="0" * 64,
        score=score,
        passed=None if score is None else lab.passes(score),
        finished_at=timezone.now(),
    )


def another_lab(lab: Lab, slug: str, *, threshold: float = 0.5, higher_is_better: bool = True) -> Lab:  # noqa: F811
    """A published lab that shares ``lab``'s dataset (the queue never opens it)."""
    return Lab.objects.create(
        slug=slug,
        title_en=f"Lab {slug}",
        description_en="x",
        starter_code=VALID_CODE,
        metric="accuracy" if higher_is_better else "mse",
        higher_is_better=higher_is_better,
        threshold=threshold,
        dataset_id=lab.dataset_id,
        published=True,
    )
