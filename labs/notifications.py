"""Telling a learner that their run ended. Called by ``labs.services`` inside the transaction
that moved the run to its final state, so a redelivered event (which moves nothing) tells no one
twice and a rolled-back move tells no one at all."""

from __future__ import annotations

from django.utils.translation import gettext as _

from core.models import Notification, NotificationKind
from core.notifications import language_of, notify
from labs.models import Run, RunState

# A cancellation is the learner's own doing (or an administrator's on their behalf): no news.
NOTIFIED_STATES = (RunState.SUCCEEDED, RunState.FAILED, RunState.TIMED_OUT)


def run_finished_notify(*, run_id: int) -> Notification | None:
    run = Run.objects.select_related("submission__lab", "submission__learner").get(pk=run_id)
    if run.state not in NOTIFIED_STATES:
        return None
    learner = run.submission.learner
    with language_of(learner):
        title = run_finished_title(run)
    return notify(user=learner, kind=NotificationKind.RUN_FINISHED, title=title, url=run.get_absolute_url())


def run_finished_title(run: Run) -> str:
    """e.g. "digits-mlp: score 0.975 — passed" or "digits-mlp: failed: limit: memory"."""
    lab = run.submission.lab.slug
    if run.state == RunState.SUCCEEDED:
        values = {"lab": lab, "score": f"{run.score:.4g}"}
        if run.passed:
            return _("%(lab)s: score %(score)s — passed") % values
        return _("%(lab)s: score %(score)s — not passed") % values
    if run.state == RunState.TIMED_OUT:
        return _("%(lab)s: timed out: %(reason)s") % {"lab": lab, "reason": run.reason}
    return _("%(lab)s: failed: %(reason)s") % {"lab": lab, "reason": run.reason}
