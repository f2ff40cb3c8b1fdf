"""Reads of mentorship: the review queue, the mentor dashboard, reviews, sessions and notes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Exists, F, Max, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, Window
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

from cohorts.models import CohortMember
from cohorts.permissions import is_admin, mentees_of
from core.models import User
from courses.selectors import lessons_done
from labs.models import Run, RunState, Submission
from mentorship.models import Dismissal, MentorNote, Review, SessionRecord

REVIEWABLE_STATES = (RunState.SUCCEEDED, RunState.FAILED, RunState.TIMED_OUT)
FAILURES_IN_A_ROW = 3


# What the queue's outcome filter (``state``) accepts: how the run ended, and whether it passed.
QUEUE_OUTCOMES: dict[str, Q] = {
    "passed": Q(state=RunState.SUCCEEDED, passed=True),
    "not_passed": Q(state=RunState.SUCCEEDED, passed=False),  # a sealed run (passed unknown) is neither
    RunState.SUCCEEDED.value: Q(state=RunState.SUCCEEDED),
    RunState.FAILED.value: Q(state=RunState.FAILED),
    RunState.TIMED_OUT.value: Q(state=RunState.TIMED_OUT),
}


def _unreviewed() -> Exists:
    return ~Exists(Review.objects.filter(run=OuterRef("pk")))


def _undismissed() -> Exists:
    return ~Exists(Dismissal.objects.filter(run=OuterRef("pk"), undone_at__isnull=True))


def _same_learner_and_lab() -> QuerySet[Run]:
    """Finished runs of the outer run's learner on the outer run's lab."""
    return Run.objects.filter(
        state__in=REVIEWABLE_STATES,
        submission__learner_id=OuterRef("submission__learner_id"),
        submission__lab_id=OuterRef("submission__lab_id"),
    )


def _waiting(runs: QuerySet[Run], *, include_dismissed: bool) -> QuerySet[Run]:
    runs = runs.filter(_unreviewed())
    return runs if include_dismissed else runs.filter(_undismissed())


def _queue_runs(
    *,
    mentor: User,
    lab: str | None = None,
    state: str | None = None,
    learner: str | None = None,
    all_runs: bool = False,
    include_dismissed: bool = False,
) -> QuerySet[Run]:
    """The queue's runs, filtered, in no order (``review_queue`` says what each one is)."""
    runs = Run.objects.filter(state__in=REVIEWABLE_STATES).exclude(submission__source=Submission.Source.REFERENCE)
    if not is_admin(mentor):
        runs = runs.filter(submission__learner__in=mentees_of(mentor))
    if lab:
        runs = runs.filter(submission__lab__slug=lab)
    if learner:
        runs = runs.filter(submission__learner__username=learner)
    if not all_runs:  # the newest finished run of each learner and lab: a review or dismissal of it settles them
        runs = runs.filter(~Exists(_same_learner_and_lab().filter(pk__gt=OuterRef("pk"))))
    runs = _waiting(runs, include_dismissed=include_dismissed)
    return runs.filter(QUEUE_OUTCOMES[state]) if state else runs


def review_queue(
    *,
    mentor: User,
    lab: str | None = None,
    state: str | None = None,
    learner: str | None = None,
    all_runs: bool = False,
    include_dismissed: bool = False,
) -> QuerySet[Run]:
    """What needs the mentor: finished runs of their mentees (every learner's, for an administrator)
    that nobody has reviewed or dismissed, oldest first. By default only the newest run of each
    learner and lab, with ``earlier_runs``: how many older ones wait too (folded into it); with
    ``all_runs`` every such run. ``state`` is a key of ``QUEUE_OUTCOMES``. Each run carries
    ``active_dismissals`` (a list, empty unless ``include_dismissed``). A fixed number of queries."""
    runs = _queue_runs(
        mentor=mentor,
        lab=lab,
        state=state,
        learner=learner,
        all_runs=all_runs,
        include_dismissed=include_dismissed,
    )
    if all_runs:
        runs = runs.annotate(earlier_runs=Value(0))
    else:
        earlier = _waiting(_same_learner_and_lab().filter(pk__lt=OuterRef("pk")), include_dismissed=include_dismissed)
        count = earlier.order_by().values("submission__lab_id").annotate(n=Count("pk")).values("n")
        runs = runs.annotate(earlier_runs=Coalesce(Subquery(count), 0))
    return queue_rows(runs).order_by("finished_at", "pk")


