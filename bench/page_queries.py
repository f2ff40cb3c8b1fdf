"""P4: SQL queries per page, on a small and on a large generated data set.

Each page is requested in-process (Django's test client, as the persona who uses it) and its
queries are counted, first on a data set of 10 learners / 10 courses / 10 runs, then on one of
10,000 learners / 200 courses / 10,000 runs (``config.scale_data``). The goal: the same count at
both sizes (no query per row) and at most 15.

Runs on a temporary SQLite database, or on ``DATABASE_URL`` if set (it must be a scratch
database: the data set is generated into it and removed after).

    .venv/bin/python -m bench.page_queries [--large-learners 10000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.platform_harness import broker_running

SMALL = {"learners": 10, "courses": 10, "runs": 10}
LARGE = {"learners": 10_000, "courses": 200, "runs": 10_000}
GOAL = 15


def pages() -> dict[str, tuple[str, Callable[[], str]]]:
    """page -> (persona username, URL builder), for the generated data set."""
    from labs.models import Run

    def latest_run() -> str:
        run = Run.objects.filter(submission__learner__username="scale-learner-00000").order_by("-pk").first()
        return f"/labs/runs/{run.pk}/"

    learner, mentor, admin = "scale-learner-00000", "scale-mentor-00000", "bench-admin"
    return {
        "catalog": (learner, lambda: "/courses/"),
        "course": (learner, lambda: "/courses/scale-course-0000/"),
        "lesson": (learner, lambda: "/courses/scale-course-0000/m1-l2/"),
        "lab": (learner, lambda: "/labs/digits-mlp/"),
        "run": (learner, latest_run),
        "review_queue": (mentor, lambda: "/mentoring/queue/"),
        "gradebook": (admin, lambda: "/cohorts/scale-cohort-000/gradebook/"),
        "cohort_dashboard": (admin, lambda: "/cohorts/scale-cohort-000/dashboard/"),
    }


def measure(size: dict[str, int]) -> dict[str, int]:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from config.scale_data import scale_data_delete, scale_data_generate
    from core.models import User

    started = time.perf_counter()
    scale_data_delete()
    scale_data_generate(**size, password=settings.DEMO_PASSWORD)
    print(f"  generated {size} in {time.perf_counter() - started:.1f} s", flush=True)
    counts = {}
    for page, (username, url) in pages().items():
        client = Client()
        client.force_login(User.objects.get(username=username))
        client.get(url())  # warm: sessions, caches, lazy imports
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url())
        if response.status_code != 200:
            raise SystemExit(f"{page}: {url()} answered {response.status_code}")
        counts[page] = len(queries)
    return counts


def main(large: dict[str, int]) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp, broker_running(Path(tmp)):
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
        os.environ["VAR_DIR"] = tmp
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        settings.DATASET_STORAGE_DIR = tmp
        call_command("migrate", verbosity=0)
        from core.services import user_create

        user_create(username="bench-admin", password=os.urandom(12).hex(), role="admin")
        print(f"page queries: {SMALL} vs {large}")
        small_counts = measure(SMALL)
        large_counts = measure(large)
        from config.scale_data import scale_data_delete

        scale_data_delete()
    lines = []
    print(f"  {'page':<18}{'small':>7}{'large':>7}")
    for page in small_counts:
        print(f"  {page:<18}{small_counts[page]:>7}{large_counts[page]:>7}")
        lines.append(f"P4_{page} {large_counts[page]}")
    growth = max(large_counts[p] - small_counts[p] for p in small_counts)
    worst = max(large_counts.values())
    print(f"  goal: constant (growth 0) and at most {GOAL}; worst {worst}, growth {growth}")
    return [*lines, f"P4_growth {growth}", f"P4 {worst}"]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--large-learners", type=int, default=LARGE["learners"])
    parser.add_argument("--large-runs", type=int, default=LARGE["runs"])
    args = parser.parse_args()
    for line in main({**LARGE, "learners": args.large_learners, "runs": args.large_runs}):
        print(line)
