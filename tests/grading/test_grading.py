"""The grading arithmetic of ``grading.rules``: pure functions, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from courses.models import Progress
from grading.rules import (
    BEST,
    LATEST,
    GradingPolicyError,
    LabSpec,
    Override,
    Policy,
    ReviewResult,
    RunRecord,
    days_late,
    judge_run,
    lab_grade,
    learner_grade,
    run_points,
    weighted_average,
)

DUE = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SECOND, DAY = timedelta(seconds=1), timedelta(days=1)
NO_LESSONS = Progress(done=0, total=0)


def policy(**changes: object) -> Policy:
    fields = {
        "lab_weight": 60,
        "review_weight": 30,
        "course_weight": 10,
        "pass_mark": 60,
        "score_rule": BEST,
        "late_penalty_per_day": 10,
        "late_cutoff_days": 7,
    }
    return Policy(**{**fields, **changes})


def lab(lab_id: int = 1, *, threshold: float = 0.8, higher: bool = True, weight: int = 1) -> LabSpec:
    return LabSpec(
        lab_id=lab_id,
        slug=f"lab-{lab_id}",
        title=f"Lab {lab_id}",
        higher_is_better=higher,
        threshold=threshold,
        due_at=DUE,
        weight=weight,
    )


def run(run_id: int, score: float, *, at: datetime = DUE - DAY, lab_id: int = 1) -> RunRecord:
    return RunRecord(run_id=run_id, lab_id=lab_id, score=score, finished_at=at)


def review(review_id: int, points: int, max_points: int = 10, *, run_id: int = 1, lab_id: int = 1, at: int = 0):
    return ReviewResult(review_id, run_id, lab_id, points, max_points, DUE + timedelta(hours=at))


def override(override_id: int, score: float, *, lab_id: int | None = 1, at: int = 0, reason: str = "re-marked"):
    return Override(override_id, lab_id, score, reason, "Ada", DUE + timedelta(hours=at))


def grade(*, labs=(), runs=(), reviews=(), overrides=(), lessons=NO_LESSONS, **policy_changes: object):
    return learner_grade(
        policy=policy(**policy_changes), labs=labs, runs=runs, reviews=reviews, overrides=overrides, lessons=lessons
    )


# --- A run's points ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "points"),
    [(0.8, 100.0), (0.95, 100.0), (0.6, 75.0), (0.4, 50.0), (0.0, 0.0), (-0.3, 0.0)],
)
def test_higher_is_better_earns_its_share_of_the_threshold(score: float, points: float) -> None:
    assert run_points(score, higher_is_better=True, threshold=0.8) == points


@pytest.mark.parametrize(("score", "points"), [(0.1, 100.0), (0.25, 100.0), (0.5, 50.0), (1.0, 25.0), (100.0, 0.25)])
def test_lower_is_better_earns_the_threshold_over_the_score(score: float, points: float) -> None:
    assert run_points(score, higher_is_better=False, threshold=0.25) == points


def test_the_threshold_decides_the_points_of_the_same_score() -> None:
    assert run_points(0.6, higher_is_better=True, threshold=0.6) == 100.0
    assert run_points(0.6, higher_is_better=True, threshold=0.9) == pytest.approx(66.67)
    assert run_points(0.5, higher_is_better=False, threshold=0.5) == 100.0
    assert run_points(0.5, higher_is_better=False, threshold=0.1) == 20.0


def test_a_threshold_of_zero_is_all_or_nothing() -> None:
    assert run_points(0.0, higher_is_better=True, threshold=0.0) == 100.0
    assert run_points(-0.1, higher_is_better=True, threshold=0.0) == 0.0
    assert run_points(0.0, higher_is_better=False, threshold=0.0) == 100.0
    assert run_points(0.01, higher_is_better=False, threshold=0.0) == 0.0


# --- Late runs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("finished", "days"),
    [
        (DUE - DAY, 0),
        (DUE, 0),  # exactly at the deadline is on time
        (DUE + SECOND, 1),  # one second late is a started day
        (DUE + DAY, 1),
        (DUE + DAY + SECOND, 2),
        (DUE + 3 * DAY - SECOND, 3),
    ],
)
def test_days_late_counts_started_days(finished: datetime, days: int) -> None:
    assert days_late(finished, DUE) == days


def test_a_run_exactly_at_the_deadline_has_no_penalty() -> None:
    judged = judge_run(run(1, 0.8, at=DUE), lab=lab(), policy=policy())
    assert (judged.days_late, judged.penalty, judged.points, judged.counts) == (0, 0.0, 100.0, True)


def test_one_second_late_costs_a_whole_day() -> None:
    judged = judge_run(run(1, 0.8, at=DUE + SECOND), lab=lab(), policy=policy())
    assert (judged.raw_points, judged.days_late, judged.penalty, judged.points) == (100.0, 1, 10.0, 90.0)


def test_the_penalty_is_per_started_day_and_stops_at_zero() -> None:
    p = policy(late_penalty_per_day=15)
    assert judge_run(run(1, 0.8, at=DUE + 2 * DAY + SECOND), lab=lab(), policy=p).points == 55.0
    assert judge_run(run(2, 0.4, at=DUE + 5 * DAY), lab=lab(), policy=p).points == 0.0  # 50 − 75


def test_a_run_past_the_cutoff_does_not_count() -> None:
    p = policy(late_cutoff_days=7, late_penalty_per_day=5)
    at_cutoff = judge_run(run(1, 0.8, at=DUE + 7 * DAY), lab=lab(), policy=p)
    past_cutoff = judge_run(run(2, 0.8, at=DUE + 7 * DAY + SECOND), lab=lab(), policy=p)
    assert (at_cutoff.counts, at_cutoff.points) == (True, 65.0)
    assert past_cutoff.counts is False
    graded = lab_grade(lab=lab(), runs=[run(2, 0.8, at=DUE + 7 * DAY + SECOND)], reviews=[], overrides=[], policy=p)
    assert (graded.counted, graded.points, graded.runs_past_cutoff) == (None, 0.0, 1)


def test_a_cutoff_of_zero_days_refuses_every_late_run() -> None:
    graded = lab_grade(
        lab=lab(), runs=[run(1, 0.9, at=DUE + SECOND)], reviews=[], overrides=[], policy=policy(late_cutoff_days=0)
    )
    assert graded.counted is None


# --- Which run counts ----------------------------------------------------------------------


def test_best_and_latest_pick_different_runs_once_the_penalty_is_applied() -> None:
    on_time = run(1, 0.7, at=DUE - DAY)  # 87.5 points
    late = run(2, 0.9, at=DUE + DAY + SECOND)  # 100 − 2 × 10 = 80 points, though the better score
    best = lab_grade(lab=lab(), runs=[late, on_time], reviews=[], overrides=[], policy=policy(score_rule=BEST))
    latest = lab_grade(lab=lab(), runs=[late, on_time], reviews=[], overrides=[], policy=policy(score_rule=LATEST))
    assert (best.counted.run, best.points) == (on_time, 87.5)
    assert (latest.counted.run, latest.points) == (late, 80.0)
    assert [j.run.run_id for j in best.runs] == [2, 1]  # newest first


def test_without_a_penalty_best_takes_the_higher_score() -> None:
    runs = [run(1, 0.7, at=DUE - DAY), run(2, 0.9, at=DUE + SECOND)]
    graded = lab_grade(lab=lab(), runs=runs, reviews=[], overrides=[], policy=policy(late_penalty_per_day=0))
    assert graded.counted.run.run_id == 2


def test_latest_skips_a_run_past_the_cutoff() -> None:
    runs = [run(1, 0.5, at=DUE - DAY), run(2, 0.9, at=DUE + 8 * DAY)]
    graded = lab_grade(lab=lab(), runs=runs, reviews=[], overrides=[], policy=policy(score_rule=LATEST))
    assert (graded.counted.run.run_id, graded.points) == (1, 62.5)


def test_best_breaks_a_tie_with_the_earliest_run() -> None:
    runs = [run(2, 0.95, at=DUE - DAY), run(1, 0.85, at=DUE - 2 * DAY)]  # both 100 points
    assert lab_grade(lab=lab(), runs=runs, reviews=[], overrides=[], policy=policy()).counted.run.run_id == 1


def test_lower_is_better_lab_takes_the_lowest_error() -> None:
    mse = lab(threshold=0.25, higher=False)
    runs = [run(1, 0.5), run(2, 0.2), run(3, 1.0)]
    graded = lab_grade(lab=mse, runs=runs, reviews=[], overrides=[], policy=policy())
    assert (graded.counted.run.run_id, graded.points) == (2, 100.0)
    latest = lab_grade(lab=mse, runs=runs[:1], reviews=[], overrides=[], policy=policy(score_rule=LATEST))
    assert latest.points == 50.0


def test_runs_of_other_labs_are_ignored() -> None:
    graded = lab_grade(lab=lab(1), runs=[run(1, 0.8, lab_id=2)], reviews=[], overrides=[], policy=policy())
    assert (graded.counted, graded.points) == (None, 0.0)


def test_an_unknown_rule_is_an_error() -> None:
    with pytest.raises(GradingPolicyError):
        lab_grade(lab=lab(), runs=[run(1, 0.8)], reviews=[], overrides=[], policy=policy(score_rule="median"))


# --- Reviews -------------------------------------------------------------------------------


def test_the_newest_scored_review_of_any_run_of_the_lab_counts() -> None:
    reviews = [
        review(1, 4, run_id=1, at=0),
        review(2, 8, run_id=2, at=1),  # a review of another run of the lab: newest, counts
        review(3, 0, max_points=0, run_id=2, at=2),  # unscored (no rubric): ignored
        review(4, 10, lab_id=2, at=3),  # another lab
    ]
    graded = lab_grade(lab=lab(), runs=[run(1, 0.8)], reviews=reviews, overrides=[], policy=policy())
    assert (graded.review.review_id, graded.review_points) == (2, 80.0)


def test_no_review_is_none_and_counts_as_zero() -> None:
    result = grade(labs=[lab()], runs=[run(1, 0.8)], lab_weight=50, review_weight=50, course_weight=0)
    assert result.labs[0].review_points is None
    assert (result.lab_part, result.review_part, result.final) == (100.0, 0.0, 50.0)


# --- Parts and weights ---------------------------------------------------------------------


def test_no_runs_and_no_reviews_leave_only_course_progress() -> None:
    result = grade(labs=[lab()], lessons=Progress(done=3, total=4))
    assert (result.lab_part, result.review_part, result.course_part) == (0.0, 0.0, 75.0)
    assert result.final == 7.5  # 75 × 10 / 100
    assert result.passed is False


def test_final_is_the_weighted_average_of_the_parts() -> None:
    labs = [lab(1), lab(2, weight=3)]
    runs = [run(1, 0.8, lab_id=1), run(2, 0.4, lab_id=2)]  # 100 and 50 points
    reviews = [review(1, 9, lab_id=1), review(2, 6, lab_id=2)]  # 90 and 60
    result = grade(labs=labs, runs=runs, reviews=reviews, lessons=Progress(done=1, total=2))
    assert result.lab_part == 62.5  # (100 + 3 × 50) / 4
    assert result.review_part == 67.5  # (90 + 3 × 60) / 4
    assert result.final == round(0.6 * 62.5 + 0.3 * 67.5 + 0.1 * 50, 2)


def test_a_zero_weight_drops_its_part() -> None:
    result = grade(labs=[lab()], runs=[run(1, 0.8)], lessons=Progress(done=0, total=5), review_weight=0)
    assert result.final == round(100 * 60 / 70, 2) == 85.71  # lab 60, course 10; reviews dropped


def test_a_lab_of_weight_zero_is_practice() -> None:
    result = grade(labs=[lab(1), lab(2, weight=0)], runs=[run(1, 0.8, lab_id=1)], review_weight=0, course_weight=0)
    assert result.lab_part == 100.0


def test_no_lessons_drop_the_course_part() -> None:
    result = grade(labs=[lab()], runs=[run(1, 0.8)], reviews=[review(1, 10)])
    assert result.course_part is None
    assert result.final == 100.0


def test_every_weight_zero_is_an_error() -> None:
    with pytest.raises(GradingPolicyError, match="0"):
        grade(labs=[lab()], lab_weight=0, review_weight=0, course_weight=0)


def test_nothing_to_grade_is_an_error() -> None:
    with pytest.raises(GradingPolicyError):
        grade(labs=[], lessons=NO_LESSONS)
    with pytest.raises(GradingPolicyError):  # the only lab is practice and there are no lessons
        grade(labs=[lab(weight=0)])


def test_weighted_average_ignores_zero_weights() -> None:
    assert weighted_average([(0, 10.0), (2, 50.0), (2, 100.0)]) == 75.0
    assert weighted_average([(0, 10.0)]) is None


# --- Overrides -----------------------------------------------------------------------------


def test_the_newest_lab_override_replaces_the_points_and_keeps_the_history() -> None:
    overrides = [override(1, 40, at=0), override(3, 70, at=2), override(2, 55, at=1), override(4, 99, lab_id=2)]
    graded = lab_grade(lab=lab(), runs=[run(1, 0.8)], reviews=[review(1, 5)], overrides=overrides, policy=policy())
    assert (graded.auto_points, graded.points, graded.override.override_id) == (100.0, 70.0, 3)
    assert [o.override_id for o in graded.history] == [3, 2, 1]
    assert graded.review_points == 50.0  # an override of the lab's points leaves the review alone


def test_overrides_at_the_same_moment_are_ordered_by_id() -> None:
    graded = lab_grade(lab=lab(), runs=[], reviews=[], overrides=[override(8, 30), override(9, 20)], policy=policy())
    assert graded.points == 20.0


def test_a_lab_override_feeds_the_lab_part() -> None:
    result = grade(labs=[lab()], runs=[run(1, 0.4)], overrides=[override(1, 90)], review_weight=0, course_weight=0)
    assert (result.labs[0].auto_points, result.lab_part, result.final) == (50.0, 90.0, 90.0)


def test_a_final_override_replaces_the_final_grade_and_the_verdict() -> None:
    overrides = [override(1, 80, lab_id=None, at=0), override(2, 55, lab_id=None, at=1)]
    result = grade(labs=[lab()], runs=[run(1, 0.8)], reviews=[review(1, 10)], overrides=overrides)
    assert result.computed == 100.0
    assert (result.final, result.passed) == (55.0, False)
    assert [o.score for o in result.history] == [55, 80]
    assert result.labs[0].override is None


# --- Passing -------------------------------------------------------------------------------


def test_a_final_grade_exactly_at_the_pass_mark_passes() -> None:
    # 100 × 0.3 / 0.5 is 59.999… in floating point; grades are rounded to two decimals first.
    result = grade(labs=[lab(threshold=0.5)], runs=[run(1, 0.3)], review_weight=0, course_weight=0, pass_mark=60)
    assert (result.final, result.passed) == (60.0, True)


def test_just_below_the_pass_mark_fails() -> None:
    result = grade(labs=[lab(threshold=0.5)], runs=[run(1, 0.29995)], review_weight=0, course_weight=0, pass_mark=60)
    assert (result.final, result.passed) == (59.99, False)
