"""Writes of the labs app: submissions, runs and every state change of a run.

Every state change is a compare-and-set UPDATE guarded by the run's current state and
attempt token, so a message delivered twice, or a late event of an abandoned attempt,
changes nothing.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from typing import Any

import redis
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from core.broker import broker_reachable, redis_client
from core.celery import app as celery_app
from core.models import User
from core.text import db_text
from labs import jobs
from labs.datasets import dataset_test_labels
from labs.models import ACTIVE_STATES, Lab, Run, RunState, Submission, new_token
from labs.notifications import run_finished_notify
from labs.scoring import finite, predictions_to_json, score_predictions
from labs.validation import SubmissionRejected, check_quota, kind_of, prepare_code, resolve_params
from workers import control

logger = logging.getLogger(__name__)

MAX_CURVE_POINTS = 5000
MAX_CURVE_SERIES = 20  # distinct metric names per run; thousands would freeze the run page's chart
MAX_METRIC_NAME_CHARS = 40
MAX_LOG_CHARS = 64 * 1024


# --- Submitting ---------------------------------------------------------------------


def submission_create(
    *,
    learner: User,
    lab: Lab,
    source: str,
    code: str | None = None,
    upload: UploadedFile | None = None,
    params: dict[str, Any] | None = None,
) -> Run:
    """Validate, store and queue a learner's solution. Raises SubmissionRejected, queuing nothing."""
    if not lab.published or lab.dataset_id is None:
        raise SubmissionRejected([_("This lab is not open for submissions.")])
    if upload is not None:
        kind = kind_of(upload.name or "")
        raw = upload.read(10 * 1024 * 1024 + 1)
    elif code is not None:
        kind, raw = "py", code.encode("utf-8", errors="surrogatepass")
    else:
        raise SubmissionRejected([_("Send the code or upload a file.")])
    prepared = prepare_code(raw, kind)
    resolved = resolve_params(lab, params)
    with transaction.atomic():
        # One submission at a time per learner, so two at once cannot both pass the quota.
        User.objects.select_for_update().filter(pk=learner.pk).first()
        check_quota(learner_id=learner.pk, lab=lab)
        submission = Submission.objects.create(
            learner=learner,
            lab=lab,
            code=prepared.code,
            code_sha256=hashlib.sha256(prepared.code.encode()).hexdigest(),
            source=source,
            kind=prepared.kind,
            params=resolved,
            notes=prepared.notes,
            original_name=db_text(upload.name or "")[:255] if upload else "",
        )
        if upload is not None:
            submission.original_file.save(upload.name or "solution", ContentFile(raw), save=True)
        return _run_create(submission)


def _run_create(submission: Submission) -> Run:
    run = Run.objects.create(
        submission=submission,
        dataset=submission.lab.dataset,
        seed=secrets.randbelow(2**31),
        code_sha256=submission.code_sha256,
    )
    transaction.on_commit(runs_dispatch_waiting)
    return run


def run_rerun(*, run: Run) -> Run:
    """A new Run of the same submission (same code and parameters, a new seed)."""
    submission = run.submission
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=submission.learner_id).first()
        check_quota(learner_id=submission.learner_id, lab=submission.lab)
        return _run_create(submission)


def runs_dispatch_waiting() -> None:
    """Send the waiting runs that fair share allows now (see labs.dispatch), without waiting for
    another dispatcher: then the site worker dispatches as soon as it is done."""
    from labs.dispatch import runs_dispatch  # dispatch builds on run_enqueue below
    from labs.tasks import dispatch_runs

    if not broker_reachable():
        return  # they wait on the site: the site worker dispatches as it reconnects (or the sweeper)
    if runs_dispatch(wait=0) is None:
        try:
            dispatch_runs.delay()
        except Exception:  # the broker is away: the sweeper dispatches once it is back
            logger.exception("could not hand the dispatch to the site worker; the sweeper will")


def run_ended(*, run_id: int) -> None:
    """A run reached a final state: tell its learner, and let a waiting run take its place."""
    run_finished_notify(run_id=run_id)
    transaction.on_commit(runs_dispatch_waiting)


