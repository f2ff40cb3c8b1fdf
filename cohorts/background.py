"""Background jobs of any kind (roster import, gradebook export): who may see one, and the state
changes every job goes through. A job's own work lives with its kind (e.g. ``cohorts.roster``)."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice

from celery import current_app as celery_app  # the site's app (config.celery_app), the default in every thread
from django.contrib.auth.models import AnonymousUser
from django.core.files.base import ContentFile
from django.db.models import QuerySet
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cohorts.models import Job, JobState
from core.broker import broker_reachable
from core.live import job_topic, live_publish
from core.models import NotificationKind, User
from core.preferences import language_of
from notifications.services import notify

FINAL_STATES = (JobState.DONE, JobState.FAILED)

# How the job page names the counts of a job's summary; a key not listed shows as it is.
SUMMARY_LABELS = {
    "rows": gettext_lazy("rows read"),
    "added": gettext_lazy("added"),
    "already_present": gettext_lazy("already present"),
    "invalid": gettext_lazy("invalid"),
    "invited": gettext_lazy("invited (new accounts)"),
}


def can_view_job(user: User | AnonymousUser, job: Job) -> bool:
    """The person who asked for it and administrators."""
    if not user.is_authenticated:
        return False
    return job.requested_by_id == user.pk or user.has_perm("core.administer")


def jobs_visible_to(user: User | AnonymousUser) -> QuerySet[Job]:
    if not user.is_authenticated:
        return Job.objects.none()
    jobs = Job.objects.select_related("requested_by", "cohort")
    return jobs if user.has_perm("core.administer") else jobs.filter(requested_by=user)


def job_is_final(job: Job) -> bool:
    return job.state in FINAL_STATES


def job_summary_items(job: Job) -> list[tuple[str, object]]:
    return [(SUMMARY_LABELS.get(key, key), value) for key, value in job.summary.items()]


def text_file(text: str) -> ContentFile:
    """A job's input or result as a file for the storage (``core.storage``): UTF-8."""
    return ContentFile(text.encode("utf-8"))


def _read_text(field: FieldFile) -> str:
    with field.open("rb") as handle:
        return handle.read().decode("utf-8")


def job_input_text(job: Job) -> str:
    """The file the job was started with, as text ("" when there is none)."""
    return _read_text(job.input_file) if job.input_file else ""


def job_result_text(job: Job) -> str:
    """The job's result (CSV) as text ("" before it is done, or for a job without one)."""
    return _read_text(job.result_file) if job.result_file else ""


def job_result_preview(job: Job, *, limit: int = 50) -> tuple[list[str], list[list[str]]]:
    """The header and first ``limit`` rows of a job's CSV result, to show on its page."""
    reader = csv.reader(io.StringIO(job_result_text(job)))
    header = next(reader, [])
    return header, list(islice(reader, limit))


def job_start(*, job: Job) -> None:
    job.state = JobState.RUNNING
    job.error = ""
    job.save(update_fields=["state", "error"])
    _job_changed(job)


def job_finish(*, job: Job, summary: dict[str, int], result_name: str, result_text: str) -> None:
    job.state = JobState.DONE
    job.summary = summary
    job.result_name = result_name
    if job.result_file:  # a job run again by hand: its new result replaces the old one
        job.result_file.delete(save=False)
    job.result_file.save(result_name or f"job-{job.pk}.csv", text_file(result_text), save=False)
    job.finished_at = timezone.now()
    job.save(update_fields=["state", "summary", "result_name", "result_file", "finished_at"])
    _job_changed(job)
    _notify_requester(job)


def job_fail(*, job: Job, error: str) -> None:
    job.state = JobState.FAILED
    job.error = error
    job.finished_at = timezone.now()
    job.save(update_fields=["state", "error", "finished_at"])
    _job_changed(job)
    _notify_requester(job)


def _job_changed(job: Job) -> None:
    """Tell the job's open status page that it changed (at commit: a job's steps commit one by one)."""
    live_publish(job_topic(job.kind, job.pk), state=job.state)


def _notify_requester(job: Job) -> None:
    user = job.requested_by
    with language_of(user):
        kind = job.get_kind_display()
        if job.state == JobState.DONE:
            title = _("Your %(kind)s #%(id)s has finished.") % {"kind": kind, "id": job.pk}
        else:
            title = _("Your %(kind)s #%(id)s failed.") % {"kind": kind, "id": job.pk}
    notify(user=user, kind=NotificationKind.JOB_FINISHED, title=title, url=job.get_absolute_url())


def spreadsheet_safe(value: str) -> str:
    """A CSV cell as text: spreadsheets run a cell starting with = + - @ (or a tab or carriage
    return) as a formula, so such a cell gets a leading apostrophe."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


logger = logging.getLogger(__name__)


# A job is sent from the request that starts it: a broker that fails as it is sent is not waited for.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


def job_enqueue(*, job_id: int, task_name: str) -> None:
    """Send a job's task to the broker (call it from ``transaction.on_commit``). With the broker away
    the job fails at once, saying so in the requester's language: nothing was done, and the person
    who started it, still on the page, can start it again. A job left queued would look stuck, and
    sending it later could run an import long after it was asked for."""
    if _job_send(job_id=job_id, task_name=task_name):
        return
    job = Job.objects.select_related("requested_by").get(pk=job_id)
    with language_of(job.requested_by):
        error = _(
            "The job queue is unreachable, so the job did not start and nothing was changed. "
            "Try again in a few minutes."
        )
    job_fail(job=job, error=error)


def _job_send(*, job_id: int, task_name: str) -> bool:
    """No one waits on the task's Celery result (the job holds its own): ``ignore_result`` spares
    subscribing to the result store, which retries for 20 s when the broker fails as it is sent."""
    if not broker_reachable():
        logger.warning("broker unreachable: job %s (%s) is not started", job_id, task_name)
        return False
    try:
        celery_app.send_task(task_name, args=[job_id], ignore_result=True, retry_policy=PUBLISH_RETRY_POLICY)
    except Exception:
        logger.exception("could not queue job %s (%s)", job_id, task_name)
        return False
    return True


class JobRefused(Exception):
    """An expected failure (bad input, nothing to do): the job ends FAILED with this message."""


@dataclass(frozen=True)
class JobOutput:
    summary: dict[str, int]
    result_name: str
    result_text: str


def job_run(
    *,
    job_id: int,
    kind: str,
    work: Callable[[Job], JobOutput],
    unexpected: Callable[[str], str] = lambda error: error,
) -> dict[str, int]:
    """Run one background job: a redelivered message for a finished job does nothing; otherwise
    the job is marked running, ``work`` runs in the requester's language, and the job ends DONE
    with its result or FAILED with a reason (``JobRefused``'s message, or ``unexpected`` applied to
    any other error). The requester is notified either way."""
    job = Job.objects.select_related("requested_by", "cohort").get(pk=job_id, kind=kind)
    if job_is_final(job):
        return job.summary
    job_start(job=job)
    try:
        with language_of(job.requested_by):
            result = work(job)
        job_finish(job=job, summary=result.summary, result_name=result.result_name, result_text=result.result_text)
    except JobRefused as refused:
        job_fail(job=job, error=str(refused))
    except Exception as exc:  # whatever it was, the job must end FAILED and say why
        logger.exception("job %s (%s) failed", job_id, kind)
        job.refresh_from_db()  # drop what a rolled-back transaction had set on it
        with language_of(job.requested_by):
            error = unexpected(f"{type(exc).__name__}: {exc}")
        job_fail(job=job, error=error)
    return job.summary
