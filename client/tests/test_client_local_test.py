"""``academy test``: the platform's harness in a process of its own, scored by the platform's scoring."""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import FakePlatform

from academy_client import local_test
from academy_client.cli import _lab_for_test, main
from academy_client.errors import Rejected, UsageError

pytest.importorskip("torch")  # academy test runs learner code with torch, as the platform does

REGRESSION = {
    "slug": "tiny-reg",
    "metric": "r2",
    "higher_is_better": True,
    "threshold": 0.9,
    "device_class": "cpu",
    "wall_seconds": 60,
    "params": {"epochs": {"type": "int", "default": 3, "min": 1, "max": 10}},
}
CLASSES = {**REGRESSION, "slug": "tiny-cls", "metric": "accuracy", "threshold": 0.9, "params": {}}
LEAST_SQUARES = """
import torch

def train(data, run):
    assert run.params["epochs"] == 7, run.params
    x = torch.cat([data.x_train, torch.ones(len(data.x_train), 1)], dim=1)
    w = torch.linalg.lstsq(x, data.y_train.unsqueeze(1)).solution
    for epoch in range(run.params["epochs"]):
        run.log(epoch, loss=1.0 / (epoch + 1))
    print("trained on", data)
    return w

def predict(model, x):
    return (torch.cat([x, torch.ones(len(x), 1)], dim=1) @ model).squeeze(1)
"""


def npz(path: Path, **arrays: Any) -> Path:
    np.savez(path, meta_json=np.array(json.dumps({"feature_names": ["a", "b"]})), **arrays)
    return path


@pytest.fixture
def regression_data(tmp_path: Path) -> Path:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(120, 2)).astype(np.float32)
    y = (x @ np.array([3.0, -2.0]) + 1 + rng.normal(scale=0.05, size=120)).astype(np.float32)
    return npz(tmp_path / "data.npz", x_train=x[:80], y_train=y[:80], x_val=x[80:100], y_val=y[80:100], x_test=x[100:])


@pytest.fixture
def classes_without_validation(tmp_path: Path) -> Path:
    x = np.arange(100, dtype=np.float32).reshape(50, 2)
    payload = np.frombuffer(b"LABEL = 1\n", dtype=np.uint8)
    return npz(
        tmp_path / "cls.npz",
        x_train=x,
        y_train=np.ones(50, dtype=np.int64),
        x_test=x[:5],
        num_classes=np.array(2),
        **{"files/helper.py": payload},
    )


def academy_test(platform: FakePlatform, lab: dict[str, Any], file: Path, data: Path, *extra: str) -> int:
    platform.json("GET", f"/api/v1/labs/{lab['slug']}/", 200, lab)
    return main(["test", lab["slug"], str(file), "--data", str(data), "--seed", "3", "--json", *extra])


def last_json(capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, Any], str]:
    out, err = capsys.readouterr()
    return json.loads(out.strip().splitlines()[-1]), err


