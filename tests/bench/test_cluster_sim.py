"""``bench.cluster_sim`` end to end, small: one node, five runs, in the embedded mode (SQLite and a
broker of its own, in its own temporary folder), as ``python -m bench`` runs it. Nothing is timed:
every run must be scored and every figure printed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bench.__main__ import FIGURE
from tests.conftest import REPO

pytestmark = pytest.mark.worker

FIGURES = (
    "CLUSTER_runs_per_s_N1",
    "CLUSTER_site_worker_cpu_per_run_ms",
    "CLUSTER_db_cpu_per_run_ms",
    "CLUSTER_broker_cpu_per_run_ms",
    "CLUSTER_nodes_per_site_worker_5min",
    "CLUSTER_nodes_per_site_worker_30min",
)


def test_cluster_sim_scores_every_run_and_prints_its_figures_whatever_the_callers_broker() -> None:
    env = {
        **os.environ,
        # The caller's database and broker are not the benchmark's: these would fail if it used them.
        "DATABASE_URL": "postgres://nobody@unreachable.invalid:1/none",
        "CELERY_BROKER_URL": "redis://unreachable.invalid:1/0",
        "CELERY_RESULT_BACKEND": "redis://unreachable.invalid:1/0",
    }
    command = ["-m", "bench.cluster_sim", "--mode", "embedded", "--nodes", "1", "--runs", "5", "--heavy-batches", "4"]
    done = subprocess.run(
        [sys.executable, *command], cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout.splitlines()
    assert "  N=1, 2 progress batches per run: scored 5 of 5 runs" in out
    assert "  N=1, 4 progress batches per run: scored 5 of 5 runs" in out
    figures = dict(line.split() for line in out if FIGURE.match(line.strip()))
    assert set(FIGURES) <= set(figures), done.stdout
    assert out[-1] in {f"CLUSTER_saturates_first {part}" for part in ("site_worker", "database", "broker")}
    assert not FIGURE.match(out[-1])  # text, not a figure: `python -m bench` does not collect it
