"""Lab runner start-up: a fresh sandbox per job vs a pre-started warm one (``workers.warm``).

Runs the same tiny torch job (a 4-16-2 MLP, Adam, 20 steps) through ``workers.runner.execute_job``
N times with ``LAB_WARM_POOL=0`` (a fresh sandboxed process imports torch for every job) and N
times with a warm pool (the job lands in a sandbox whose torch is already imported). For each
run it records:

- ``train start``: from the ``execute_job`` call to the arrival of the learner's first
  ``run.log`` (the first line of ``train``), i.e. everything a learner waits for before their
  code runs: dataset link, sandbox start (or hand-over), torch import, data loading;
- ``total``: ``JobResult.duration_s``.

Before each warm run the pool is allowed to refill (a worker that is not saturated always has a
ready member); a saturated worker degrades towards the fresh figures, never below them.
Nothing is asserted: a table, then one ``<ID> <value>`` line per figure.

    .venv/bin/python -m bench.runner_startup [--runs 3]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CODE = """
import torch

def train(data, run):
    run.log(0, started=1.0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for step in range(20):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(data.x_train), data.y_train)
        loss.backward()
        optimizer.step()
    run.log(20, loss=loss)
    return model

def predict(model, x):
    return model(x).argmax(dim=1)
"""


def make_dataset(folder: Path):
    from workers.jobspec import DatasetRef

    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    path = folder / "bench.npz"
    np.savez(path, x_train=x[:400], y_train=y[:400], x_test=x[400:], num_classes=np.array(2))
    return DatasetRef(sha256=hashlib.sha256(path.read_bytes()).hexdigest(), url=path.as_uri())


def one_run(dataset, run_id: int) -> tuple[float, float, bool]:
    from workers.jobspec import JobSpec, Limits
    from workers.runner import execute_job

    spec = JobSpec(
        run_id=run_id,
        token="bench",  # noqa: S106 - a run claim token, not a secret
        code=CODE,
        params={},
        seed=0,
        device="cpu",
        limits=Limits(wall_seconds=60, memory_mb=2048, processes=64, output_bytes=65536, disk_mb=64),
        dataset=dataset,
    )
    started = time.monotonic()
    first_metric: list[float] = []

    def on_progress(batch: list[dict]) -> None:
        if not first_metric and any(event["kind"] == "metrics" for event in batch):
            first_metric.append(time.monotonic() - started)

    result = execute_job(spec, on_progress=on_progress, should_cancel=lambda: False)
    if result.state != "succeeded":
        raise RuntimeError(f"bench job failed: {result.reason}\n{result.log_tail}")
    return first_metric[0], result.duration_s, result.warm_start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-runner-") as tmp:
        folder = Path(tmp)
        os.environ.update(
            LAB_JOBS_DIR=str(folder / "jobs"),
            LAB_CACHE_DIR=str(folder / "cache"),
            LAB_WORKER_SLOT=os.environ.get("LAB_BENCH_SLOT", "14"),
        )
        from workers import warm
        from workers.sandbox import select_backend

        backend = select_backend()
        dataset = make_dataset(folder)
        figures: dict[str, list[tuple[float, float, bool]]] = {"fresh": [], "warm": []}

        os.environ["LAB_WARM_POOL"] = "0"
        for index in range(args.runs):
            figures["fresh"].append(one_run(dataset, 1 + index))

        os.environ["LAB_WARM_POOL"] = "1"
        pool = warm.get_default_pool(backend)
        try:
            for index in range(args.runs):
                pool.wait_settled(120, ready=True)
                figures["warm"].append(one_run(dataset, 100 + index))
        finally:
            warm.shutdown_default_pool()

    print(f"lab runner start-up, sandbox backend: {backend.name}, {args.runs} runs each (seconds, median)")
    print(f"{'mode':<8}{'train start':>14}{'total':>10}  per run (train start)")
    medians = {}
    for mode, runs in figures.items():
        start = statistics.median(r[0] for r in runs)
        total = statistics.median(r[1] for r in runs)
        medians[mode] = (start, total)
        detail = ", ".join(f"{r[0]:.3f}{'' if r[2] == (mode == 'warm') else ' (!)'}" for r in runs)
        print(f"{mode:<8}{start:>14.3f}{total:>10.3f}  {detail}")
    ratio_start = medians["fresh"][0] / medians["warm"][0]
    ratio_total = medians["fresh"][1] / medians["warm"][1]
    print(f"fresh / warm: train start x{ratio_start:.0f}, total x{ratio_total:.1f}")
    print(f"runner_fresh_train_start_s {medians['fresh'][0]:.3f}")
    print(f"runner_warm_train_start_s {medians['warm'][0]:.3f}")
    print(f"runner_fresh_total_s {medians['fresh'][1]:.3f}")
    print(f"runner_warm_total_s {medians['warm'][1]:.3f}")
    print(f"runner_train_start_ratio {ratio_start:.1f}")
    print(f"runner_total_ratio {ratio_total:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
