"""A mentor's say over a mentee's next step: pin a lesson or lab first (with a word why), hide one
the coach should not suggest to them, or take either back."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from coach.evidence import learner_facts
from coach.models import Choice
from coach.recommend import availability
from cohorts.permissions import can_mentor
from core.models import User
from courses.models import Lesson
from labs.models import Lab


class ChoiceRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def target_parse(target: str) -> Lesson | Lab | None:
    """The lesson or lab a "lesson:<id>" / "lab:<id>" names (None for anything else)."""
    kind, _sep, pk = (target or "").partition(":")
    if not pk.isdigit():
        return None
    model = {"lesson": Lesson, "lab": Lab}.get(kind)
    return model.objects.filter(pk=int(pk)).first() if model else None


@transaction.atomic
def choice_create(*, mentor: User, learner: User, kind: str, target: str, note: str = "") -> Choice:
    """Pin or hide ``target`` for ``learner``. Refused unless ``mentor`` mentors them, or for a pin of
    what they cannot open or have done already (it would never show)."""
    if not can_mentor(mentor, learner.pk):
        raise ChoiceRefused(_("Only the learner's mentor or an administrator can choose their next step."))
    if kind not in Choice.Kind.values:
        raise ChoiceRefused(_("Choose to pin or to hide."))
    chosen = target_parse(target)
    if chosen is None:
        raise ChoiceRefused(_("Choose a lesson or a lab."))
    key = f"{'lesson' if isinstance(chosen, Lesson) else 'lab'}:{chosen.pk}"
    if kind == Choice.Kind.PIN and not availability(learner, learner_facts(learner)).open(key):
        raise ChoiceRefused(
            _("%(learner)s cannot take “%(title)s” now: it is done, unpublished or behind prerequisites.")
            % {"learner": learner, "title": chosen.title}
        )
    fields = {"lesson": chosen} if isinstance(chosen, Lesson) else {"lab": chosen}
    Choice.objects.filter(learner=learner, **fields).delete()  # one say per thing: the newest
    return Choice.objects.create(learner=learner, mentor=mentor, kind=kind, note=note.strip()[:300], **fields)


def choice_delete(*, by: User, choice: Choice) -> None:
    if not can_mentor(by, choice.learner_id):
        raise ChoiceRefused(_("Only the learner's mentor or an administrator can choose their next step."))
    choice.delete()
