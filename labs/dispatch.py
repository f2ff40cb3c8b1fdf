"""Sending runs to the lab workers: which waiting runs go to the broker now (fair share), and the
message each one becomes (``job_spec``: a ``workers.jobspec.JobSpec``, as JSON).

A run *waits* while it is queued and not yet sent. A waiting run is sent only while
- its learner has fewer than ``LAB_MAX_ACTIVE_PER_LEARNER`` runs on the workers (sent and not
  finished: in the broker's queue, preparing or running), and
- for a GPU lab, every cohort of the learner with a ``gpu_run_limit`` has fewer of its members'
  GPU runs on the workers than that limit.
Waiting runs go in the order they were queued. So a learner who queues a hundred runs keeps
ninety-nine of them here, not in the broker's queue in front of everyone else: another learner's
run waits only for the runs already on the workers (about one run's length with one worker).

``runs_dispatch`` runs after every submission, every run that ends, every sweep, and each time a
site worker connects to the broker (``config.celery_app.DispatchOnConnect``: runs submitted while the
broker was away go out as soon as it is back); a lock in the broker's Redis makes concurrent calls
take turns, so the limits hold. A web request never waits for that lock: if it is taken, the
dispatch is handed to the site worker (``labs.tasks.dispatch_runs``), which waits its turn.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from typing import Any

import redis
from celery import current_app
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from cohorts.models import Cohort, CohortMember
from core.broker import broker_reachable, redis_client
from core.live import live_publish, run_topic
from labs.artifacts import run_uploads
from labs.datasets import dataset_url
from labs.models import DeviceClass, Run, RunState
from workers import control
from workers.jobspec import RUN_TASK, DatasetRef, JobSpec, Limits

logger = logging.getLogger(__name__)

ON_THE_WORKERS = (RunState.QUEUED, RunState.PREPARING, RunState.RUNNING)
BATCH = 500  # waiting runs looked at per pass (the oldest first)
LOCK_KEY = "labs:dispatch"
# The site worker's task that dispatches when a web request could not (labs.tasks.dispatch_runs).
DISPATCH_TASK = "labs.tasks.dispatch_runs"


def runs_dispatch(*, wait: float = 30) -> int | None:
    """Send the waiting runs fair share allows now; returns how many were sent.

    None when another dispatcher held the lock for ``wait`` seconds (0: do not wait at all). It
    may have read the waiting runs before ours were committed, so the caller must dispatch again
    later (``runs_dispatch_waiting`` below hands it to the site worker).
    """
    try:
        lock = redis_client().lock(LOCK_KEY, timeout=60, blocking_timeout=wait)
        if not lock.acquire(blocking=wait > 0):
            return None
    except redis.RedisError:
        logger.warning("broker unreachable: waiting runs stay queued for the next dispatch")
        return 0
    try:
        return _dispatch()
    finally:
        try:
            lock.release()
        except redis.RedisError:
            logger.warning("the dispatch lock expired before its release")


def _on_the_workers() -> QuerySet[Run]:
    return Run.objects.filter(state__in=ON_THE_WORKERS, sent_at__isnull=False)


def _dispatch() -> int:
    waiting = list(
        Run.objects.filter(state=RunState.QUEUED, sent_at__isnull=True)
        .order_by("queued_at", "pk")
        .values_list("pk", "submission__learner_id", "submission__lab__device_class")[:BATCH]
    )
    if not waiting:
        return 0
    learners = {learner for _, learner, _ in waiting}
    active = Counter(
        _on_the_workers().filter(submission__learner_id__in=learners).values_list("submission__learner_id", flat=True)
    )
    limits, cohorts_of, gpu_active = _gpu_limits(learners)
    sent = 0
    for run_id, learner, device_class in waiting:
        if active[learner] >= settings.LAB_MAX_ACTIVE_PER_LEARNER:
            continue
        gpu = device_class == DeviceClass.GPU
        if gpu and any(gpu_active[c] >= limits[c] for c in cohorts_of[learner]):
            continue
        if not run_enqueue(run_id=run_id):
            if Run.objects.filter(pk=run_id, state=RunState.QUEUED).exists():
                break  # the broker refused: the rest wait for the next dispatch
            continue  # cancelled meanwhile
        sent += 1
        active[learner] += 1
        if gpu:
            gpu_active.update(cohorts_of[learner])
    return sent


def _gpu_limits(learners: set[int]) -> tuple[dict[int, int], dict[int, set[int]], Counter]:
    """Cohort limits, the limited cohorts of each learner, and each limited cohort's GPU runs now."""
    limits = dict(Cohort.objects.filter(gpu_run_limit__isnull=False).values_list("pk", "gpu_run_limit"))
    cohorts_of: dict[int, set[int]] = defaultdict(set)
    gpu_active: Counter = Counter()
    if not limits:
        return limits, cohorts_of, gpu_active
    members = CohortMember.objects.filter(cohort_id__in=limits)
    for learner, cohort in members.filter(learner_id__in=learners).values_list("learner_id", "cohort_id"):
        cohorts_of[learner].add(cohort)
    running_learners = _on_the_workers().filter(submission__lab__device_class=DeviceClass.GPU)
    per_learner = Counter(running_learners.values_list("submission__learner_id", flat=True))
    for learner, cohort in members.filter(learner_id__in=per_learner).values_list("learner_id", "cohort_id"):
        gpu_active[cohort] += per_learner[learner]
    return limits, cohorts_of, gpu_active