def run_enqueue(*, run_id: int) -> bool:
    """Send the job message for a queued run. A broker failure leaves it queued for the sweeper."""
    run = Run.objects.select_related("submission__lab", "dataset").get(pk=run_id)
    if run.state != RunState.QUEUED:
        return False
    try:
        celery_app.send_task(
            jobs.TASK_NAME, args=[jobs.job_spec(run)], queue=jobs.queue_for(run), task_id=f"run-{run.pk}-{run.token}"
        )
    except Exception:
        logger.exception("could not queue run %s; the sweeper will retry", run.pk)
        return False
    Run.objects.filter(pk=run.pk, token=run.token).update(sent_at=timezone.now())
    _run_mark_queued(run)
    return True


def _run_mark_queued(run: Run) -> None:
    """Mark the message as sent, after it is: a broker that loses the message loses the later mark
    too (its append-only file is cut at a point in time). A missing mark costs at worst a duplicate
    message, which a lab worker recognises. The mark outlives the queue timeout, so a run nobody
    picked up expires rather than being sent again."""
    ttl = settings.LAB_QUEUE_TIMEOUT_SECONDS + 3600
    try:
        control.mark_queued(redis_client(), run_id=run.pk, token=run.token, ttl_seconds=ttl)
    except Exception:
        logger.exception("could not mark run %s as queued; the sweeper may send it twice", run.pk)


# --- Cancelling ---------------------------------------------------------------------


def run_cancel(*, run: Run) -> None:
    """Cancel at once if still queued; otherwise raise the flag the worker's supervisor polls.

    The run is marked on the site first: with the broker away the cancel still holds, and the
    sweeper raises the flag of a live run marked so once the broker is back."""
    now = timezone.now()
    done = Run.objects.filter(pk=run.pk, state=RunState.QUEUED).update(
        state=RunState.CANCELLED, reason="cancelled: by user", finished_at=now, cancel_requested=True, updated_at=now
    )
    if not done:
        Run.objects.filter(pk=run.pk, state__in=ACTIVE_STATES).update(cancel_requested=True, updated_at=now)
    _cancel_flag_raise(run)  # a queued run's message may be in the broker: the flag stops the worker that takes it
    if done:
        runs_dispatch_waiting()  # it may have held its learner's place on the workers


def _cancel_flag_raise(run: Run) -> None:
    try:
        if broker_reachable():  # a broker known to be away (or hung) is not waited for
            control.request_cancel(redis_client(), run_id=run.pk, token=run.token)
            return
    except redis.RedisError:
        pass
    logger.warning("broker unreachable: run %s is cancelled on the site only (the sweeper flags a live run)", run.pk)


# --- Events from the lab worker ----------------------------------------------------


def run_event_apply(*, run_id: int, token: str, event: dict[str, Any]) -> None:
    handlers = {
        "claimed": _on_claimed,
        "running": _on_running,
        "progress": _on_progress,
        "finished": _on_finished,
        "lost": _on_lost,
    }
    handler = handlers.get(event.get("kind"))
    if handler is None:
        logger.warning("run %s: ignoring unknown event %r", run_id, event.get("kind"))
        return
    if not _event_applied(handler, run_id, token, event):
        _event_unstorable(run_id, token, event)


def _event_applied(handler: Any, run_id: int, token: str, event: dict[str, Any]) -> bool:
    """Apply one event; False when it cannot be, for a reason a later delivery would meet again."""
    try:
        handler(run_id, token, event)
    except (OperationalError, InterfaceError):
        raise  # the database is away: labs.tasks.run_event delivers the event again
    except Exception:
        logger.exception("run %s: its %r event cannot be applied as it came", run_id, event.get("kind"))
        return False
    return True


UNSTORABLE_RESULT_REASON = "platform: the run's result could not be stored"


def _event_unstorable(run_id: int, token: str, event: dict[str, Any]) -> None:
    """Keep what can be kept of an event that cannot be applied: a dropped event would leave the run
    stuck in its state until the sweeper calls its worker lost, and rerun code that did finish."""
    kind = event.get("kind")
    if kind == "claimed":
        _on_claimed(run_id, token, {})
    elif kind == "progress":
        _on_running(run_id, token, event)  # live output is best effort: this batch is dropped
    elif kind == "finished":
        result = event.get("result") if isinstance(event.get("result"), dict) else {}
        minimal = {key: result.get(key) for key in ("state", "reason", "predictions")}  # no log, no worker text
        if _event_applied(_on_finished, run_id, token, {"kind": "finished", "result": minimal}):
            return
        with transaction.atomic():
            now = timezone.now()
            if _move(run_id, token, LIVE_STATES, RunState.FAILED, reason=UNSTORABLE_RESULT_REASON, finished_at=now):
                run_ended(run_id=run_id)


