"""P3: throughput of N concurrent short runs on one node ÷ the ideal of N bare runs in parallel.

One node: the site worker and one lab worker with its default pool (one slot per core, each
with a warm sandbox). N learners each submit one ``digits-mlp`` run at the same moment; the
platform's time is first submit → last score. The ideal: the same N solutions as bare
fresh-process ``python`` runs, as many at a time as the node has cores (one thread each, as a
platform slot gets), no platform at all; its time is first start → last exit. Both are taken
in turn, REPEATS times, in one run of this benchmark; P3 = median ideal time ÷ median platform
time (throughput ratio: above 1, the platform gets through the batch faster than bare runs).

    .venv/bin/python -m bench.throughput [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

from bench.platform_harness import REPO, bare_run_seconds, learner_create, platform_running, wait_final

SLUG = "digits-mlp"
SOLUTION = REPO / "labs" / "demo" / SLUG / "solution.py"
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))


def bare_batch_seconds(runs: int, cores: int) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=cores) as pool:
        list(pool.map(lambda _: bare_run_seconds(SLUG, SOLUTION, threads=1), range(runs)))
    return time.perf_counter() - started


def platform_batch_seconds(lab: object, learners: list, code: str) -> float:
    from labs import services

    started = time.perf_counter()
    runs = [services.submission_create(learner=u, lab=lab, source="api", code=code) for u in learners]
    wait_final([run.pk for run in runs], poll=0.05)
    return time.perf_counter() - started


def main(runs: int) -> list[str]:
    from workers.sandbox import cpu_count

    cores = cpu_count()
    print(f"throughput: {runs} concurrent {SLUG} runs, {cores} cores, {REPEATS} rounds side by side")
    code = SOLUTION.read_text()
    bare, platform = [], []
    with platform_running(SLUG, lab_concurrency=None) as lab:
        learners = [learner_create(f"p3-{n}") for n in range(runs)]
        platform_batch_seconds(lab, learners[:cores], code)  # warms caches; not counted
        for round_ in range(REPEATS):
            time.sleep(10)  # every slot's warm sandbox ready again
            bare.append(bare_batch_seconds(runs, cores))
            time.sleep(2)
            platform.append(platform_batch_seconds(lab, learners, code))
            print(f"  round {round_ + 1}: bare {bare[-1]:.1f} s, platform {platform[-1]:.1f} s", flush=True)
    ratio = statistics.median(bare) / statistics.median(platform)
    print(
        f"  median: {runs} bare runs, {cores} at a time, {statistics.median(bare):.1f} s; "
        f"through the platform {statistics.median(platform):.1f} s"
    )
    return [f"P3 {ratio:.2f}"]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=4 * len(os.sched_getaffinity(0)))
    for line in main(parser.parse_args().runs):
        print(line)
