"""A run's life after it is sent: the lab worker's events, scoring, retries and the end.

Every state change is a compare-and-set UPDATE guarded by the run's current state and attempt
token, so a message delivered twice, or a late event of an abandoned attempt, changes nothing.
Every change is told to the run's open pages at commit (``core.live``: the topic ``run:<id>``).
Learners hear of a run that ended from here, inside the transaction that moved it to its final
state: a redelivered event (which moves nothing) tells no one twice, and a rolled-back move tells
no one at all."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from core.broker import redis_client
from core.live import live_publish, run_topic
from core.models import NotificationKind
from core.preferences import language_of
from core.text import db_text
from labs.artifacts import artifacts_stored
from labs.author_code import ScoringFailed
from labs.author_code import run_score as run_score_program
from labs.datasets import dataset_meta, dataset_test_labels
from labs.diagnosis import finding_title, run_diagnose, run_findings
from labs.dispatch import runs_dispatch_waiting
from labs.models import ACTIVE_STATES, Lab, Metric, Run, RunState, Submission, new_token
from labs.scoring import ScoreOutcome, finite, predictions_array, predictions_to_json, score_predictions
from labs.signals import run_ended_signal
from notifications.models import Notification
from notifications.services import notify
from workers import control
from workers.dataset_cache import LINK_EXPIRED_REASON
from workers.events import (
    AttemptResult,
    Claimed,
    Event,
    EventError,
    Finished,
    Lost,
    ProgressBatch,
    Running,
    UnknownEvent,
    event_from_dict,
)

logger = logging.getLogger(__name__)

MAX_CURVE_POINTS = 5000
MAX_CURVE_SERIES = 20  # distinct metric names per run; thousands would freeze the run page's chart
MAX_METRIC_NAME_CHARS = 40
MAX_LOG_CHARS = 64 * 1024


def run_ended(*, run_id: int) -> None:
    """A run reached a final state: read it (``labs.diagnosis``), tell its learner (or, for a lab's
    reference run, publish the lab that waited for it), and let a waiting run take its place."""
    run_diagnose(Run.objects.select_related("submission__lab").get(pk=run_id))
    run_ended_signal.send(sender=Run, run_id=run_id)
    if not reference_run_ended(run_id=run_id):
        run_finished_notify(run_id=run_id)
    transaction.on_commit(runs_dispatch_waiting)


def reference_run_ended(*, run_id: int) -> bool:
    """The publish gate (``labs.publishing``): a lab whose publication waits for this reference run is
    published when the run passed on the lab's current data and code; else it stays a draft. False
    when the run is not a reference run."""
    run = Run.objects.select_related("submission__lab").get(pk=run_id)
    submission, lab = run.submission, run.submission.lab
    if submission.source != Submission.Source.REFERENCE:
        return False
    current = lab.reference_run_id == run.pk and lab.dataset_id == run.dataset_id
    current = current and submission.code == lab.reference_solution
    if current and lab.publish_requested:
        passed = run.state == RunState.SUCCEEDED and bool(run.passed)
        Lab.objects.filter(pk=lab.pk, reference_run=run).update(published=passed, publish_requested=False)
        logger.info("lab %s: reference run %s %s", lab.slug, run.pk, "passed: published" if passed else "did not pass")
    return True


def run_event_apply(*, run_id: int, token: str, event: dict[str, Any]) -> None:
    """Apply an event a lab worker sent (``workers.events``, read with ``event_from_dict``)."""
    try:
        typed = event_from_dict(event)
    except UnknownEvent as exc:
        logger.warning("run %s: ignoring unknown event %r", run_id, exc.kind)
        return
    except EventError as exc:
        logger.warning("run %s: a malformed event: %s", run_id, exc)
        _event_unstorable(run_id, token, event)
        return
    if not _event_applied(run_id, token, typed):
        _event_unstorable(run_id, token, event)


def _event_applied(run_id: int, token: str, event: Event) -> bool:
    """Apply one event; False when it cannot be, for a reason a later delivery would meet again."""
    try:
        match event:
            case Claimed():
                _on_claimed(run_id, token, event)
            case Running():
                _on_running(run_id, token)
            case ProgressBatch():
                _on_progress(run_id, token, event)
            case Finished():
                _on_finished(run_id, token, event.result)
            case Lost():
                _on_lost(run_id, token)
    except (OperationalError, InterfaceError):
        raise  # the database is away: labs.tasks.run_event delivers the event again
    except Exception:
        logger.exception("run %s: its %r event cannot be applied as it came", run_id, event.kind)
        return False
    return True


UNSTORABLE_RESULT_REASON = "platform: the run's result could not be stored"


def _event_unstorable(run_id: int, token: str, event: Any) -> None:
    """Keep what can be kept of an event that cannot be applied: a dropped event would leave the run
    stuck in its state until the sweeper calls its worker lost, and rerun code that did finish."""
    kind = event.get("kind") if isinstance(event, dict) else None
    if kind == "claimed":
        _on_claimed(run_id, token, Claimed(worker="", device=""))
    elif kind == "progress":
        _on_running(run_id, token)  # live output is best effort: this batch is dropped
    elif kind == "finished":
        if _event_applied(run_id, token, Finished(result=_minimal_result(event.get("result")))):
            return
        with transaction.atomic():
            now = timezone.now()
            if _move(run_id, token, LIVE_STATES, RunState.FAILED, reason=UNSTORABLE_RESULT_REASON, finished_at=now):
                run_ended(run_id=run_id)


def _minimal_result(result: Any) -> AttemptResult:
    """The state, reason and predictions of a result, without its log or worker text (what failed)."""
    if not isinstance(result, dict):
        return AttemptResult()
    try:
        return AttemptResult.from_dict(
            {key: result[key] for key in ("state", "reason", "predictions") if key in result}
        )
    except EventError:
        return AttemptResult()


PLATFORM_PREFIX = "platform: "


# Events of one run can arrive out of order (several site workers): each handler accepts
# every live state it could find the run in.
LIVE_STATES = (RunState.QUEUED, RunState.PREPARING, RunState.RUNNING)


def _move(run_id: int, token: str, from_states: tuple[str, ...], to: str, **fields: Any) -> bool:
    fields["updated_at"] = timezone.now()
    moved = bool(Run.objects.filter(pk=run_id, token=token, state__in=from_states).update(state=to, **fields))
    if moved:
        live_publish(run_topic(run_id), state=to)  # its open pages fetch it again
    return moved


def _started_now() -> Coalesce:
    return Coalesce(F("started_at"), Value(timezone.now()))


def _text(value: Any, limit: int) -> str:
    """A worker-reported value as text every database stores, at most ``limit`` characters."""
    return db_text(str(value))[:limit]


@transaction.atomic
def _on_claimed(run_id: int, token: str, event: Claimed) -> None:
    described = Run.objects.filter(pk=run_id, token=token, state__in=LIVE_STATES).update(
        started_at=_started_now(),
        updated_at=timezone.now(),
        worker_host=_text(event.worker, 200),
        device=_text(event.device, 20),
        sandbox=_text(event.sandbox, 80),
    )
    if not _move(run_id, token, (RunState.QUEUED,), RunState.PREPARING) and described:
        live_publish(run_topic(run_id))  # its worker and device, after an event that came before them


def _on_running(run_id: int, token: str) -> None:
    _move(run_id, token, (RunState.QUEUED, RunState.PREPARING), RunState.RUNNING, started_at=_started_now())


def _on_progress(run_id: int, token: str, event: ProgressBatch) -> None:
    seq = event.seq
    if seq is None:  # from a worker that does not number its batches
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
def _progress_apply(run_id: int, token: str, event: ProgressBatch) -> None:
    run = Run.objects.select_for_update().filter(pk=run_id, token=token, state__in=LIVE_STATES).first()
    if run is None:
        return
    points = [_metric_point(e) for e in event.events if e.get("kind") == "metrics"]
    text = "".join(str(e.get("text", "")) for e in event.events if e.get("kind") == "output")
    run.curve = _decimate(run.curve + _within_series_cap(run.curve, [p for p in points if p]))
    run.log = (run.log + db_text(text))[-MAX_LOG_CHARS:]
    run.state = RunState.RUNNING
    run.started_at = run.started_at or timezone.now()
    run.save(update_fields=["curve", "log", "state", "started_at", "updated_at"])
    live_publish(run_topic(run_id), state=run.state)


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


def _on_finished(run_id: int, token: str, result: AttemptResult) -> None:
    state = result.state
    common = {
        "finished_at": timezone.now(),
        "device": _text(result.device, 20),
        "torch_version": _text(result.torch_version, 40),
        "sandbox": _text(result.sandbox, 80),
        # Under this attempt's names: _move below applies them only while ``token`` is the run's.
        "artifacts": artifacts_stored(run_id=run_id, token=token, reported=result.artifacts),
    }
    reason = _text(result.reason or "", 500)
    if reason.startswith(LINK_EXPIRED_REASON):
        # The run waited in the queue longer than its dataset link lives: the same attempt goes
        # out again with a new link (dispatch signs one), as if it had not been sent yet.
        run_resend(run_id=run_id, token=token, why=reason.removeprefix(PLATFORM_PREFIX))
        return
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
        log_tail = db_text(result.log_tail)
        if log_tail:
            run.log = log_tail[-MAX_LOG_CHARS:]
        if state == "succeeded":
            fields = {"predictions": predictions_to_json(result.predictions), "log": run.log, **common}
            _move(run_id, token, LIVE_STATES, RunState.SCORING, **fields)
        else:
            final = {"timed_out": RunState.TIMED_OUT, "cancelled": RunState.CANCELLED}.get(state, RunState.FAILED)
            reason = reason or "error: the run ended without a result"
            if _move(run_id, token, LIVE_STATES, final, reason=reason, log=run.log, **common):
                run_ended(run_id=run_id)
            return
    run_score(run_id=run_id)


def run_score(*, run_id: int) -> None:
    """Score a run's predictions against the hidden labels (on the site, never in the learner's sandbox;
    a custom metric's score.py in a sandbox of its own, outside any transaction: it takes seconds)."""
    run = Run.objects.select_related("submission__lab", "dataset").filter(pk=run_id, state=RunState.SCORING).first()
    if run is None:
        return
    lab = run.submission.lab
    outcome = _outcome(lab, run)
    with transaction.atomic():
        run = Run.objects.select_for_update().filter(pk=run_id, state=RunState.SCORING).first()
        if run is None:
            return
        if outcome.error:
            run.state, run.reason = RunState.FAILED, outcome.error
        elif run.sealed:  # withheld, and its verdict with it: "passed" would tell the whole set's score
            run.state, run.sealed_score = RunState.SUCCEEDED, outcome.score
            run.reason = ""
        else:
            run.state, run.score, run.passed = RunState.SUCCEEDED, outcome.score, lab.passes(outcome.score)
            run.reason = ""  # a retried run's "platform: …; retrying" is history now (run.attempt keeps it)
        run.save(update_fields=["state", "reason", "score", "passed", "sealed_score", "updated_at"])
        live_publish(run_topic(run.pk), state=run.state)
        run_ended(run_id=run.pk)