PLATFORM_PREFIX = "platform: "

# Events of one run can arrive out of order (several site workers): each handler accepts
# every live state it could find the run in.
LIVE_STATES = (RunState.QUEUED, RunState.PREPARING, RunState.RUNNING)


def _move(run_id: int, token: str, from_states: tuple[str, ...], to: str, **fields: Any) -> bool:
    fields["updated_at"] = timezone.now()
    return bool(Run.objects.filter(pk=run_id, token=token, state__in=from_states).update(state=to, **fields))


def _started_now() -> Coalesce:
    return Coalesce(F("started_at"), Value(timezone.now()))


def _text(value: Any, limit: int) -> str:
    """A worker-reported value as text every database stores, at most ``limit`` characters."""
    return db_text(str(value))[:limit]


@transaction.atomic
def _on_claimed(run_id: int, token: str, event: dict[str, Any]) -> None:
    Run.objects.filter(pk=run_id, token=token, state__in=LIVE_STATES).update(
        started_at=_started_now(),
        updated_at=timezone.now(),
        worker_host=_text(event.get("worker", ""), 200),
        device=_text(event.get("device", ""), 20),
        sandbox=_text(event.get("sandbox", ""), 80),
    )
    _move(run_id, token, (RunState.QUEUED,), RunState.PREPARING)


def _on_running(run_id: int, token: str, event: dict[str, Any]) -> None:
    _move(run_id, token, (RunState.QUEUED, RunState.PREPARING), RunState.RUNNING, started_at=_started_now())


def _on_progress(run_id: int, token: str, event: dict[str, Any]) -> None:
    seq = event.get("seq")
    if not isinstance(seq, int):  # from a worker that does not number its batches
        _progress_apply(run_id, token, event)
        return
    if not control.progress_first_delivery(redis_client(), run_id=run_id, token=token, seq=seq):
        return  # a batch delivered again: its points and output are in already
    try:
        _progress_apply(run_id, token, event)
    except BaseException:
        control.progress_forget(redis_client(), run_id=run_id, token=token, seq=seq)
        raise


@transaction.atomic
def _progress_apply(run_id: int, token: str, event: dict[str, Any]) -> None:
    run = Run.objects.select_for_update().filter(pk=run_id, token=token, state__in=LIVE_STATES).first()
    if run is None:
        return
    points = [_metric_point(e) for e in event.get("events", []) if e.get("kind") == "metrics"]
    text = "".join(str(e.get("text", "")) for e in event.get("events", []) if e.get("kind") == "output")
    run.curve = _decimate(run.curve + _within_series_cap(run.curve, [p for p in points if p]))
    run.log = (run.log + db_text(text))[-MAX_LOG_CHARS:]
    run.state = RunState.RUNNING
    run.started_at = run.started_at or timezone.now()
    run.save(update_fields=["curve", "log", "state", "started_at", "updated_at"])


def _metric_point(event: dict[str, Any]) -> dict[str, Any] | None:
    metrics = event.get("metrics")
    if not isinstance(metrics, dict):
        return None
    clean = {}
    for key, value in list(metrics.items())[:20]:
        name, number = _metric_name(key), finite(value)
        if name and number is not None:
            clean[name] = number
    # jsonb has no NaN or infinity: a point keeps finite numbers only
    return {"step": finite(event.get("step")), "t": finite(event.get("t")), "metrics": clean} if clean else None


def _metric_name(raw: Any) -> str:
    """A learner-chosen metric name as the site keeps it: printable characters only, bounded."""
    return "".join(char for char in db_text(str(raw)) if char.isprintable())[:MAX_METRIC_NAME_CHARS].strip()


