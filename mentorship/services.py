"""Writes of mentorship: reviews with a rubric, dismissals from the review queue, session records,
private notes."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cohorts.permissions import can_mentor
from core.live import live_publish, user_topic
from core.models import NotificationKind, User
from core.preferences import language_of
from core.text import db_text
from labs.models import FINAL_STATES, Run
from mentorship.models import (
    Dismissal,
    DismissReason,
    Level,
    LineComment,
    MentorNote,
    Review,
    ReviewScore,
    Rubric,
    SessionRecord,
    Verdict,
)
from mentorship.selectors import queue_holders
from notifications.services import notify


class MentorshipRefused(Exception):
    """The action is not allowed or the input is wrong; ``errors`` say why, for the user."""

    def __init__(self, *errors: str) -> None:
        super().__init__("; ".join(errors))
        self.errors = list(errors)


# An approval with fewer rubric points than this share of the maximum needs the mentor's explicit
# confirmation. Half the rubric, not the lab's pass threshold: that one is on the metric's scale
# (an accuracy, an MSE), while the rubric scores the work (correctness, clarity, discipline).
LOW_POINTS_SHARE = 0.5


class LowPointsRefused(MentorshipRefused):
    """An approval with low rubric points, sent without the confirmation (``confirm_low_points``)."""

    def __init__(self, *, points: int, max_points: int) -> None:
        super().__init__(
            _(
                "You are approving with %(points)s of %(max)s rubric points, under half of them. "
                "Confirm that you approve anyway, or request changes."
            )
            % {"points": points, "max": max_points}
        )
        self.points, self.max_points = points, max_points


def review_queue_changed(*, learner_id: int) -> None:
    """Tell the open review queues that hold this learner's runs that an item came or went, at commit."""
    live_publish(*(user_topic(pk) for pk in sorted(queue_holders(learner_id=learner_id))), what="queue")


def points_are_low(*, verdict: str, points: int, max_points: int) -> bool:
    """An approval with under ``LOW_POINTS_SHARE`` of the rubric's points (never without a rubric)."""
    return verdict == Verdict.APPROVED and max_points > 0 and points < LOW_POINTS_SHARE * max_points


def _require_mentor(mentor: User, learner_id: int) -> None:
    if not can_mentor(mentor, learner_id):
        raise MentorshipRefused(_("Only this learner's mentor or an administrator can do this."))


def rubric_of(run: Run) -> Rubric | None:
    return Rubric.objects.filter(lab_id=run.submission.lab_id).prefetch_related("criteria__levels").first()


def _scores(rubric: Rubric | None, levels: dict[int, int]) -> tuple[list[Level], int, int]:
    """The chosen level of every criterion (all are required), the points and the maximum."""
    if rubric is None:
        return [], 0, 0
    chosen, errors = [], []
    for criterion in rubric.criteria.all():
        level = next((lv for lv in criterion.levels.all() if lv.pk == levels.get(criterion.pk)), None)
        if level is None:
            errors.append(_("Choose a level for “%(criterion)s”.") % {"criterion": criterion.title})
        else:
            chosen.append(level)
    if errors:
        raise MentorshipRefused(*errors)
    return chosen, sum(level.points for level in chosen), rubric.max_points


def _line_comments(run: Run, comments: list[tuple[int, str]]) -> list[tuple[int, str]]:
    lines = run.submission.code.count("\n") + 1
    cleaned = [(line, db_text(text).strip()) for line, text in comments]
    kept = [(line, text) for line, text in cleaned if text]
    bad = sorted({line for line, _text in kept if not 1 <= line <= lines})
    if bad:
        message = ngettext(
            "Line %(lines)s is not in the code: its lines are numbered 1 to %(n)s.",
            "Lines %(lines)s are not in the code: its lines are numbered 1 to %(n)s.",
            len(bad),
        )
        raise MentorshipRefused(message % {"lines": ", ".join(map(str, bad)), "n": lines})
    return kept


