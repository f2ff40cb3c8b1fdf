"""The sweeper: finds runs stuck in any non-final state and moves each on (beat, every minute).

Safe to run at any time and any number of times: every move goes through the compare-and-set
writes of ``labs.run_events`` and ``labs.dispatch``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.broker import redis_client
from core.live import live_publish, run_topic
from labs.dispatch import run_enqueue, runs_dispatch
from labs.models import Run, RunState
from labs.run_events import run_ended, run_retry_or_fail, run_score
from workers import control

logger = logging.getLogger(__name__)

# A sent run younger than this is left alone by the forgotten-message check (see control.mark_queued).
FORGOTTEN_AFTER_SECONDS = 60


def runs_sweep() -> dict[str, int]:
    """Find runs stuck in any non-final state and move each on. Safe to run at any time."""
    now = timezone.now()
    counts = {"resent": 0, "expired": 0, "lost": 0, "rescored": 0}
    expired = Run.objects.filter(
        state=RunState.QUEUED, sent_at__lt=now - timedelta(seconds=settings.LAB_QUEUE_TIMEOUT_SECONDS)
    )
    for run_id, token in expired.values_list("pk", "token"):
        with transaction.atomic():  # one run at a time: each failure notifies its learner once
            moved = expired.filter(pk=run_id).update(
                state=RunState.FAILED, reason="platform: no worker picked the run up", finished_at=now, updated_at=now
            )
            if moved:
                live_publish(run_topic(run_id), state=RunState.FAILED)
                run_ended(run_id=run_id)
        if moved:  # the message may still be in a queue: a worker that takes it later does nothing
            _attempt_cancel(run_id=run_id, token=token)
        counts["expired"] += moved
    grace = timedelta(seconds=settings.LAB_LOST_GRACE_SECONDS)
    for run in Run.objects.filter(state__in=(RunState.PREPARING, RunState.RUNNING)).select_related("submission__lab"):
        if run.started_at and run.started_at + timedelta(seconds=run.submission.lab.wall_seconds) + grace < now:
            # The backstop: past its wall limit, whatever the heartbeat says (a hung worker beats on).
            _run_lost(run_id=run.pk, token=run.token)
            counts["lost"] += 1
    counts["lost"] += _runs_without_heartbeat_retry(now)
    _cancels_flag()
    for run_id in Run.objects.filter(state=RunState.SCORING, updated_at__lt=now - grace).values_list("pk", flat=True):
        run_score(run_id=run_id)
        counts["rescored"] += 1
    # Last, so that runs retried above go out in this same sweep: waiting runs fair share lets
    # through now, runs whose send failed, runs the broker forgot.
    counts["resent"] += runs_dispatch() or 0  # None: another dispatcher was busy this long
    counts["resent"] += _runs_forgotten_resend(now)
    return counts


def _run_lost(*, run_id: int, token: str) -> None:
    """Retry (or fail) a run whose worker is gone; a worker still holding that attempt is told to stop."""
    run_retry_or_fail(run_id=run_id, token=token, why="worker lost")
    _attempt_cancel(run_id=run_id, token=token)


def _attempt_cancel(*, run_id: int, token: str) -> None:
    """Raise the cancel flag of an attempt the site gave up on (best effort)."""
    try:
        control.request_cancel(redis_client(), run_id=run_id, token=token)
    except redis.RedisError:
        logger.warning("could not raise the cancel flag of an abandoned attempt of run %s", run_id)


def _cancels_flag() -> None:
    """Raise the cancel flag of every live run someone cancelled: a cancel asked for while the broker
    was away was recorded on the site only (``labs.services.run_cancel``). Raising it again is harmless."""
    live = Run.objects.filter(state__in=(RunState.PREPARING, RunState.RUNNING), cancel_requested=True)
    for run_id, token in live.values_list("pk", "token"):
        _attempt_cancel(run_id=run_id, token=token)


def _runs_without_heartbeat_retry(now: datetime) -> int:
    """Retry the runs whose worker took them but stopped beating their heartbeat: it died.

    Preparing and running runs silent for longer than the heartbeat's life, and queued ones sent
    that long ago whose "claimed" event never came. A run whose heartbeat the broker lost with
    its memory (no claim either) is left to the wall-limit backstop.
    """
    silent = now - timedelta(seconds=settings.LAB_HEARTBEAT_SECONDS)
    runs = list(
        Run.objects.filter(state__in=(RunState.PREPARING, RunState.RUNNING), updated_at__lt=silent).values_list(
            "pk", "token"
        )
    )
    runs += Run.objects.filter(state=RunState.QUEUED, sent_at__lt=silent).values_list("pk", "token")
    try:
        statuses = control.attempts_status(redis_client(), runs)
    except redis.RedisError:
        logger.warning("the broker cannot be asked about heartbeats; left for the next sweep")
        return 0
    lost = 0
    for (run_id, token), status in zip(runs, statuses, strict=True):
        if status == control.Attempt.GONE:
            logger.warning("run %s: its worker stopped beating the heartbeat; retrying it", run_id)
            _run_lost(run_id=run_id, token=token)
            lost += 1
    return lost


def _runs_forgotten_resend(now: datetime) -> int:
    """Send again the queued runs whose message the broker lost (restarted without persistence).

    After the expiry check: a run past the queue timeout fails instead."""
    sent = Run.objects.filter(state=RunState.QUEUED, sent_at__lt=now - timedelta(seconds=FORGOTTEN_AFTER_SECONDS))
    runs = list(sent.values_list("pk", "token"))
    try:
        forgotten = control.unmarked(redis_client(), runs=runs) if runs else []
    except redis.RedisError:
        logger.warning("broker unreachable: the check for forgotten queued runs waits for the next sweep")
        return 0
    if forgotten:
        logger.warning("the broker lost the messages of queued runs %s; sending them again", forgotten)
    return sum(run_enqueue(run_id=run_id) for run_id in forgotten)
