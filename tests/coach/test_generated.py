"""Next steps over a generated cohort (``bench.coach``): learners in every state, the mentor's pins
and hides among them, none of their steps locked, done, hidden or twice — checked by an oracle
that shares no code with the coach, and that does catch a bad step."""

from __future__ import annotations

import random

import pytest

from bench.coach import cohort_check, curriculum_generate, learner_generate, step_violations
from coach.recommend import Step
from courses.models import LessonCompletion


@pytest.mark.django_db
def test_a_generated_cohort_gets_no_step_that_is_locked_done_hidden_or_twice() -> None:
    violations, timings, kinds = cohort_check(60, seed=7)
    assert violations == 0
    assert len(timings) == 60
    # the generated states reach every kind of step, so each rule was exercised
    assert {"pinned", "deadline", "parameter", "fix", "continue", "skill"} <= set(kinds), kinds


@pytest.mark.django_db
def test_the_oracle_catches_a_step_at_something_done() -> None:
    rng = random.Random(1)
    world = curriculum_generate(rng)
    learner = learner_generate(rng, 0, world)
    completion = LessonCompletion.objects.filter(user=learner).select_related("lesson").first()
    if completion is None:
        lesson = world["courses"][0].lessons.first()
        completion = LessonCompletion.objects.create(user=learner, lesson=lesson)
    bad = Step("skill", "x", "/", "a reason", f"lesson:{completion.lesson_id}")
    assert any("done" in problem for problem in step_violations(learner, [bad], limit=3))
    draft = world["labs"][5]
    assert any(
        "draft" in problem
        for problem in step_violations(learner, [Step("skill", "x", "/", "r", f"lab:{draft.pk}")], limit=3)
    )
