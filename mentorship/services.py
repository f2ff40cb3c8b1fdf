"""Writes of mentorship: reviews with a rubric, session records, private notes."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from cohorts.permissions import can_mentor
from core.models import NotificationKind, User
from core.preferences import language_of
from core.text import db_text
from labs.models import FINAL_STATES, Run
from mentorship.models import Level, LineComment, MentorNote, Review, ReviewScore, Rubric, SessionRecord, Verdict
from notifications.services import notify


class MentorshipRefused(Exception):
    """The action is not allowed or the input is wrong; ``errors`` say why, for the user."""

    def __init__(self, *errors: str) -> None:
        super().__init__("; ".join(errors))
        self.errors = list(errors)


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
        numbers = ", ".join(map(str, bad))
        raise MentorshipRefused(
            _("Line %(lines)s is not in the code (it has %(n)s lines).") % {"lines": numbers, "n": lines}
        )
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
) -> Review:
    """Review a finished run: a level per rubric criterion, a verdict, comments (also on lines).
    The learner is notified."""
    learner = run.submission.learner
    _require_mentor(mentor, learner.pk)
    if run.state not in FINAL_STATES:
        raise MentorshipRefused(_("This run has not finished yet."))
    if verdict not in Verdict.values:
        raise MentorshipRefused(_("Choose a verdict."))
    chosen, points, max_points = _scores(rubric_of(run), levels or {})
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
    return review


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