# --- Sending one run -----------------------------------------------------------------


def runs_dispatch_waiting() -> None:
    """Send the waiting runs that fair share allows now (see ``runs_dispatch``), without waiting for
    another dispatcher: then the site worker dispatches as soon as it is done."""
    if not broker_reachable():
        return  # they wait on the site: the site worker dispatches as it reconnects (or the sweeper)
    if runs_dispatch(wait=0) is None:
        try:
            current_app.send_task(DISPATCH_TASK, queue="default")
        except Exception:  # the broker is away: the sweeper dispatches once it is back
            logger.exception("could not hand the dispatch to the site worker; the sweeper will")


def run_enqueue(*, run_id: int) -> bool:
    """Send the job message for a queued run. A broker failure leaves it queued for the sweeper."""
    run = Run.objects.select_related("submission__lab", "dataset").get(pk=run_id)
    if run.state != RunState.QUEUED:
        return False
    try:
        current_app.send_task(RUN_TASK, args=[job_spec(run)], queue=queue_for(run), task_id=f"run-{run.pk}-{run.token}")
    except Exception:
        logger.exception("could not queue run %s; the sweeper will retry", run.pk)
        return False
    Run.objects.filter(pk=run.pk, token=run.token).update(sent_at=timezone.now())
    live_publish(run_topic(run.pk), state=run.state)  # its page stops saying that it waits its turn
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


def job_spec(run: Run) -> dict[str, Any]:
    """The message a lab worker receives for this attempt at the run, validated by ``JobSpec``."""
    lab = run.submission.lab
    spec = JobSpec(
        run_id=run.pk,
        token=run.token,
        code=run.submission.code,
        params=run.submission.params,
        seed=run.seed,
        device="cuda" if lab.device_class == DeviceClass.GPU else "cpu",
        limits=Limits(
            wall_seconds=lab.wall_seconds,
            memory_mb=lab.memory_mb,
            processes=lab.processes,
            output_bytes=lab.output_bytes,
            disk_mb=lab.disk_mb,
        ),
        dataset=DatasetRef(sha256=run.dataset.sha256, url=dataset_url(run.dataset)),
        uploads=run_uploads(run),
    )
    return spec.to_dict()


def queue_for(run: Run) -> str:
    """The lab queue (``gpu`` or ``cpu``) of the run's lab."""
    return run.submission.lab.device_class