def _outcome(lab: Lab, run: Run) -> ScoreOutcome:
    y_true = dataset_test_labels(run.dataset)
    if lab.metric != Metric.CUSTOM:
        return score_predictions(lab.metric, y_true, run.predictions, options=lab.metric_options)
    y_pred = predictions_array(run.predictions)
    if isinstance(y_pred, str):
        return ScoreOutcome(error=y_pred)
    try:
        value = run_score_program(lab.scoring_code, y_true, y_pred, dataset_meta(run.dataset))
    except ScoringFailed as exc:
        # The lab author's error, never the learner's: the run fails as the platform's (no quota
        # spent), and the administrators see why on the lab's authoring page.
        logger.error("lab %s: score.py failed on run %s: %s", lab.slug, run.pk, exc)
        problem = f"{timezone.now():%Y-%m-%d %H:%M} run {run.pk}: {exc}"
        Lab.objects.filter(pk=lab.pk).update(scoring_problem=db_text(problem)[:4000])
        return ScoreOutcome(error=f"{PLATFORM_PREFIX}the lab's scoring program failed; its authors are told")
    return ScoreOutcome(score=value)


def _on_lost(run_id: int, token: str) -> None:
    """A job message came back after the worker that claimed it died."""
    run_retry_or_fail(run_id=run_id, token=token, why="worker lost")


