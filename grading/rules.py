"""Grading: how lab runs, mentor reviews and course progress become a learner's grade in a cohort.

Pure computation: dataclasses in, dataclasses out. Nothing here queries the database;
``grading.selectors`` loads the inputs of a whole cohort in a fixed number of queries.
Every grade and part is a number of points from 0 to 100.

**A run's points.** The lab's pass threshold is the target. A run that reaches it
(``Lab.passes``: score ≥ threshold, or ≤ for lower-is-better metrics) earns 100 points; one that
falls short earns its share of the target:

* higher is better (accuracy, macro-F1, R²): ``100 × score / threshold``, never below 0 —
  accuracy 0.6 where the lab asks for 0.8 earns 75; a negative R² earns 0;
* lower is better (MSE): ``100 × threshold / score`` — MSE 0.5 where the lab asks for 0.25 earns 50.

A threshold of 0 or less on a higher-is-better metric leaves all (passed) or nothing.

**Late runs.** A run counts for a lab by the time it finished (``Run.finished_at``) against the
cohort's deadline for that lab. Finishing exactly at the deadline is on time. Each *started* day
after it costs ``late_penalty_per_day`` points (one second late is one day; 24 h and one second is
two), never below 0. A run more than ``late_cutoff_days`` days late does not count at all.

**Which run counts.** Among a learner's succeeded runs of the lab that count (after the penalty):
``best`` takes the most points, the earliest to finish on a tie; ``latest`` takes the last to
finish. So a late run can lose to an earlier on-time run under ``best``, and under ``latest`` a
later, worse run replaces a better one. No run that counts: 0 points.

**Review points.** The newest *scored* review (``max_points > 0``) of any of the learner's runs of
the lab, as ``100 × points / max_points``. Any run, not only the one that counts, so a better run
submitted after the mentor's review does not throw the review away. No review: 0 points (shown as
"not reviewed").

**Course part.** The percentage of the cohort's lessons (its path's courses and its own courses)
the learner completed.

**Final grade.** The lab part and the review part are averages over the cohort's labs weighted by
each deadline's weight (a lab of weight 0 is practice and counts in neither). The final grade is
the average of the three parts weighted by the cohort's ``lab_weight``, ``review_weight`` and
``course_weight``, normalised to their sum: a weight of 0 drops its part, and so does a part with
nothing to grade (no weighted labs; no lessons). Every weight 0, or nothing left to grade, is a
``GradingPolicyError``. The learner passes when the final grade, rounded to two decimals, is at
least the pass mark.

**Overrides.** A mentor or administrator may set a lab's points or the final grade by hand, with a
reason. Overrides are never edited: the newest for (learner, lab) replaces that lab's run points
(before the lab part is averaged; review points are untouched), the newest without a lab replaces
the final grade, and the older ones are the history shown beside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from cohorts.models import GradeRule
from courses.models import Progress

# Which run counts (a cohort's ``score_rule``): the one list of values, ``cohorts.models.GradeRule``.
BEST = GradeRule.BEST
LATEST = GradeRule.LATEST
FULL_POINTS = 100.0
DAY = timedelta(days=1)


class GradingPolicyError(ValueError):
    """The cohort's policy cannot produce a grade: every weight is 0, or there is nothing to grade."""


# --- Inputs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """A cohort's grading policy (``core.models.Cohort``'s fields)."""

    lab_weight: int
    review_weight: int
    course_weight: int
    pass_mark: float
    score_rule: str = BEST
    late_penalty_per_day: float = 10
    late_cutoff_days: int = 7


@dataclass(frozen=True)
class LabSpec:
    """One of the cohort's labs, with its deadline and weight in this cohort."""

    lab_id: int
    slug: str
    title: str
    higher_is_better: bool
    threshold: float
    due_at: datetime
    weight: int = 1


@dataclass(frozen=True)
class RunRecord:
    """A succeeded, scored run of a learner."""

    run_id: int
    lab_id: int
    score: float
    finished_at: datetime


@dataclass(frozen=True)
class ReviewResult:
    review_id: int
    run_id: int
    lab_id: int
    points: int
    max_points: int
    created_at: datetime