def test_a_good_solution_passes_on_the_validation_split(
    signed_in: FakePlatform, regression_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    solution = tmp_path / "solution.py"
    solution.write_text(LEAST_SQUARES)
    assert academy_test(signed_in, REGRESSION, solution, regression_data, "--param", "epochs=7") == 0
    result, err = last_json(capsys)
    assert result["state"] == "succeeded" and result["passed"] is True
    assert result["split"] == "validation" and result["rows"] == 20 and result["score"] > 0.99
    assert "step 6: loss=0.1429" in err  # run.log, streamed live through the harness's events
    assert "trained on LabData(x_train=(80, 2) float32" in err  # the learner's own output, and the same `data`


def test_predictions_of_the_wrong_length_fail_with_the_platforms_message(
    signed_in: FakePlatform, regression_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    solution = tmp_path / "short.py"
    solution.write_text("def train(data, run):\n    return None\n\ndef predict(model, x):\n    return x[:5, 0]\n")
    assert academy_test(signed_in, REGRESSION, solution, regression_data) == 1
    result, _ = last_json(capsys)
    assert (result["state"], result["reason"]) == ("failed", "error: predict returned 5 predictions for 20 test rows")


def test_an_exception_shows_the_learners_own_file_and_line(
    signed_in: FakePlatform, regression_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    solution = tmp_path / "boom.py"
    solution.write_text(
        "def train(data, run):\n    raise ValueError('bad shapes')\n\ndef predict(model, x):\n    pass\n"
    )
    assert academy_test(signed_in, REGRESSION, solution, regression_data) == 1
    result, err = last_json(capsys)
    assert result["reason"] == "error: ValueError: bad shapes"
    assert f'File "{solution}", line 2, in train' in err
    assert "harness.py" not in err  # the platform's frames are left out, as on the platform


def test_a_notebook_without_a_validation_split_is_scored_on_held_out_training_rows(
    signed_in: FakePlatform, classes_without_validation: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cells = [
        "%load_ext autoreload",
        "import torch\nimport helper  # the lab's [files], on sys.path as on the platform",
        "def train(data, run):\n    assert data.x_val is None and len(data.x_train) == 40\n    return helper.LABEL",
        "def predict(model, x):\n    return torch.full((len(x),), model)",
    ]
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "metadata": {}, "source": cell, "outputs": [], "execution_count": None} for cell in cells
    ]}  # fmt: skip
    path = tmp_path / "work.ipynb"
    path.write_text(json.dumps(notebook))
    assert academy_test(signed_in, CLASSES, path, classes_without_validation) == 0
    result, err = last_json(capsys)
    assert (result["split"], result["rows"], result["score"]) == ("holdout", 10, 1.0)
    assert "dropped IPython magic `%load_ext autoreload` (the platform drops it too)" in err
    assert "holding out 10 rows of the training data" in err


def test_the_time_limit_stops_the_run(
    signed_in: FakePlatform, regression_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    solution = tmp_path / "slow.py"
    solution.write_text(
        "import time\n\ndef train(data, run):\n    time.sleep(60)\n\ndef predict(model, x):\n    pass\n"
    )
    assert academy_test(signed_in, REGRESSION, solution, regression_data, "--time-limit", "1") == 1
    result, _ = last_json(capsys)
    assert (result["state"], result["reason"]) == ("timed_out", "limit: time")


def test_what_the_platform_would_refuse_exits_2_without_running(
    signed_in: FakePlatform, regression_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    solution = tmp_path / "half.py"
    solution.write_text("def train(data, run):\n    return 1\n")
    assert academy_test(signed_in, REGRESSION, solution, regression_data) == 2
    assert "no top-level function `predict`" in capsys.readouterr().err


def test_a_missing_torch_is_said_clearly(
    signed_in: FakePlatform, regression_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    solution = tmp_path / "solution.py"
    solution.write_text(LEAST_SQUARES)
    assert academy_test(signed_in, REGRESSION, solution, regression_data) == 3
    assert "academy test runs your code with PyTorch, which is not installed" in capsys.readouterr().err


def test_the_pulled_lab_is_used_when_the_platform_is_unreachable(
    config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ACADEMY_TOKEN", "t")
    (tmp_path / "lab.json").write_text(json.dumps(REGRESSION))
    args = argparse.Namespace(url="http://127.0.0.1:9", lab="tiny-reg")
    assert _lab_for_test(args, tmp_path) == REGRESSION
    assert "connection refused (is the platform running there?); using" in capsys.readouterr().err
    with pytest.raises(UsageError, match="no platform address"):  # nothing pulled: the platform's answer is needed
        _lab_for_test(argparse.Namespace(url=None, lab="tiny-reg"), tmp_path / "elsewhere")


def test_params_are_checked_against_the_labs_bounds() -> None:
    spec = REGRESSION["params"]
    assert local_test.params_resolve(spec, {}) == {"epochs": 3}
    with pytest.raises(Rejected) as caught:
        local_test.params_resolve(spec, {"epochs": 11, "lr": 0.1})
    assert caught.value.errors == ["Unknown parameter “lr”.", "Parameter “epochs” must be between 1 and 10."]
    with pytest.raises(Rejected, match="must be a int"):
        local_test.params_resolve(spec, {"epochs": 2.5})


def test_held_out_rows_are_the_same_every_time(classes_without_validation: Path) -> None:
    first, second = local_test.data_load(classes_without_validation), local_test.data_load(classes_without_validation)
    assert np.array_equal(first.arrays["x_test"], second.arrays["x_test"])
    assert len(first.arrays["x_train"]) + len(first.arrays["x_test"]) == 50
    assert first.files == {"helper.py": b"LABEL = 1\n"}
