"""P1 and P2: what the platform adds to a learner's training run.

P1 = median end-to-end time (submit → score, through the broker, a real lab worker with its
     bubblewrap sandbox, and the site's scoring) ÷ median time of a bare fresh-process
     ``python`` run of the same solution (``digits-mlp``), which a learner would otherwise
     run themselves (imports included, as they pay them).
P2 = median queue latency, submit → a worker has claimed the run, with an idle worker, in ms.

Everything runs in a temporary VAR_DIR on the embedded default (SQLite + the bundled Redis),
unless DATABASE_URL / CELERY_BROKER_URL point elsewhere. Run: ``python -m bench.lab_overhead``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SLUG = "digits-mlp"
SOLUTION = REPO / "labs" / "demo" / SLUG / "solution.py"
REPEATS = int(os.environ.get("BENCH_REPEATS", "5"))


def bare_run_seconds() -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "labs.demo.local_run", SLUG, str(SOLUTION), "--quiet"],
        cwd=REPO,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def platform_runs(var_dir: Path) -> list[tuple[float, float]]:
    """(submit → score seconds, submit → claimed ms) for each of REPEATS sequential runs."""
    import django
    from django.core.management import call_command

    django.setup()
    from django.conf import settings

    from core import embedded_broker, worker_processes
    from core.services import user_create
    from labs import services
    from labs.demo_seed import demo_lab_seed
    from labs.models import RunState

    broker = None
    if embedded_broker.is_embedded(settings.CELERY_BROKER_URL, settings.EMBEDDED_BROKER_DIR):
        broker = embedded_broker.start(settings.CELERY_BROKER_URL)
    call_command("migrate", verbosity=0)
    lab = demo_lab_seed(SLUG)
    lab.submissions_per_day = 1000
    lab.save()
    learner = user_create(username=f"bench-{os.getpid()}", password=os.urandom(12).hex(), role="learner")
    workers = [
        worker_processes.start_worker(queues=queues, log_dir=var_dir, env={**os.environ})
        for queues in ("default", "cpu,gpu")
    ]
    try:
        code = SOLUTION.read_text()
        results = []
        for index in range(REPEATS + 1):  # the first run warms caches and is not counted
            time.sleep(8)  # an idle worker, its warm sandbox ready
            started = time.perf_counter()
            run = services.submission_create(learner=learner, lab=lab, source="api", code=code)
            while True:
                run.refresh_from_db()
                if run.is_final:
                    break
                time.sleep(0.02)
            elapsed = time.perf_counter() - started
            if run.state != RunState.SUCCEEDED or not run.passed:
                raise SystemExit(f"benchmark run failed: {run.state} {run.reason}\n{run.log[-2000:]}")
            claimed_ms = (run.started_at - run.queued_at).total_seconds() * 1000
            if index:
                results.append((elapsed, claimed_ms))
            print(
                f"  platform run {run.pk}: {elapsed:.2f} s, claimed after {claimed_ms:.0f} ms, "
                f"score {run.score:.4f}, sandbox {run.sandbox}"
            )
        return results
    finally:
        for worker in workers:
            worker_processes.stop_worker(worker)
        if broker is not None:
            broker.terminate()


def main() -> list[str]:
    with tempfile.TemporaryDirectory(prefix="bench-lab-") as tmp:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings")
        os.environ["VAR_DIR"] = tmp
        print(f"lab overhead: {SLUG}, {REPEATS} runs each, measured side by side")
        bare = []
        for _ in range(REPEATS):
            bare.append(bare_run_seconds())
            print(f"  bare fresh-process run: {bare[-1]:.2f} s")
        runs = platform_runs(Path(tmp))
    end_to_end = statistics.median(r[0] for r in runs)
    queue_ms = statistics.median(r[1] for r in runs)
    bare_median = statistics.median(bare)
    print(f"  median bare {bare_median:.2f} s, median platform {end_to_end:.2f} s, median queue {queue_ms:.0f} ms")
    return [f"P1 {end_to_end / bare_median:.3f}", f"P2 {queue_ms:.0f}"]


if __name__ == "__main__":
    for line in main():
        print(line)
