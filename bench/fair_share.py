"""Fair share: how long another learner's run waits behind one learner's burst.

One lab worker (as on a one-GPU node). Learner A queues a burst of short runs; once A's first
run is running, learner B submits one, and again when it is scored, three times. B's wait is the median of
submit → claimed by the worker; a run's
length is the median time between two runs starting (the run, its hand-off and the slot's
fresh sandbox). Measured twice in one run of this benchmark: with fair share
(``LAB_MAX_ACTIVE_PER_LEARNER=1``, the default) behind a burst of 100, and without it (a limit
above the burst: every run goes straight to the broker, first come first served) behind a burst
of 20 (B waits all of it out, so a smaller one keeps the benchmark short).

Figures: ``FAIR_wait_runs`` = B's wait ÷ one run's length with fair share (goal: about 1);
``FAIR_unfair_wait_runs`` the same without it (about the burst's length).

    .venv/bin/python -m bench.fair_share [--burst 100] [--unfair-burst 20]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import subprocess
import sys
import time

from bench.platform_harness import REPO, learner_create, platform_running, wait_final

B_RUNS = 3  # B's wait is the median of this many runs, one after the other
CODE = (  # a short run that takes about a second of the worker's time
    "import time\n\nimport torch\n\n\ndef train(data, run):\n    time.sleep(1)\n    run.log(0, loss=1.0)\n"
    "    return None\n\n\ndef predict(model, x):\n    return torch.zeros(len(x))\n"
)


def measure(*, burst: int, limit: int) -> tuple[float, float]:
    """(B's wait in s, A's median run length in s) with LAB_MAX_ACTIVE_PER_LEARNER=limit."""
    with platform_running("linear-regression", env={"LAB_MAX_ACTIVE_PER_LEARNER": str(limit)}) as lab:
        from django.conf import settings

        from labs import services
        from labs.models import Run

        settings.LAB_MAX_ACTIVE_PER_LEARNER = limit
        a, b = learner_create(f"a{limit}"), learner_create(f"b{limit}")
        time.sleep(8)  # the lab worker's warm sandbox is ready
        runs = [services.submission_create(learner=a, lab=lab, source="api", code=CODE) for _ in range(burst)]
        while not Run.objects.filter(pk=runs[0].pk, started_at__isnull=False).exists():  # A's first is on
            time.sleep(0.05)
        waits = []
        # With fair share B submits again as soon as its run is scored, A's burst still waiting; first
        # come first served, B's next run would find the burst gone, so B runs once.
        for _ in range(B_RUNS if limit == 1 else 1):
            mine = services.submission_create(learner=b, lab=lab, source="api", code=CODE)
            (theirs,) = wait_final([mine.pk], poll=0.1)
            waits.append((theirs.started_at - theirs.queued_at).total_seconds())
        wait = statistics.median(waits)
        # One run's length on the worker: from one run starting to the next one starting (its
        # training, the scoring hand-off and the slot's fresh sandbox), A's and B's runs alike (with
        # fair share they take turns), the median.
        started = Run.objects.filter(submission__lab=lab, started_at__isnull=False)
        starts = sorted(started.values_list("started_at", flat=True))
        lengths = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(starts)]
        for run in Run.objects.filter(pk__in=[r.pk for r in runs]).exclude(state__in=("succeeded", "failed")):
            services.run_cancel(run=run)
        return wait, statistics.median(lengths)


def measure_apart(*, burst: int, limit: int) -> tuple[float, float]:
    """``measure`` in a process of its own: each platform gets fresh settings and a fresh VAR_DIR."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.fair_share", "--burst", str(burst), "--one", str(limit)],
        cwd=REPO,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout
    wait, length = next(line for line in out.splitlines() if line.startswith("ONE ")).split()[1:]
    return float(wait), float(length)


def main(burst: int, unfair_burst: int) -> list[str]:
    print(f"fair share: learner A queues {burst} runs, then learner B submits one (one lab worker)", flush=True)
    fair_wait, fair_run = measure_apart(burst=burst, limit=1)
    print(f"  fair share:    B waited {fair_wait:.2f} s; one run takes {fair_run:.2f} s", flush=True)
    unfair_wait, unfair_run = measure_apart(burst=unfair_burst, limit=unfair_burst + 1)
    print(f"  first come, behind {unfair_burst} runs: B waited {unfair_wait:.2f} s; one run takes {unfair_run:.2f} s")
    return [f"FAIR_wait_runs {fair_wait / fair_run:.2f}", f"FAIR_unfair_wait_runs {unfair_wait / unfair_run:.2f}"]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument("--unfair-burst", type=int, default=20, help="the burst without fair share (B waits it out)")
    parser.add_argument("--one", type=int, help="measure once with this per-learner limit (internal)")
    args = parser.parse_args()
    if args.one:
        print("ONE {:.3f} {:.3f}".format(*measure(burst=args.burst, limit=args.one)))
    else:
        for line in main(args.burst, args.unfair_burst):
            print(line)