def run_resend(*, run_id: int, token: str, why: str) -> None:
    """Send a run again as it is, under a new token (the old attempt's late events change nothing),
    without spending an attempt: nothing ran. A run still waiting ``LAB_QUEUE_TIMEOUT_SECONDS``
    after it was queued fails instead, as the sweeper fails one whose message waited that long."""
    with transaction.atomic():
        run = Run.objects.select_for_update().filter(pk=run_id, token=token, state__in=ACTIVE_STATES).first()
        if run is None:
            return
        now = timezone.now()
        waited = (now - run.queued_at).total_seconds()
        if run.cancel_requested or waited > settings.LAB_QUEUE_TIMEOUT_SECONDS:
            final = RunState.CANCELLED if run.cancel_requested else RunState.FAILED
            run.state, run.finished_at = final, now
            run.reason = "cancelled: by user" if run.cancel_requested else f"{PLATFORM_PREFIX}{why}"
            run.save(update_fields=["state", "reason", "finished_at", "updated_at"])
            live_publish(run_topic(run.pk), state=run.state)
            run_ended(run_id=run.pk)
            return
        run.token, run.state, run.reason = new_token(), RunState.QUEUED, f"{PLATFORM_PREFIX}{why}; sent again"
        run.curve, run.log, run.started_at, run.sent_at, run.worker_host = [], "", None, None, ""
        run.save()
        live_publish(run_topic(run.pk), state=run.state)
        transaction.on_commit(runs_dispatch_waiting)


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
            live_publish(run_topic(run.pk), state=run.state)
            transaction.on_commit(runs_dispatch_waiting)  # first in line: it was queued first
        else:
            run.state, run.reason, run.finished_at = RunState.FAILED, f"{PLATFORM_PREFIX}{why}", now
            run.save(update_fields=["state", "reason", "finished_at", "updated_at"])
            live_publish(run_topic(run.pk), state=run.state)
            run_ended(run_id=run.pk)