def queue_rows(runs: QuerySet[Run]) -> QuerySet[Run]:
    """``runs`` with what a row of the review queue shows: lab, learner, ``active_dismissals``."""
    active = Dismissal.objects.filter(undone_at__isnull=True).select_related("dismissed_by")
    return runs.select_related("submission__lab", "submission__learner").prefetch_related(
        Prefetch("dismissals", queryset=active, to_attr="active_dismissals")
    )


def waiting_per_learner(*, mentor: User, learner_ids: list[int]) -> dict[int, int]:
    """How many items of the mentor's (default) review queue belong to each of these learners."""
    runs = _queue_runs(mentor=mentor).filter(submission__learner_id__in=learner_ids)
    counts = runs.order_by().values("submission__learner_id").annotate(n=Count("pk"))
    return {row["submission__learner_id"]: row["n"] for row in counts}


def queue_holders(*, learner_id: int) -> set[int]:
    """Whose review queue holds this learner's runs: their mentors' and every administrator's."""
    mentors = CohortMember.objects.filter(learner_id=learner_id, mentor__isnull=False).values_list(
        "mentor_id", flat=True
    )
    return {*mentors, *User.objects.with_perm("core.administer").values_list("pk", flat=True)}


def mentee_usernames(*, mentor: User, limit: int) -> list[str]:
    """The first ``limit`` usernames of the mentor's mentees: what the queue's learner filter suggests."""
    return list(mentees_of(mentor).order_by("username").values_list("username", flat=True)[:limit])


def dismissal_of(run: Run) -> Dismissal | None:
    """The run's active dismissal, if a mentor took it out of the queue."""
    return Dismissal.objects.filter(run=run, undone_at__isnull=True).select_related("dismissed_by").first()


def reviews_of(run: Run) -> list[Review]:
    """Reviews of a run, newest first, with their scores and line comments."""
    return list(
        Review.objects.filter(run=run)
        .select_related("mentor")
        .prefetch_related("scores__criterion", "scores__level", "line_comments")
    )


def reviews_received(learner: User) -> QuerySet[Review]:
    return Review.objects.filter(run__submission__learner=learner).select_related("mentor", "run__submission__lab")


def sessions_of(learner: User) -> QuerySet[SessionRecord]:
    return SessionRecord.objects.filter(learner=learner).select_related("mentor")


def notes_about(*, reader: User, learner: User) -> QuerySet[MentorNote]:
    """Private notes: their author sees them, and administrators. Never the learner."""
    notes = MentorNote.objects.filter(learner=learner).select_related("mentor")
    if reader.pk == learner.pk:
        return notes.none()
    return notes if is_admin(reader) else notes.filter(mentor=reader)


@dataclass(frozen=True)
class MenteeStatus:
    learner: User
    cohort: str
    runs: int
    labs_passed: int
    awaiting_review: int  # items of the review queue: labs whose newest run waits for a mentor
    last_active: dt.datetime | None
    failures_in_a_row: int
    stuck_reason: str
    course_percent: int | None = None  # share of the cohort's lessons done; None without lessons

    @property
    def stuck(self) -> bool:
        return bool(self.stuck_reason)


