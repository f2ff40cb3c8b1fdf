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
import statistics
import subprocess
import sys
import time

from bench.platform_harness import REPO, learner_create, platform_running, wait_final

CODE = (
    "import torch\n\n\ndef train(data, run):\n    run.log(0, loss=1.0)\n    return None\n\n\n"
    "def predict(model, x):\n    return torch.zeros(len(x))\n"
)


def measure(*, burst: int, limit: int) -> tuple[float, float]:
    """(B's wait in s, A's median run length in s) with LAB_MAX_ACTIVE_PER_LEARNER=limit."""
    from django.conf import settings

    from labs import services
    from labs.models import Run, RunState

    with platform_running("linear-regression", env={"LAB_MAX_ACTIVE_PER_LEARNER": str(limit)}) as lab:
        settings.LAB_MAX_ACTIVE_PER_LEARNER = limit
        a, b = learner_create(f"a{limit}"), learner_create(f"b{limit}")
        time.sleep(8)  # the lab worker's warm sandbox is ready
        runs = [services.submission_create(learner=a, lab=lab, source="api", code=CODE) for _ in range(burst)]
        while not Run.objects.filter(pk=runs[0].pk, state=RunState.RUNNING).exists():
            time.sleep(0.05)
        (theirs,) = wait_final([services.submission_create(learner=b, lab=lab, source="api", code=CODE).pk], poll=0.1)
        wait = (theirs.started_at - theirs.queued_at).total_seconds()
        done = Run.objects.filter(pk__in=[r.pk for r in runs], state=RunState.SUCCEEDED, started_at__isnull=False)
        lengths = [(r.finished_at - r.started_at).total_seconds() for r in done]
        for run in Run.objects.filter(pk__in=[r.pk for r in runs]).exclude(state__in=("succeeded", "failed")):
            services.run_cancel(run=run)
        return wait, statistics.median(lengths)


def measure_apart(*, burst: int, limit: int) -> tuple[float, float]:
    """``measure`` in a process of its own: each platform gets fresh settings and a fresh VAR_DIR."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.fair_share", "--burst", str(burst), "--one", str(limit)],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    wait, length = next(line for line in out.splitlines() if line.startswith("ONE ")).split()[1:]
    return float(wait), float(length)


def main(burst: int) -> list[str]:
    print(f"fair share: learner A queues {burst} runs, then learner B submits one (one lab worker)", flush=True)
    fair_wait, fair_run = measure_apart(burst=burst, limit=1)
    print(f"  fair share:    B waited {fair_wait:.2f} s; one run takes {fair_run:.2f} s", flush=True)
    unfair_wait, unfair_run = measure_apart(burst=burst, limit=burst + 1)
    print(f"  first come:    B waited {unfair_wait:.2f} s; one run takes {unfair_run:.2f} s")
    return [f"FAIR_wait_runs {fair_wait / fair_run:.2f}", f"FAIR_unfair_wait_runs {unfair_wait / unfair_run:.2f}"]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument("--one", type=int, help="measure once with this per-learner limit (internal)")
    args = parser.parse_args()
    if args.one:
        print("ONE {:.3f} {:.3f}".format(*measure(burst=args.burst, limit=args.one)))
    else:
        for line in main(args.burst):
            print(line)
