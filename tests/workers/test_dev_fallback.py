"""Backend choice, and the development fallback (no isolation) running a real job."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.workers.conftest import TEST_ROWS, Execution
from workers import warm
from workers.sandbox import DEV_NAME, SandboxUnavailable, select_backend


def test_forced_bwrap_that_cannot_work_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAB_SANDBOX", "bwrap")
    monkeypatch.setenv("LAB_BWRAP", "/nonexistent/bwrap")
    with pytest.raises(SandboxUnavailable, match="LAB_SANDBOX=bwrap, but the bwrap sandbox cannot run here"):
        select_backend()


def test_unknown_backend_name_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAB_SANDBOX", "docker")
    with pytest.raises(SandboxUnavailable, match="LAB_SANDBOX must be bwrap or dev"):
        select_backend()


def test_auto_falls_back_to_dev_without_bwrap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAB_SANDBOX", raising=False)
    monkeypatch.setenv("LAB_BWRAP", "/nonexistent/bwrap")
    assert select_backend().name == DEV_NAME


DEV_CODE = """
import os, torch

def train(data, run):
    print("cwd", os.path.basename(os.getcwd()))
    run.log(0, loss=0.5)
    model = torch.nn.Linear(4, 2)
    torch.optim.SGD(model.parameters(), lr=run.params["lr"]).zero_grad()
    return model

def predict(model, x):
    return model(x).argmax(1).numpy()
"""


def test_dev_fallback_runs_a_job_on_a_warm_process(
    run_lab: Callable[..., Execution], lab_dirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAB_SANDBOX", "dev")
    backend = select_backend()
    pool = warm.WarmPool(1, backend=backend, jobs_dir=lab_dirs["jobs"]).start()
    monkeypatch.setattr(warm, "get_default_pool", lambda _backend: pool)
    try:
        assert pool.wait_settled(60, ready=True)
        outcome = run_lab(DEV_CODE)
    finally:
        pool.close()
    result = outcome.result
    assert result.state == "succeeded", result.log_tail
    assert result.sandbox == "dev-fallback (no isolation)"  # the site shows a warning for this
    assert result.warm_start  # the warm process learned its renamed job folder from "go"
    assert len(result.predictions) == TEST_ROWS
    assert [event["metrics"] for event in outcome.metrics] == [{"loss": 0.5}]
    # The renamed folder (warm- -> job-), named without the run id or token.
    assert result.log_tail.startswith("cwd ") and "job-" in result.log_tail and "t0ken" not in result.log_tail
