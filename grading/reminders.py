"""Reminding a cohort's learners of a lab deadline a day before it."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.timesince import timeuntil
from django.utils.translation import gettext as _

from cohorts.models import LabDeadline
from core.models import NotificationKind, User
from core.preferences import language_of
from labs.models import Run, RunState
from notifications.services import notify

REMIND_BEFORE = timedelta(hours=24)


def deadline_reminders_send(*, now: datetime | None = None) -> int:
    """Remind every deadline due within REMIND_BEFORE that was not reminded yet; returns the
    number of learners notified. Safe to run twice, or twice at once."""
    now = now or timezone.now()
    due = LabDeadline.objects.filter(reminded_at__isnull=True, due_at__gte=now, due_at__lte=now + REMIND_BEFORE)
    return sum(deadline_remind(deadline_id=pk, now=now) for pk in due.values_list("pk", flat=True))


@transaction.atomic
def deadline_remind(*, deadline_id: int, now: datetime) -> int:
    # Claim the deadline with a conditional update first: of two beats running at once, the
    # second blocks on the row and then finds reminded_at set, so it notifies no one.
    if not LabDeadline.objects.filter(pk=deadline_id, reminded_at__isnull=True).update(reminded_at=now):
        return 0
    deadline = LabDeadline.objects.select_related("lab", "cohort").get(pk=deadline_id)
    learners = deadline_learners_to_remind(deadline=deadline)
    for learner in learners:
        with language_of(learner):
            title = _("%(lab)s is due in %(time)s and you have no passing run yet") % {
                "lab": deadline.lab.title,
                "time": timeuntil(deadline.due_at, now, depth=1),
            }
        notify(user=learner, kind=NotificationKind.DEADLINE, title=title, url=deadline.lab.get_absolute_url())
    return len(learners)


def deadline_learners_to_remind(*, deadline: LabDeadline) -> list[User]:
    """The cohort's active learners without a passing run of the lab."""
    passed = Run.objects.filter(submission__lab=deadline.lab_id, state=RunState.SUCCEEDED, passed=True)
    return list(
        User.objects.filter(memberships__cohort=deadline.cohort_id, is_active=True)
        .exclude(pk__in=passed.values("submission__learner"))
        .order_by("pk")
    )
