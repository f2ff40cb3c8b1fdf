"""Fair share: how long another learner's run waits behind one learner's burst.

One lab worker (as on a one-GPU node). Learner A queues a burst of short runs; once A's first
run is running, learner B submits one. B's wait is submit → claimed by the worker; a run's
length is A's median claimed → finished. Measured twice in one run of this benchmark: with fair
share (``LAB_MAX_ACTIVE_PER_LEARNER=1``, the default) and without it (a limit above the burst:
every run goes straight to the broker, first come first served).

Figures: ``FAIR_wait_runs`` = B's wait ÷ one run's length with fair share (goal: about 1);
``FAIR_unfair_wait_runs`` the same without it (about the burst's length).

    .venv/bin/python -m bench.fair_share [--burst 100]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CODE = (
    "import torch\n\n\ndef train(data, run):\n    run.log(0, loss=1.0)\n    return None\n\n\n"
    "def predict(model, x):\n    return torch.zeros(len(x))\n"
)


def measure(var_dir: Path, *, burst: int, limit: int) -> tuple[float, float]:
    """(B's wait in s, A's median run length in s) with LAB_MAX_ACTIVE_PER_LEARNER=limit."""
    from django.conf import settings

    from core import worker_processes
    from core.services import user_create
    from labs import services
    from labs.demo_seed import demo_lab_seed
    from labs.models import Run, RunState

    settings.LAB_MAX_ACTIVE_PER_LEARNER = limit
    env = {**os.environ, "LAB_MAX_ACTIVE_PER_LEARNER": str(limit)}
    lab = demo_lab_seed("linear-regression")
    lab.submissions_per_day = 10 * burst
    lab.save()
    stamp = f"{limit}-{os.getpid()}"
    a = user_create(username=f"bench-a-{stamp}", password=os.urandom(12).hex(), role="learner")
    b = user_create(username=f"bench-b-{stamp}", password=os.urandom(12).hex(), role="learner")
    workers = [
        worker_processes.start_worker(queues=queues, log_dir=var_dir, env=env) for queues in ("default", "cpu,gpu")
    ]
    try:
        time.sleep(8)  # the lab worker's warm sandbox is ready
        runs = [services.submission_create(learner=a, lab=lab, source="api", code=CODE) for _ in range(burst)]
        while not Run.objects.filter(pk=runs[0].pk, state=RunState.RUNNING).exists():
            time.sleep(0.05)
        theirs = services.submission_create(learner=b, lab=lab, source="api", code=CODE)
        while not (theirs := Run.objects.get(pk=theirs.pk)).is_final:
            time.sleep(0.1)
        if theirs.state != RunState.SUCCEEDED:
            raise SystemExit(f"B's run {theirs.state}: {theirs.reason}\n{theirs.log[-2000:]}")
        wait = (theirs.started_at - theirs.queued_at).total_seconds()
        done = Run.objects.filter(pk__in=[r.pk for r in runs], state=RunState.SUCCEEDED, started_at__isnull=False)
        lengths = [(r.finished_at - r.started_at).total_seconds() for r in done]
        for run in Run.objects.filter(pk__in=[r.pk for r in runs]).exclude(state__in=("succeeded", "failed")):
            services.run_cancel(run=run)
        return wait, statistics.median(lengths)
    finally:
        for worker in workers:
            worker_processes.stop_worker(worker)


def main(burst: int) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="bench-fair-") as tmp:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings")
        os.environ["VAR_DIR"] = tmp
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        from core import embedded_broker

        broker = None
        if embedded_broker.is_embedded(settings.CELERY_BROKER_URL, settings.EMBEDDED_BROKER_DIR):
            broker = embedded_broker.start(settings.CELERY_BROKER_URL)
        try:
            call_command("migrate", verbosity=0)
            print(f"fair share: learner A queues {burst} runs, then learner B submits one (one lab worker)")
            fair_wait, fair_run = measure(Path(tmp), burst=burst, limit=1)
            print(f"  fair share:    B waited {fair_wait:.2f} s; one run takes {fair_run:.2f} s")
            unfair_wait, unfair_run = measure(Path(tmp), burst=burst, limit=burst + 1)
            print(f"  first come:    B waited {unfair_wait:.2f} s; one run takes {unfair_run:.2f} s")
        finally:
            if broker is not None:
                broker.terminate()
    return [f"FAIR_wait_runs {fair_wait / fair_run:.2f}", f"FAIR_unfair_wait_runs {unfair_wait / unfair_run:.2f}"]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--burst", type=int, default=100)
    for line in main(parser.parse_args().burst):
        print(line)