@transaction.atomic
def review_create(
    *,
    mentor: User,
    run: Run,
    verdict: str,
    comment: str = "",
    levels: dict[int, int] | None = None,
    line_comments: list[tuple[int, str]] | None = None,
    confirm_low_points: bool = False,
) -> Review:
    """Review a finished run: a level per rubric criterion, a verdict, comments (also on lines).
    An approval with low points needs ``confirm_low_points`` (``LowPointsRefused``). The learner is
    notified."""
    learner = run.submission.learner
    _require_mentor(mentor, learner.pk)
    if run.state not in FINAL_STATES:
        raise MentorshipRefused(_("This run has not finished yet."))
    if verdict not in Verdict.values:
        raise MentorshipRefused(_("Choose a verdict."))
    chosen, points, max_points = _scores(rubric_of(run), levels or {})
    if points_are_low(verdict=verdict, points=points, max_points=max_points) and not confirm_low_points:
        raise LowPointsRefused(points=points, max_points=max_points)
    comments = _line_comments(run, line_comments or [])
    review = Review.objects.create(
        run=run, mentor=mentor, verdict=verdict, comment=db_text(comment).strip(), points=points, max_points=max_points
    )
    ReviewScore.objects.bulk_create(ReviewScore(review=review, criterion_id=lv.criterion_id, level=lv) for lv in chosen)
    LineComment.objects.bulk_create(LineComment(review=review, line=line, text=text) for line, text in comments)
    with language_of(learner):
        title = _("%(mentor)s reviewed your %(lab)s run: %(verdict)s") % {
            "mentor": mentor,
            "lab": run.submission.lab.title,
            "verdict": review.get_verdict_display(),
        }
    notify(user=learner, kind=NotificationKind.REVIEW_POSTED, title=title, url=review.get_absolute_url())
    review_queue_changed(learner_id=learner.pk)
    return review


def dismissal_create(*, mentor: User, run: Run, reason: str, note: str = "") -> tuple[Dismissal, bool]:
    """Take a finished run out of the review queue, with a reason (and words for “other”). A run
    already dismissed stays as it was: (its dismissal, False)."""
    _require_mentor(mentor, run.submission.learner_id)
    if run.state not in FINAL_STATES:
        raise MentorshipRefused(_("This run has not finished yet."))
    if reason not in DismissReason.values:
        raise MentorshipRefused(_("Choose why you dismiss this run."))
    note = db_text(note).strip()
    if reason == DismissReason.OTHER and not note:
        raise MentorshipRefused(_("Say in a few words why you dismiss this run."))
    try:
        with transaction.atomic():
            dismissal = Dismissal.objects.create(run=run, reason=reason, note=note, dismissed_by=mentor)
            review_queue_changed(learner_id=run.submission.learner_id)
            return dismissal, True
    except IntegrityError:  # one active dismissal per run: a second click, or another mentor
        return Dismissal.objects.get(run=run, undone_at__isnull=True), False


def dismissal_undo(*, mentor: User, run: Run) -> Dismissal | None:
    """Put a dismissed run back in the queue; the dismissal stays on record as undone. None when the
    run was not dismissed (nothing changes)."""
    _require_mentor(mentor, run.submission.learner_id)
    dismissal = Dismissal.objects.filter(run=run, undone_at__isnull=True).first()
    if dismissal is None:
        return None
    dismissal.undone_at, dismissal.undone_by = timezone.now(), mentor
    dismissal.save(update_fields=["undone_at", "undone_by"])
    review_queue_changed(learner_id=run.submission.learner_id)
    return dismissal


def session_record_create(
    *, mentor: User, learner: User, held_on: dt.date, notes: str, action_items: str = ""
) -> SessionRecord:
    _require_mentor(mentor, learner.pk)
    notes, action_items = db_text(notes).strip(), db_text(action_items).strip()
    if not notes:
        raise MentorshipRefused(_("Write what the session covered."))
    return SessionRecord.objects.create(
        mentor=mentor, learner=learner, held_on=held_on, notes=notes, action_items=action_items
    )


def mentor_note_create(*, mentor: User, learner: User, text: str) -> MentorNote:
    _require_mentor(mentor, learner.pk)
    text = db_text(text).strip()
    if not text:
        raise MentorshipRefused(_("The note is empty."))
    return MentorNote.objects.create(mentor=mentor, learner=learner, text=text)
