"""The CUDA path of the lab runner: digits-cnn's reference solution trains on the GPU inside
the sandbox. Skipped cleanly on machines without a CUDA device (CI has none)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine"),
]

REPO = Path(__file__).resolve().parents[2]


def test_digits_cnn_trains_on_cuda_through_the_runner(tmp_path: Path) -> None:
    from labs.demo import build_dataset
    from labs.scoring import score
    from workers.jobspec import DatasetRef, JobSpec, Limits
    from workers.runner import execute_job

    data = build_dataset("digits-cnn")
    path = tmp_path / "digits.npz"
    np.savez(
        path,
        x_train=data.x_train,
        y_train=data.y_train,
        x_val=data.x_val,
        y_val=data.y_val,
        x_test=data.x_test,
        num_classes=np.array(data.num_classes),
    )
    spec = JobSpec(
        run_id=1,
        token="gpu-test",
        code=(REPO / "labs/demo/digits-cnn/solution.py").read_text(),
        params={},
        seed=0,
        device="cuda",
        limits=Limits(wall_seconds=300, memory_mb=8192, processes=128, output_bytes=1_000_000, disk_mb=512),
        dataset=DatasetRef(sha256=hashlib.sha256(path.read_bytes()).hexdigest(), url=path.as_uri()),
    )
    result = execute_job(
        spec, on_progress=lambda events: None, should_cancel=lambda: False, cache_dir=tmp_path / "cache"
    )
    assert result.state == "succeeded", f"{result.reason}\n{result.log_tail}"
    assert result.device == "cuda"
    assert score("accuracy", data.y_test, np.array(result.predictions)) >= 0.97
