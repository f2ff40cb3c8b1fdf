"""Reads for grading: who sees which gradebook, a cohort's gradebook in a fixed number of queries
(whatever the number of learners, labs, runs and reviews), a learner's own grades, leaderboards.

The arithmetic is in ``rules.rules``; this module only loads its inputs and hands them over."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AnonymousUser
from django.db.models import OuterRef, Q, QuerySet, Subquery

from cohorts.models import Cohort, CohortMember, LabDeadline
from core.models import User
from courses.models import Progress
from courses.selectors import lessons_done
from grading import rules
from grading.models import GradeOverride
from labs.models import Lab, Run, RunState
from labs.selectors import reference_result
from mentorship.models import Review

AnyUser = User | AnonymousUser


# --- Who sees what -------------------------------------------------------------------------


def is_grading_admin(user: AnyUser) -> bool:
    return user.is_authenticated and user.has_perm("core.administer")


def gradebook_members(*, user: AnyUser, cohort: Cohort) -> QuerySet[CohortMember]:
    """The rows of ``cohort``'s gradebook ``user`` may see: every member for an administrator, a
    mentor's own mentees, nobody for anyone else."""
    members = CohortMember.objects.filter(cohort=cohort).select_related("learner", "mentor")
    members = members.order_by("learner__username")
    if is_grading_admin(user):
        return members
    if user.is_authenticated and user.has_perm("core.mentor"):
        return members.filter(mentor=user)
    return members.none()


def can_view_gradebook(*, user: AnyUser, cohort: Cohort) -> bool:
    """Administrators, and mentors of the cohort (listed on it, or mentoring one of its learners)."""
    if is_grading_admin(user):
        return True
    if not (user.is_authenticated and user.has_perm("core.mentor")):
        return False
    return _mentors_in(cohort, user)


def can_view_cohort_leaderboard(*, user: AnyUser, cohort: Cohort) -> bool:
    """Members, their mentors and administrators."""
    if is_grading_admin(user):
        return True
    if not user.is_authenticated:
        return False
    return CohortMember.objects.filter(cohort=cohort, learner=user).exists() or _mentors_in(cohort, user)


def gradebook_cohorts(user: AnyUser) -> QuerySet[Cohort]:
    """Cohorts whose gradebook ``user`` may open (see ``can_view_gradebook``)."""
    if is_grading_admin(user):
        return Cohort.objects.all()
    if not (user.is_authenticated and user.has_perm("core.mentor")):
        return Cohort.objects.none()
    return Cohort.objects.filter(Q(members__mentor=user) | Q(mentors=user)).distinct()


def _mentors_in(cohort: Cohort, user: User) -> bool:
    mentees = CohortMember.objects.filter(cohort=cohort, mentor=user)
    return mentees.exists() or cohort.mentors.filter(pk=user.pk).exists()


# --- The gradebook -------------------------------------------------------------------------


@dataclass(frozen=True)
class GradebookRow:
    member: CohortMember  # with learner and mentor loaded
    grade: rules.Grade | None  # None when the policy cannot grade (see Gradebook.error)


@dataclass(frozen=True)
class Gradebook:
    cohort: Cohort
    policy: rules.Policy
    labs: tuple[rules.LabSpec, ...]
    lesson_total: int
    rows: tuple[GradebookRow, ...]
    error: str | None  # why no grade could be computed (a GradingPolicyError's message)


def cohort_policy(cohort: Cohort) -> rules.Policy:
    return rules.Policy(
        lab_weight=cohort.lab_weight,
        review_weight=cohort.review_weight,
        course_weight=cohort.course_weight,
        pass_mark=cohort.pass_mark,
        score_rule=cohort.score_rule,
        late_penalty_per_day=cohort.late_penalty_per_day,
        late_cutoff_days=cohort.late_cutoff_days,
    )


def cohort_labs(cohort: Cohort) -> tuple[rules.LabSpec, ...]:
    """The cohort's labs: those with a deadline in it, soonest due first."""
    deadlines = LabDeadline.objects.filter(cohort=cohort).select_related("lab").order_by("due_at", "lab__slug")
    return tuple(
        rules.LabSpec(
            lab_id=d.lab_id,
            slug=d.lab.slug,
            title=d.lab.title,
            higher_is_better=d.lab.higher_is_better,
            threshold=d.lab.threshold,
            due_at=d.due_at,
            weight=d.weight,
        )
        for d in deadlines
    )


def gradebook_build(*, cohort: Cohort, members: QuerySet[CohortMember]) -> Gradebook:
    """Grades of ``members`` (rows of ``cohort``) in seven queries, whatever their number."""
    rows = list(members)
    learners = members.order_by().values("learner_id")
    labs = cohort_labs(cohort)
    runs = _runs_by_learner(cohort, learners)
    reviews = _reviews_by_learner(cohort, learners)
    overrides = _overrides_by_learner(cohort, learners)
    lesson_total, done = lessons_done(cohort, learners)
    policy = cohort_policy(cohort)
    try:
        rules.policy_check(policy, labs=labs, lesson_total=lesson_total)
    except rules.GradingPolicyError as error:
        return Gradebook(cohort, policy, labs, lesson_total, tuple(GradebookRow(m, None) for m in rows), str(error))
    graded = tuple(
        GradebookRow(
            member,
            rules.learner_grade(
                policy=policy,
                labs=labs,
                runs=runs[member.learner_id],
                reviews=reviews[member.learner_id],
                overrides=overrides[member.learner_id],
                lessons=Progress(done=done.get(member.learner_id, 0), total=lesson_total),
            ),
        )
        for member in rows
    )
    return Gradebook(cohort, policy, labs, lesson_total, graded, None)