@dataclass(frozen=True)
class Override:
    """A manual grade. ``lab_id`` None: the final grade."""

    override_id: int
    lab_id: int | None
    score: float
    reason: str
    by: str
    created_at: datetime


# --- Outputs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class JudgedRun:
    """A run with what the late policy made of it."""

    run: RunRecord
    raw_points: float
    days_late: int
    penalty: float
    points: float
    counts: bool  # False: finished after the cut-off


@dataclass(frozen=True)
class LabGrade:
    lab: LabSpec
    runs: tuple[JudgedRun, ...]  # newest first
    counted: JudgedRun | None  # the run that counts, by the cohort's rule
    auto_points: float  # the counted run's points after the penalty (0 without one)
    override: Override | None
    history: tuple[Override, ...]  # every override of this lab, newest first (the one in force included)
    points: float  # the override's score if there is one, else auto_points
    review: ReviewResult | None
    review_points: float | None  # None: not reviewed (counts as 0)

    @property
    def runs_past_cutoff(self) -> int:
        return sum(1 for judged in self.runs if not judged.counts)


@dataclass(frozen=True)
class Grade:
    labs: tuple[LabGrade, ...]
    lab_part: float | None  # None: dropped (nothing to grade)
    review_part: float | None
    course: Progress  # lessons done of the cohort's lessons
    course_part: float | None
    computed: float  # the weighted average, before a final override
    override: Override | None
    history: tuple[Override, ...]  # final-grade overrides, newest first
    final: float
    pass_mark: float
    passed: bool


# --- Arithmetic ----------------------------------------------------------------------------


def run_points(score: float, *, higher_is_better: bool, threshold: float) -> float:
    """0–100 points for a score: 100 at the threshold or better, else the share of the target."""
    if (score >= threshold) if higher_is_better else (score <= threshold):
        return FULL_POINTS
    if higher_is_better:
        share = score / threshold if threshold > 0 else 0.0
    else:
        share = threshold / score if threshold > 0 else 0.0  # score > threshold ≥ 0 here
    return round(FULL_POINTS * min(max(share, 0.0), 1.0), 2)