def _failure_streaks(learner_ids: list[int]) -> dict[int, int]:
    """How many of each learner's latest runs in a row did not pass (up to FAILURES_IN_A_ROW). A sealed
    run that finished (a challenge entry's, its verdict withheld) is left out: it neither passed nor failed."""
    ranked = (
        Run.objects.filter(submission__learner_id__in=learner_ids, state__in=REVIEWABLE_STATES)
        .exclude(state=RunState.SUCCEEDED, sealed=True)
        .annotate(
            learner_id=F("submission__learner_id"),
            rank=Window(RowNumber(), partition_by=[F("submission__learner_id")], order_by=F("queued_at").desc()),
        )
        .filter(rank__lte=FAILURES_IN_A_ROW)
        .values_list("learner_id", "passed")
    )
    latest: dict[int, list[bool]] = {}
    for learner_id, passed in ranked:
        latest.setdefault(learner_id, []).append(bool(passed))
    streaks = {}
    for learner_id, outcomes in latest.items():
        streak = 0
        for passed in outcomes:
            if passed:
                break
            streak += 1
        streaks[learner_id] = streak
    return streaks


def mentor_dashboard(*, mentor: User, now: dt.datetime | None = None) -> list[MenteeStatus]:
    """Each mentee's activity, and who is stuck: nothing done for ``MENTOR_STUCK_DAYS`` days, or
    their last three runs all failed. Stuck learners first. A fixed number of queries."""
    now = now or timezone.now()
    mentees = list(
        mentees_of(mentor)
        .annotate(
            n_runs=Count("submissions__runs", distinct=True),
            n_passed=Count("submissions__lab", filter=Q(submissions__runs__passed=True), distinct=True),
            last_run=Max("submissions__runs__queued_at"),
            last_lesson=Max("completions__completed_at"),
        )
        .order_by("username")
    )
    memberships = list(_memberships(mentor, [m.pk for m in mentees]))
    cohorts = {m.learner_id: m.cohort.name for m in memberships}
    percents = _course_percents(memberships)
    streaks = _failure_streaks([m.pk for m in mentees])
    waiting = waiting_per_learner(mentor=mentor, learner_ids=[m.pk for m in mentees])
    stuck_after = dt.timedelta(days=settings.MENTOR_STUCK_DAYS)
    statuses = []
    for mentee in mentees:
        last = max((t for t in (mentee.last_run, mentee.last_lesson) if t), default=None)
        streak = streaks.get(mentee.pk, 0)
        if streak >= FAILURES_IN_A_ROW:
            reason = "failing"
        elif last is None or now - last > stuck_after:
            reason = "inactive"
        else:
            reason = ""
        statuses.append(
            MenteeStatus(
                learner=mentee,
                cohort=cohorts.get(mentee.pk, ""),
                runs=mentee.n_runs,
                labs_passed=mentee.n_passed,
                awaiting_review=waiting.get(mentee.pk, 0),
                last_active=last,
                failures_in_a_row=streak,
                stuck_reason=reason,
                course_percent=percents.get(mentee.pk),
            )
        )
    return sorted(statuses, key=lambda s: (not s.stuck, s.learner.username))


def _course_percents(memberships: list[CohortMember]) -> dict[int, int]:
    """Each mentee's share of their cohort's lessons done: two queries per cohort the mentor is in."""
    by_cohort: dict[int, list[CohortMember]] = {}
    for membership in memberships:
        by_cohort.setdefault(membership.cohort_id, []).append(membership)
    percents = {}
    for rows in by_cohort.values():
        total, done = lessons_done(rows[0].cohort, [m.learner_id for m in rows])
        if total:
            percents |= {m.learner_id: round(100 * done.get(m.learner_id, 0) / total) for m in rows}
    return percents


def _memberships(mentor: User, learner_ids: list[int]) -> QuerySet[CohortMember]:
    return CohortMember.objects.filter(mentor=mentor, learner_id__in=learner_ids).select_related("cohort")


@dataclass(frozen=True)
class CodeLine:
    number: int
    text: str
    comments: list[str]


def code_with_comments(code: str, reviews: list[Review]) -> list[CodeLine]:
    """The submitted code line by line, each with the line comments every review left on it."""
    by_line: dict[int, list[str]] = {}
    for review in reversed(reviews):  # oldest first under each line
        for comment in review.line_comments.all():
            by_line.setdefault(comment.line, []).append(f"{review.mentor}: {comment.text}")
    return [CodeLine(n, text, by_line.get(n, [])) for n, text in enumerate(code.split("\n"), start=1)]
