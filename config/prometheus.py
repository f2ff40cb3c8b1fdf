"""``GET /metrics``: the platform's state for the cluster's Prometheus, in its text format.

Every figure comes from the database or the broker's Redis, none from the answering process, so
every web process answers alike: Prometheus scrapes the web Service as one target (scraping each
pod would repeat every series once per pod). A scrape costs four aggregate queries and three
broker round trips, and its figures are kept ``METRICS_CACHE_SECONDS`` (5) in the cache.

Series (device_class: ``cpu`` or ``gpu``):

- ``academy_queue_length{queue}``: job messages waiting in the broker's queue (``cpu``, ``gpu``,
  and the site's ``default``);
- ``academy_runs_waiting{device_class}``: runs waiting on the site, not yet sent to the broker
  (fair share holds them, or the broker was away);
- ``academy_runs_total{state}``: runs that ended, per final state (a counter: runs only move
  into a final state; the database's count, so it drops only when runs are deleted);
- ``academy_runs_active{state}``: runs not ended yet, per state (queued, preparing, running,
  scoring);
- ``academy_run_duration_seconds{device_class}``: histogram of ``started_at`` to ``finished_at`` of
  the runs that ended, and ``academy_queue_wait_seconds{device_class}``: of ``queued_at`` to
  ``started_at`` of the runs that started; both over every run the database holds
  (``labs.run_stats``);
- ``academy_lab_workers{queue}``: lab workers alive per queue they consume, and
  ``academy_gpu_memory_used_bytes``, ``academy_gpu_memory_total_bytes``,
  ``academy_gpu_utilization_ratio`` (0-1) ``{worker, gpu}``: what they publish
  (``workers.gpu_stats``);
- ``academy_gpu_unhealthy{worker}``: 1 for each lab worker whose GPU failed its health check and that
  left the ``gpu`` queue (``workers.tasks``; the reason is in its log and ``workers.control``);
- ``academy_broker_up``: 1 when the broker answered; at 0 the broker's series are absent.

A database that does not answer makes the scrape fail (Prometheus's own ``up`` is 0 then).

Access: no sign-in. With ``METRICS_TOKEN`` set, a request must carry ``Authorization: Bearer
<token>`` (Prometheus: ``authorization: {credentials_file: …}``), else 401.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterable

import redis
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.utils import floatToGoString

from config import health
from core import broker
from labs import run_stats
from labs.models import FINAL_STATES
from workers import control, gpu_stats

logger = logging.getLogger(__name__)

CACHE_KEY = "metrics:families"


class _Families:
    """What the encoders of ``prometheus_client`` take (a registry): metric families, collected."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not _authorized(request):
        response = HttpResponse("a bearer token is required\n", content_type="text/plain", status=401)
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    families = cache.get(CACHE_KEY)
    if families is None:
        families = families_collect()
        if settings.METRICS_CACHE_SECONDS:
            cache.set(CACHE_KEY, families, settings.METRICS_CACHE_SECONDS)
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encode(_Families(families)), content_type=content_type)


def _authorized(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if not token:
        return True
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def families_collect() -> list[Metric]:
    """Every metric family, from the database and (when it answers) the broker."""
    return [*_run_families(), *_broker_families()]


def _run_families() -> list[Metric]:
    per_state = run_stats.runs_per_state()
    ended = CounterMetricFamily("academy_runs", "Runs that ended, per final state.", labels=["state"])
    active = GaugeMetricFamily("academy_runs_active", "Runs not ended yet, per state.", labels=["state"])
    for state, count in per_state.items():
        (ended if state in FINAL_STATES else active).add_metric([state], count)
    waiting = GaugeMetricFamily(
        "academy_runs_waiting",
        "Runs waiting on the site, not yet sent to the broker (fair share holds them).",
        labels=["device_class"],
    )
    for device_class, count in run_stats.runs_waiting_per_device_class().items():
        waiting.add_metric([device_class], count)
    durations = _histogram_family(
        "academy_run_duration_seconds", "How long runs that ended ran (started to finished).", run_stats.run_durations()
    )
    waits = _histogram_family(
        "academy_queue_wait_seconds",
        "How long runs waited before they started (queued to started).",
        run_stats.queue_waits(),
    )
    return [ended, active, waiting, durations, waits]


def _histogram_family(name: str, documentation: str, per_class: dict[str, run_stats.Histogram]) -> Metric:
    family = HistogramMetricFamily(name, documentation, labels=["device_class"])
    for device_class, histogram in per_class.items():
        buckets = [(floatToGoString(b), n) for b, n in zip(histogram.bounds, histogram.cumulative, strict=True)]
        family.add_metric([device_class], [*buckets, ("+Inf", histogram.count)], histogram.sum_seconds)
    return family


def _broker_families() -> list[Metric]:
    up = GaugeMetricFamily("academy_broker_up", "1 when the broker answered this scrape.")
    read = _broker_read()
    up.add_metric([], 0 if read is None else 1)
    if read is None:
        return [up]  # absent, not zero: nothing is known of the queues and workers
    lengths, workers, unhealthy = read
    queue_length = GaugeMetricFamily(
        "academy_queue_length", "Job messages waiting in the broker's queue.", labels=["queue"]
    )
    for queue, length in lengths.items():
        queue_length.add_metric([queue], length)
    off_gpu = GaugeMetricFamily(
        "academy_gpu_unhealthy",
        "1 for a lab worker that left the gpu queue after its GPU failed the health check.",
        labels=["worker"],
    )
    for worker in sorted(unhealthy):
        off_gpu.add_metric([worker], 1)
    return [up, queue_length, off_gpu, *_worker_families(workers)]


def _broker_read() -> tuple[dict[str, int], list[gpu_stats.WorkerRecord], dict[str, str]] | None:
    """The broker's queue lengths, the lab workers' records and the workers whose GPU failed its health
    check (``workers.control.gpu_health_problems``); None when the broker does not answer."""
    if not broker.broker_reachable():  # a hung broker costs its timeout once every few seconds only
        return None
    try:
        client = broker.redis_client()
        return health.broker_queue_lengths(), gpu_stats.workers_alive(client), control.gpu_health_problems(client)
    except redis.RedisError as exc:
        logger.warning("metrics without the broker: %s", exc)
        return None


def _worker_families(workers: list[gpu_stats.WorkerRecord]) -> list[Metric]:
    alive = GaugeMetricFamily("academy_lab_workers", "Lab workers alive, per queue they consume.", labels=["queue"])
    for queue, count in health.lab_workers_per_queue(workers).items():
        alive.add_metric([queue], count)
    labels = ["worker", "gpu"]
    used = GaugeMetricFamily("academy_gpu_memory_used_bytes", "GPU memory in use.", labels=labels)
    total = GaugeMetricFamily("academy_gpu_memory_total_bytes", "GPU memory in all.", labels=labels)
    utilization = GaugeMetricFamily(
        "academy_gpu_utilization_ratio", "Share of the last sample period the GPU was busy (0-1).", labels=labels
    )
    for record in workers:
        for gpu in record.gpus:
            key = [record.worker, str(gpu.index)]
            used.add_metric(key, gpu.memory_used_bytes)
            total.add_metric(key, gpu.memory_total_bytes)
            if gpu.utilization_ratio is not None:
                utilization.add_metric(key, gpu.utilization_ratio)
    return [alive, used, total, utilization]