def days_late(finished_at: datetime, due_at: datetime) -> int:
    """Started days after the deadline: 0 at or before it, 1 from one second after it."""
    late = finished_at - due_at
    if late <= timedelta(0):
        return 0
    return -(-late // DAY)  # ceiling of a timedelta division


def judge_run(run: RunRecord, *, lab: LabSpec, policy: Policy) -> JudgedRun:
    raw = run_points(run.score, higher_is_better=lab.higher_is_better, threshold=lab.threshold)
    late = days_late(run.finished_at, lab.due_at)
    penalty = float(late * policy.late_penalty_per_day)
    return JudgedRun(
        run=run,
        raw_points=raw,
        days_late=late,
        penalty=penalty,
        points=round(max(raw - penalty, 0.0), 2),
        counts=late <= policy.late_cutoff_days,
    )


def pick_run(judged: Iterable[JudgedRun], *, rule: str) -> JudgedRun | None:
    """The run that counts: most points (earliest on a tie) or last finished, among those that count."""
    counting = [j for j in judged if j.counts]
    if not counting:
        return None
    if rule == LATEST:
        return max(counting, key=lambda j: (j.run.finished_at, j.run.run_id))
    if rule == BEST:
        return min(counting, key=lambda j: (-j.points, j.run.finished_at, j.run.run_id))
    raise GradingPolicyError(f"unknown score rule {rule!r}")


def review_points(review: ReviewResult) -> float:
    return round(FULL_POINTS * min(review.points, review.max_points) / review.max_points, 2)


def newest_scored_review(reviews: Iterable[ReviewResult]) -> ReviewResult | None:
    scored = [r for r in reviews if r.max_points > 0]
    return max(scored, key=lambda r: (r.created_at, r.review_id), default=None)


def newest_first(overrides: Iterable[Override]) -> tuple[Override, ...]:
    return tuple(sorted(overrides, key=lambda o: (o.created_at, o.override_id), reverse=True))


def course_percent(lessons: Progress) -> float | None:
    """Percentage of the lessons done (two decimals); None when there are no lessons."""
    return round(FULL_POINTS * min(lessons.done, lessons.total) / lessons.total, 2) if lessons.total else None


def weighted_average(pairs: Iterable[tuple[float, float]]) -> float | None:
    """Average of (weight, value) pairs, weights normalised to their sum; None if they sum to 0."""
    pairs = [(w, v) for w, v in pairs if w > 0]
    total = sum(w for w, _ in pairs)
    return sum(w * v for w, v in pairs) / total if total else None


def lab_grade(
    *,
    lab: LabSpec,
    runs: Iterable[RunRecord],
    reviews: Iterable[ReviewResult],
    overrides: Iterable[Override],
    policy: Policy,
) -> LabGrade:
    """One lab of one learner. ``runs``, ``reviews`` and ``overrides`` may hold other labs' rows."""
    judged = tuple(
        sorted(
            (judge_run(r, lab=lab, policy=policy) for r in runs if r.lab_id == lab.lab_id),
            key=lambda j: (j.run.finished_at, j.run.run_id),
            reverse=True,
        )
    )
    counted = pick_run(judged, rule=policy.score_rule)
    auto = counted.points if counted else 0.0
    history = newest_first(o for o in overrides if o.lab_id == lab.lab_id)
    override = history[0] if history else None
    review = newest_scored_review(r for r in reviews if r.lab_id == lab.lab_id)
    return LabGrade(
        lab=lab,
        runs=judged,
        counted=counted,
        auto_points=auto,
        override=override,
        history=history,
        points=float(override.score) if override else auto,
        review=review,
        review_points=review_points(review) if review else None,
    )


def policy_check(policy: Policy, *, labs: Sequence[LabSpec], lesson_total: int) -> None:
    """Raise GradingPolicyError when no grade can be computed for anyone in the cohort."""
    if policy.lab_weight + policy.review_weight + policy.course_weight == 0:
        raise GradingPolicyError(_("Every grading weight of this cohort is 0; give at least one part a weight."))
    has_labs = any(lab.weight > 0 for lab in labs)
    if not ((has_labs and (policy.lab_weight or policy.review_weight)) or (lesson_total and policy.course_weight)):
        raise GradingPolicyError(_("Nothing to grade yet: no weighted part has a lab deadline or a lesson."))


def learner_grade(
    *,
    policy: Policy,
    labs: Sequence[LabSpec],
    runs: Iterable[RunRecord],
    reviews: Iterable[ReviewResult],
    overrides: Iterable[Override],
    lessons: Progress,
) -> Grade:
    """A learner's grade in a cohort from their runs, reviews, overrides and lesson progress."""
    policy_check(policy, labs=labs, lesson_total=lessons.total)
    runs, reviews, overrides = list(runs), list(reviews), list(overrides)
    grades = tuple(lab_grade(lab=lab, runs=runs, reviews=reviews, overrides=overrides, policy=policy) for lab in labs)
    lab_part = _rounded(weighted_average((g.lab.weight, g.points) for g in grades))
    review_part = _rounded(weighted_average((g.lab.weight, g.review_points or 0.0) for g in grades))
    course_part = course_percent(lessons)
    computed = weighted_average(
        (weight, part)
        for weight, part in (
            (policy.lab_weight, lab_part),
            (policy.review_weight, review_part),
            (policy.course_weight, course_part),
        )
        if part is not None
    )
    assert computed is not None  # policy_check guarantees one weighted part with something to grade
    history = newest_first(o for o in overrides if o.lab_id is None)
    override = history[0] if history else None
    final = round(float(override.score), 2) if override else round(computed, 2)
    return Grade(
        labs=grades,
        lab_part=lab_part,
        review_part=review_part,
        course=lessons,
        course_part=course_part,
        computed=round(computed, 2),
        override=override,
        history=history,
        final=final,
        pass_mark=policy.pass_mark,
        passed=final >= policy.pass_mark,
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def two_decimals(value: float | None) -> str:
    """Points as the gradebook page and its CSV show them: two decimals; empty for none."""
    return "" if value is None else f"{value:.2f}"
