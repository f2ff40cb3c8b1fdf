"""The administrator's cohort dashboard: how far the learners are, which labs they pass, how busy
the workers are and how long runs wait. One selector feeds the page (Chart.js) and the API."""

from __future__ import annotations

import datetime as dt
import statistics
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from cohorts.models import Cohort, CohortMember
from courses.selectors import lessons_done
from labs.models import Run

PROGRESS_BUCKETS = ((0, 20), (20, 40), (40, 60), (60, 80), (80, 101))
DAYS = 14


def _progress_distribution(cohort: Cohort, learner_ids: list[int]) -> dict[str, Any]:
    total, done = lessons_done(cohort, learner_ids)
    percents = [round(100 * done.get(learner, 0) / total) if total else 0 for learner in learner_ids]
    labels = [f"{low}–{min(high, 100)}%" for low, high in PROGRESS_BUCKETS]
    counts = [sum(1 for p in percents if low <= p < high) for low, high in PROGRESS_BUCKETS]
    return {"labels": labels, "learners": counts, "lessons": total}


def _pass_rates(cohort: Cohort, learner_ids: list[int]) -> dict[str, Any]:
    deadlines = list(cohort.deadlines.select_related("lab").order_by("due_at"))
    passed = dict(
        Run.objects.filter(submission__learner_id__in=learner_ids, passed=True)
        .values_list("submission__lab_id")
        .annotate(n=Count("submission__learner_id", distinct=True))
        .order_by()
    )
    members = len(learner_ids) or 1
    return {
        "labels": [d.lab.title for d in deadlines],
        "percent": [round(100 * passed.get(d.lab_id, 0) / members) for d in deadlines],
    }


def _runs_per_day(learner_ids: list[int], today: dt.date) -> dict[str, Any]:
    start = today - dt.timedelta(days=DAYS - 1)
    rows = (
        Run.objects.filter(submission__learner_id__in=learner_ids, queued_at__date__gte=start)
        .annotate(day=TruncDate("queued_at"))
        .values("day")
        .annotate(runs=Count("pk"), passed=Count("pk", filter=Q(passed=True)))
        .order_by("day")
    )
    by_day = {row["day"]: row for row in rows}
    days = [start + dt.timedelta(days=n) for n in range(DAYS)]
    return {
        "labels": [day.isoformat() for day in days],
        "runs": [by_day.get(day, {}).get("runs", 0) for day in days],
        "passed": [by_day.get(day, {}).get("passed", 0) for day in days],
    }


def _queue_wait(learner_ids: list[int], today: dt.date) -> dict[str, Any]:
    """Seconds from submission to a worker starting the run: the median per day, and overall."""
    start = today - dt.timedelta(days=DAYS - 1)
    waits = (
        Run.objects.filter(submission__learner_id__in=learner_ids, queued_at__date__gte=start, started_at__isnull=False)
        .annotate(day=TruncDate("queued_at"), wait=F("started_at") - F("queued_at"))
        .values_list("day", "wait")
    )
    per_day: dict[dt.date, list[float]] = {}
    for day, wait in waits:
        per_day.setdefault(day, []).append(wait.total_seconds())
    days = [start + dt.timedelta(days=n) for n in range(DAYS)]
    everything = [w for values in per_day.values() for w in values]
    return {
        "labels": [day.isoformat() for day in days],
        "median_seconds": [round(statistics.median(per_day[d]), 2) if d in per_day else None for d in days],
        "overall_median_seconds": round(statistics.median(everything), 2) if everything else None,
    }


def cohort_dashboard_data(cohort: Cohort, *, today: dt.date | None = None) -> dict[str, Any]:
    """The dashboard's figures, computed at most once per ``COHORT_DASHBOARD_CACHE_SECONDS`` per
    cohort (they aggregate every run of hundreds of learners; a minute old is fresh enough)."""
    today = today or timezone.localdate()
    key = f"cohort-dashboard:{cohort.pk}:{today.isoformat()}"
    return cache.get_or_set(
        key, lambda: _dashboard_compute(cohort, today), timeout=settings.COHORT_DASHBOARD_CACHE_SECONDS
    )


def _dashboard_compute(cohort: Cohort, today: dt.date) -> dict[str, Any]:
    learner_ids = list(CohortMember.objects.filter(cohort=cohort).values_list("learner_id", flat=True))
    return {
        "cohort": cohort.slug,
        "learners": len(learner_ids),
        "progress": _progress_distribution(cohort, learner_ids),
        "pass_rates": _pass_rates(cohort, learner_ids),
        "runs_per_day": _runs_per_day(learner_ids, today),
        "queue_wait": _queue_wait(learner_ids, today),
        "as_of": timezone.now().isoformat(timespec="seconds"),
    }