# --- Telling the learner ------------------------------------------------------------

# A cancellation is the learner's own doing (or an administrator's on their behalf): no news.
NOTIFIED_STATES = (RunState.SUCCEEDED, RunState.FAILED, RunState.TIMED_OUT)


def run_finished_notify(*, run_id: int) -> Notification | None:
    run = Run.objects.select_related("submission__lab", "submission__learner").get(pk=run_id)
    if run.state not in NOTIFIED_STATES:
        return None
    learner = run.submission.learner
    with language_of(learner):
        title = run_finished_title(run)
        findings = run_findings(run)
        if findings:  # what the coach read in the run, by name (the page explains it)
            title = _("%(title)s · coach: %(finding)s") % {
                "title": title,
                "finding": finding_title(findings[0]["code"]),
            }
    return notify(user=learner, kind=NotificationKind.RUN_FINISHED, title=title, url=run.get_absolute_url())


def run_finished_title(run: Run) -> str:
    """e.g. "Handwritten digits: score 0.975 — passed" or "Handwritten digits: failed: limit: memory".
    The lab is named by its title in the active language, as every other notification names it. A
    sealed run's title has neither score nor verdict."""
    lab = run.submission.lab.title
    if run.state == RunState.SUCCEEDED and run.sealed:
        return _("%(lab)s: finished — the score stays sealed until the challenge's results are revealed") % {"lab": lab}
    if run.state == RunState.SUCCEEDED:
        values = {"lab": lab, "score": f"{run.score:.4g}"}
        if run.passed:
            return _("%(lab)s: score %(score)s — passed") % values
        return _("%(lab)s: score %(score)s — not passed") % values
    if run.state == RunState.TIMED_OUT:
        return _("%(lab)s: timed out: %(reason)s") % {"lab": lab, "reason": run.reason}
    return _("%(lab)s: failed: %(reason)s") % {"lab": lab, "reason": run.reason}
