"""Runs in numbers, for monitoring (``config.prometheus``): counts per state, runs waiting on the
site, and histograms of run and queue times.

Each figure is one aggregate query over all runs, grouped in the database; nothing here loops over
runs in Python. The histograms are cumulative over every run the database holds (not a recent
window), as Prometheus expects of a histogram: its bucket counts only grow, so ``rate()`` and
``histogram_quantile()`` over them tell the recent times. They shrink only when runs are deleted,
which Prometheus takes for a counter reset.

``started_at`` is when the site learnt that a worker claimed the run (the site's clock, like
``queued_at`` and ``finished_at``): a run's duration covers preparing, running and scoring, and its
wait covers the site (fair share) and the broker's queue. A run tried again after a platform failure
keeps its ``queued_at``: its wait includes the failed attempt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, FloatField, Func, Q, QuerySet, Sum

from labs.models import FINAL_STATES, DeviceClass, Run, RunState

# Upper bounds of the histograms' buckets, in seconds (the last bucket, +Inf, is the count).
# Runs last up to LAB_MAX_WALL_SECONDS (an hour by default); a run can wait for a worker up to
# LAB_QUEUE_TIMEOUT_SECONDS (a day by default).
DURATION_BOUNDS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0, 7200.0)
WAIT_BOUNDS = (1.0, 5.0, 15.0, 30.0, 60.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0, 21600.0, 86400.0)


@dataclass(frozen=True)
class Histogram:
    """Times of a set of runs: ``cumulative[i]`` of them took at most ``bounds[i]`` seconds."""

    bounds: tuple[float, ...]
    cumulative: tuple[int, ...]
    count: int
    sum_seconds: float


def runs_per_state() -> dict[str, int]:
    """Every state (``RunState`` value) -> how many runs are in it now."""
    counts = dict(Run.objects.values_list("state").annotate(n=Count("pk")).order_by())
    return {state: counts.get(state, 0) for state in RunState.values}


def runs_waiting_per_device_class() -> dict[str, int]:
    """Device class -> runs waiting on the site (queued, not sent: fair share holds them, or the
    broker was away); they are not in the broker's queues yet."""
    waiting = Run.objects.filter(state=RunState.QUEUED, sent_at__isnull=True)
    counts = dict(waiting.values_list("submission__lab__device_class").annotate(n=Count("pk")).order_by())
    return {device_class: counts.get(device_class, 0) for device_class in DeviceClass.values}


def run_durations() -> dict[str, Histogram]:
    """Device class -> how long the runs that ended took (``started_at`` to ``finished_at``). A run
    cancelled or failed before a worker claimed it has no ``started_at`` and is not counted."""
    finished = Run.objects.filter(state__in=FINAL_STATES, started_at__isnull=False, finished_at__isnull=False)
    return _histograms(finished, start="started_at", end="finished_at", bounds=DURATION_BOUNDS)


def queue_waits() -> dict[str, Histogram]:
    """Device class -> how long runs waited for a worker (``queued_at`` to ``started_at``), on the
    site and in the broker together; every run that started, ended or not."""
    started = Run.objects.filter(started_at__isnull=False)
    return _histograms(started, start="queued_at", end="started_at", bounds=WAIT_BOUNDS)


class Seconds(Func):
    """Seconds from ``start`` to ``end`` (two date-time fields) as a float, computed by the database
    itself: on SQLite, Django's duration arithmetic calls back into Python for every row and bucket
    (3 to 6 s per histogram over 100,000 runs, against a quarter of a second this way)."""

    output_field = FloatField()
    arg_joiner = " - "
    template = "EXTRACT(EPOCH FROM (%(expressions)s))"  # PostgreSQL

    def __init__(self, *, end: str, start: str) -> None:
        super().__init__(F(end), F(start))

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        # julianday() is a day count in a double: the difference is good to some 50 µs, so rounded
        # to the millisecond (a run of exactly 5 s falls in the 5 s bucket, not above it).
        template = "ROUND((julianday(%(expressions)s)) * 86400.0, 3)"
        return self.as_sql(compiler, connection, template=template, arg_joiner=") - julianday(", **extra)


def _histograms(runs: QuerySet[Run], *, start: str, end: str, bounds: tuple[float, ...]) -> dict[str, Histogram]:
    """One query: per device class, the count of runs at or under each bound (a conditional count
    per bound), their number and the sum of their times."""
    buckets = {f"le_{i}": Count("pk", filter=Q(span__lte=bound)) for i, bound in enumerate(bounds)}
    rows = (
        runs.alias(span=Seconds(end=end, start=start))
        .values("submission__lab__device_class")
        .annotate(n=Count("pk"), total=Sum("span"), **buckets)
        .order_by()
    )
    empty = Histogram(bounds=bounds, cumulative=(0,) * len(bounds), count=0, sum_seconds=0.0)
    found = {
        row["submission__lab__device_class"]: Histogram(
            bounds=bounds,
            cumulative=tuple(row[f"le_{i}"] for i in range(len(bounds))),
            count=row["n"],
            sum_seconds=float(row["total"] or 0),  # PostgreSQL's EXTRACT gives a Decimal
        )
        for row in rows
    }
    return {device_class: found.get(device_class, empty) for device_class in DeviceClass.values}
