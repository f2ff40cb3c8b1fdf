"""P1 and P2: what the platform adds to a learner's training run.

P1 = median end-to-end time (submit → score, through the broker, a real lab worker with its
     bubblewrap sandbox, and the site's scoring) ÷ median time of a bare fresh-process
     ``python`` run of the same solution (``digits-mlp``), which a learner would otherwise
     run themselves (imports included, as they pay them). Taken in turn, one bare run then one
     platform run, REPEATS times.
P2 = median queue latency, submit → a worker has claimed the run, with an idle worker, in ms:
     on the embedded broker (the default run mode) and, when a Redis server answers at
     ``BENCH_REDIS_URL`` (default redis://127.0.0.1:6379/14), on Redis (``P2_redis``).

Everything runs in a temporary VAR_DIR on the embedded default (SQLite + the bundled Redis),
unless DATABASE_URL / CELERY_BROKER_URL point elsewhere. Run: ``python -m bench.lab_overhead``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

from bench.platform_harness import REPO, bare_run_seconds, learner_create, platform_running, wait_final

SLUG = "digits-mlp"
SOLUTION = REPO / "labs" / "demo" / SLUG / "solution.py"
REPEATS = int(os.environ.get("BENCH_REPEATS", "5"))
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def measure(*, with_bare: bool) -> tuple[list[float], list[float], list[float]]:
    """(bare seconds, submit → score seconds, submit → claimed ms) per round."""
    bare, end_to_end, claimed = [], [], []
    with platform_running(SLUG) as lab:
        from labs import services

        learner = learner_create("p1")
        code = SOLUTION.read_text()
        for index in range(REPEATS + 1):  # the first round warms caches and is not counted
            if with_bare:
                bare.append(bare_run_seconds(SLUG, SOLUTION))
            time.sleep(8)  # an idle worker, its warm sandbox ready
            started = time.perf_counter()
            run = services.submission_create(learner=learner, lab=lab, source="api", code=code)
            (run,) = wait_final([run.pk])
            end_to_end.append(time.perf_counter() - started)
            claimed.append((run.started_at - run.queued_at).total_seconds() * 1000)
            print(
                f"  round {index}: {f'bare {bare[-1]:.2f} s, ' if with_bare else ''}platform {end_to_end[-1]:.2f} s, "
                f"claimed after {claimed[-1]:.0f} ms, score {run.score:.4f}, sandbox {run.sandbox}",
                flush=True,
            )
    return bare[1:], end_to_end[1:], claimed[1:]


def redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def main() -> list[str]:
    if os.environ.get("BENCH_P2_ONLY"):  # the Redis round, in a process of its own (settings load once)
        _, _, claimed = measure(with_bare=False)
        return [f"P2_redis {statistics.median(claimed):.0f}"]
    print(f"lab overhead: {SLUG}, {REPEATS} rounds of one bare run and one platform run")
    bare, end_to_end, claimed = measure(with_bare=True)
    print(
        f"  median bare {statistics.median(bare):.2f} s, median platform {statistics.median(end_to_end):.2f} s, "
        f"median queue {statistics.median(claimed):.0f} ms (embedded broker)"
    )
    lines = [
        f"P1 {statistics.median(end_to_end) / statistics.median(bare):.3f}",
        f"P2 {statistics.median(claimed):.0f}",
    ]
    if redis_answers(REDIS_URL):
        print(f"queue latency on Redis ({REDIS_URL})", flush=True)
        env = {**os.environ, "BENCH_P2_ONLY": "1", "CELERY_BROKER_URL": REDIS_URL}
        out = subprocess.run(
            [sys.executable, "-m", "bench.lab_overhead"], cwd=REPO, env=env, check=True, capture_output=True, text=True
        ).stdout
        print(out, end="")
        lines += [line for line in out.splitlines() if line.startswith("P2_redis ")]
    else:
        print(f"  no Redis answers at {REDIS_URL}: P2 on Redis not measured")
    return lines


if __name__ == "__main__":
    for line in main():
        print(line)