def _runs_by_learner(cohort: Cohort, learners: QuerySet) -> dict[int, list[rules.RunRecord]]:
    runs = Run.objects.filter(
        submission__learner__in=learners,
        submission__lab__deadlines__cohort=cohort,
        state=RunState.SUCCEEDED,
        score__isnull=False,
        finished_at__isnull=False,
    ).values_list("pk", "submission__learner_id", "submission__lab_id", "score", "finished_at")
    found: dict[int, list[rules.RunRecord]] = defaultdict(list)
    for run_id, learner_id, lab_id, score, finished_at in runs.order_by():
        found[learner_id].append(rules.RunRecord(run_id, lab_id, score, finished_at))
    return found


def _reviews_by_learner(cohort: Cohort, learners: QuerySet) -> dict[int, list[rules.ReviewResult]]:
    reviews = Review.objects.filter(
        run__submission__learner__in=learners, run__submission__lab__deadlines__cohort=cohort
    ).values_list(
        "pk", "run_id", "run__submission__learner_id", "run__submission__lab_id", "points", "max_points", "created_at"
    )
    found: dict[int, list[rules.ReviewResult]] = defaultdict(list)
    for review_id, run_id, learner_id, lab_id, points, max_points, created_at in reviews.order_by():
        found[learner_id].append(rules.ReviewResult(review_id, run_id, lab_id, points, max_points, created_at))
    return found


def _overrides_by_learner(cohort: Cohort, learners: QuerySet) -> dict[int, list[rules.Override]]:
    found: dict[int, list[rules.Override]] = defaultdict(list)
    for o in GradeOverride.objects.filter(cohort=cohort, learner__in=learners).select_related("by"):
        found[o.learner_id].append(rules.Override(o.pk, o.lab_id, float(o.score), o.reason, str(o.by), o.created_at))
    return found


def grades_of(*, learner: User) -> list[Gradebook]:
    """The learner's own grade in each of their cohorts (a one-row gradebook each)."""
    memberships = CohortMember.objects.filter(learner=learner).select_related("cohort").order_by("-cohort__starts_on")
    return [
        gradebook_build(
            cohort=m.cohort, members=CohortMember.objects.filter(pk=m.pk).select_related("learner", "mentor")
        )
        for m in memberships
    ]


# --- Leaderboards --------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardEntry:
    rank: int | None  # equal values share a rank (1, 2, 2, 4); None: the reference, shown but not ranked
    learner_id: int
    name: str  # User.public_name: the nickname when the learner chose it
    value: float  # the run's score (a lab's board) or the final grade (a cohort's)
    at: datetime | None  # when the run finished (a lab's board)
    run_id: int | None
    is_reference: bool = False  # the lab's reference solution (``labs.publishing``)


def ranked(entries: list[tuple[int, str, float, datetime | None, int | None]]) -> list[BoardEntry]:
    """Entries already in board order, given competition ranks."""
    board: list[BoardEntry] = []
    for position, (learner_id, name, value, at, run_id) in enumerate(entries, start=1):
        rank = board[-1].rank if board and board[-1].value == value else position
        board.append(BoardEntry(rank, learner_id, name, value, at, run_id))
    return board


def lab_leaderboard(*, lab: Lab, rule: str = rules.BEST, limit: int = 100) -> list[BoardEntry]:
    """Each learner's best (or latest) succeeded run of ``lab``, best score first. One query."""
    best_first = "-score" if lab.higher_is_better else "score"
    runs = Run.objects.filter(
        submission__lab=lab, state=RunState.SUCCEEDED, score__isnull=False, finished_at__isnull=False
    )
    per_learner = ("-finished_at", "-pk") if rule == rules.LATEST else (best_first, "finished_at", "pk")
    chosen = runs.filter(submission__learner=OuterRef("submission__learner")).order_by(*per_learner).values("pk")[:1]
    board = (
        runs.filter(pk=Subquery(chosen), submission__learner__is_active=True)
        .select_related("submission__learner")
        .order_by(best_first, "finished_at", "pk")[:limit]
    )
    return ranked(
        [(r.submission.learner_id, r.submission.learner.public_name, r.score, r.finished_at, r.pk) for r in board]
    )


def board_with_reference(board: list[BoardEntry], *, lab: Lab) -> list[BoardEntry]:
    """``board`` with the lab's reference run, when it succeeded, where its score sorts (after equal
    scores): a yardstick, not a rank, so the learners' ranks stay as they are."""
    run = reference_result(lab)
    if run is None:
        return board
    assert run.score is not None
    score = run.score
    reference = BoardEntry(None, run.submission.learner_id, "", score, run.finished_at, run.pk, is_reference=True)
    worse = [entry.value < score if lab.higher_is_better else entry.value > score for entry in board]
    at = worse.index(True) if True in worse else len(board)
    return [*board[:at], reference, *board[at:]]


def cohort_leaderboard(*, cohort: Cohort) -> tuple[list[BoardEntry], str | None]:
    """Every member by final grade, highest first; or no entries and why."""
    members = CohortMember.objects.filter(cohort=cohort).select_related("learner", "mentor")
    book = gradebook_build(cohort=cohort, members=members)
    if book.error:
        return [], book.error
    rows = sorted(book.rows, key=lambda row: (-row.grade.final, row.member.learner.public_name.lower()))
    return ranked([(r.member.learner_id, r.member.learner.public_name, r.grade.final, None, None) for r in rows]), None