def _within_series_cap(curve: list[dict[str, Any]], points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Points with metrics of at most MAX_CURVE_SERIES distinct names over the run (first come)."""
    known = {name for point in curve for name in point["metrics"]}
    kept = []
    for point in points:
        for name in point["metrics"]:
            if name not in known and len(known) < MAX_CURVE_SERIES:
                known.add(name)
        metrics = {name: value for name, value in point["metrics"].items() if name in known}
        if metrics:
            kept.append({**point, "metrics": metrics})
    return kept


def _decimate(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep the curve's shape within MAX_CURVE_POINTS: drop every other old point."""
    while len(points) > MAX_CURVE_POINTS:
        points = points[: len(points) // 2 : 2] + points[len(points) // 2 :]
    return points


def _on_finished(run_id: int, token: str, event: dict[str, Any]) -> None:
    result = event.get("result") or {}
    state = result.get("state")
    common = {
        "finished_at": timezone.now(),
        "device": _text(result.get("device", ""), 20),
        "torch_version": _text(result.get("torch_version", ""), 40),
        "sandbox": _text(result.get("sandbox", ""), 80),
    }
    reason = _text(result.get("reason") or "", 500)
    if state in ("failed", "timed_out") and reason.startswith(PLATFORM_PREFIX):
        # The platform failed this attempt (a worker reports that only for what learner code cannot
        # cause: see workers.runner.decide): another attempt while there is one, never in the quota.
        run_retry_or_fail(run_id=run_id, token=token, why=reason.removeprefix(PLATFORM_PREFIX))
        return
    with transaction.atomic():
        run = Run.objects.select_for_update().filter(pk=run_id, token=token, state__in=LIVE_STATES).first()
        if run is None:
            # Moved on already. If this event is a retry whose first try lost the database between
            # the move and the score, the score is still owed (run_score does nothing otherwise).
            if state == "succeeded":
                transaction.on_commit(lambda: run_score(run_id=run_id))
            return
        log_tail = db_text(str(result.get("log_tail") or ""))
        if log_tail:
            run.log = log_tail[-MAX_LOG_CHARS:]
        if state == "succeeded":
            fields = {"predictions": predictions_to_json(result.get("predictions")), "log": run.log, **common}
            _move(run_id, token, LIVE_STATES, RunState.SCORING, **fields)
        else:
            final = {"timed_out": RunState.TIMED_OUT, "cancelled": RunState.CANCELLED}.get(state, RunState.FAILED)
            reason = reason or "error: the run ended without a result"
            if _move(run_id, token, LIVE_STATES, final, reason=reason, log=run.log, **common):
                run_ended(run_id=run_id)
            return
    run_score(run_id=run_id)


def run_score(*, run_id: int) -> None:
    """Score a run's predictions against the hidden labels (on the site, never in the sandbox)."""
    with transaction.atomic():
        run = Run.objects.select_for_update().select_related("submission__lab", "dataset").filter(pk=run_id).first()
        if run is None or run.state != RunState.SCORING:
            return
        lab = run.submission.lab
        outcome = score_predictions(lab.metric, dataset_test_labels(run.dataset), run.predictions)
        if outcome.error:
            run.state, run.reason = RunState.FAILED, outcome.error
        else:
            run.state, run.score, run.passed = RunState.SUCCEEDED, outcome.score, lab.passes(outcome.score)
            run.reason = ""  # a retried run's "platform: …; retrying" is history now (run.attempt keeps it)
        run.save(update_fields=["state", "reason", "score", "passed", "updated_at"])
        run_ended(run_id=run.pk)


def _on_lost(run_id: int, token: str, event: dict[str, Any]) -> None:
    """A job message came back after the worker that claimed it died."""
    run_retry_or_fail(run_id=run_id, token=token, why="worker lost")


def run_retry_or_fail(*, run_id: int, token: str, why: str) -> None:
    """A platform failure: queue a new attempt, or fail with a platform reason (not counted in quotas)."""
    with transaction.atomic():
        run = Run.objects.select_for_update().filter(pk=run_id, token=token, state__in=ACTIVE_STATES).first()
        if run is None:
            return
        now = timezone.now()
        if run.attempt < settings.LAB_MAX_ATTEMPTS and not run.cancel_requested:
            run.token, run.attempt, run.state = new_token(), run.attempt + 1, RunState.QUEUED
            run.reason = f"{PLATFORM_PREFIX}{why}; retrying (attempt {run.attempt})"
            run.curve, run.log, run.started_at, run.sent_at, run.worker_host = [], "", None, None, ""
            run.save()
            transaction.on_commit(runs_dispatch_waiting)  # first in line: it was queued first
        else:
            run.state, run.reason, run.finished_at = RunState.FAILED, f"{PLATFORM_PREFIX}{why}", now
            run.save(update_fields=["state", "reason", "finished_at", "updated_at"])
            run_ended(run_id=run.pk)
