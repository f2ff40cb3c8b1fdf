"""The in-sandbox harness's pure parts, in-process: predictions, data, failure reasons."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import numpy as np
import pytest

from workers import harness
from workers.harness import PlatformError, PredictionError, describe_failure, load_data, to_predictions

torch = pytest.importorskip("torch")


@pytest.mark.parametrize(
    "raw",
    [
        torch.tensor([1, 0, 1]),
        torch.tensor([[1.0], [0.0], [1.0]]),
        torch.tensor([1.0, 0.0, 1.0], dtype=torch.bfloat16),
        torch.tensor([True, False, True]),
        np.array([1, 0, 1], dtype=np.int32),
        [1, 0, 1.0],
        (1, 0, 1),
    ],
)
def test_predictions_become_1d_float64(raw: object) -> None:
    predictions = to_predictions(raw, 3)
    assert predictions.dtype == np.float64 and predictions.tolist() == [1.0, 0.0, 1.0]


def test_rows_of_scores_and_strings_are_predictions_too() -> None:
    scores = to_predictions(torch.tensor([[0.1, 0.9], [0.8, 0.2]]), 2)
    assert scores.dtype == np.float64 and scores.shape == (2, 2)  # class scores: the site checks the metric
    assert to_predictions([torch.tensor([1, 2]), torch.tensor([3, 4])], 2).tolist() == [[1.0, 2.0], [3.0, 4.0]]
    texts = to_predictions(["579", "1002"], 2)
    assert texts.dtype.kind == "U" and texts.tolist() == ["579", "1002"]
    assert to_predictions(np.array(["a", "b"]), 2).tolist() == ["a", "b"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([0] * 100, "predict returned 100 predictions for 360 test rows"),
        (torch.zeros(360, 3, 2), r"shape \(360, 3, 2\); expected one prediction per test row \(a number, a row"),
        (torch.tensor(1.0), r"shape \(\)"),
        ("abc", "predict returned str; expected a 1-D tensor, array or list"),
        (["a"] * 359 + [1], "a mix of strings and other values"),
        (["a" * 1001] + ["b"] * 359, "a string of 1001 characters; at most 1000"),
        ([[0.0, 1.0]] * 359 + [[0.0]], "ragged"),
        ([float("nan")] + [0.0] * 359, "1 non-finite values"),
        (None, "predict returned NoneType"),
        (torch.zeros(360, dtype=torch.complex64), "complex numbers"),
    ],
)
def test_bad_predictions_are_explained(raw: object, message: str) -> None:
    with pytest.raises(PredictionError, match=message):
        to_predictions(raw, 360)


def test_failure_reasons() -> None:
    assert describe_failure(ValueError("bad\nsecond line")) == "error: ValueError: bad"
    assert describe_failure(KeyError("lr")) == "error: KeyError: 'lr'"
    assert describe_failure(RuntimeError()) == "error: RuntimeError"
    assert describe_failure(SystemExit(0)) == "error: SystemExit: 0"
    assert describe_failure(PredictionError("predict returned 1 predictions for 2 test rows")) == (
        "error: predict returned 1 predictions for 2 test rows"
    )
    assert describe_failure(MemoryError()) == "limit: memory"
    assert describe_failure(OSError(errno.EFBIG, "File too large")) == "limit: disk"
    assert describe_failure(PlatformError("no CUDA")) == "platform: no CUDA"
    assert len(describe_failure(ValueError("x" * 5000))) <= harness.MAX_REASON_CHARS


def test_load_data_builds_tensors_and_meta(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(
        path,
        x_train=np.zeros((4, 2), np.float64),
        y_train=np.array([0, 1, 1, 0], np.int32),
        x_test=np.ones((3, 2), np.uint8),
        y_val=np.array([0.5, 1.5], np.float64),
        x_val=np.zeros((2, 2)),
        num_classes=np.array(2),
        meta_json=np.array(json.dumps({"classes": ["a", "b"]})),
    )
    data, x_test = load_data(path)
    assert data.x_train.dtype == torch.float32 and data.y_train.dtype == torch.int64
    assert data.y_val.dtype == torch.float32  # regression targets stay real numbers
    assert x_test.dtype == torch.float32 and tuple(x_test.shape) == (3, 2)
    assert data.num_classes == 2 and data.meta == {"classes": ["a", "b"]}
    assert "x_train=(4, 2) float32" in repr(data)


def test_load_data_optional_parts_and_errors(tmp_path: Path) -> None:
    np.savez(tmp_path / "min.npz", x_train=np.zeros((2, 1)), y_train=np.zeros(2), x_test=np.zeros((1, 1)))
    data, _ = load_data(tmp_path / "min.npz")
    assert data.x_val is None and data.y_val is None and data.num_classes is None and data.meta == {}
    np.savez(tmp_path / "bad.npz", x_train=np.zeros((2, 1)))
    with pytest.raises(PlatformError, match="has no y_train, x_test"):
        load_data(tmp_path / "bad.npz")


def test_run_log_validates_and_time_left(capsys: pytest.CaptureFixture[str]) -> None:
    import time

    sent: list[dict] = []
    channel = harness.EventChannel(None)
    channel.emit = sent.append  # type: ignore[method-assign]
    run = harness.Training(device="cpu", params={}, seed=1, deadline=time.monotonic() + 5, channel=channel)
    run.log(1, loss=torch.tensor(0.25), acc=np.float32(0.5), bad=float("inf"))
    assert sent[0]["metrics"] == {"loss": 0.25, "acc": 0.5} and sent[0]["step"] == 1.0
    assert "dropped non-finite metric 'bad'" in capsys.readouterr().err
    with pytest.raises(TypeError, match="needs at least one metric"):
        run.log(2)
    with pytest.raises(TypeError, match="metric 'loss' must be a number"):
        run.log(2, loss="low")
    with pytest.raises(ValueError, match="step must be a finite number"):
        run.log(float("nan"), loss=1.0)
    assert 4 < run.time_left() <= 5


# --- the trained weights ---------------------------------------------------------------------


def _job_folder(tmp_path: Path) -> Path:
    (tmp_path / "out").mkdir()
    np.savez(tmp_path / harness.DATASET_FILE, x_train=np.zeros((1, 1)))  # save_weights skips it when measuring
    return tmp_path


def _save(job: Path, model: object, *, max_bytes: int = 10 * harness.MIB, **kwargs: float) -> None:
    options = {"disk_bytes": 64 * harness.MIB, "time_left": 60.0} | kwargs
    harness.save_weights(job, model, max_bytes=max_bytes, **options)


def test_the_trained_models_state_dict_is_kept_and_loads_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    job = _job_folder(tmp_path)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))
    model[0].weight.data.fill_(0.5)
    _save(job, model)
    state = torch.load(job / harness.WEIGHTS_PATH, weights_only=True)  # plain tensors: no pickled code
    again = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))
    again.load_state_dict(state)  # strict: every key of the model, nothing else
    assert torch.equal(again[0].weight, model[0].weight) and all(t.device.type == "cpu" for t in state.values())
    assert capsys.readouterr().err == ""
    assert not list((job / "out").glob("*partial*"))


def test_weights_over_the_labs_limit_are_not_kept_and_the_log_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    job = _job_folder(tmp_path)
    big = torch.nn.Linear(1024, 1024)  # 4 MB of float32
    _save(job, big, max_bytes=2 * harness.MIB)
    assert not (job / harness.WEIGHTS_PATH).exists()
    assert "[lab runner] weights not kept: 4.0 MB, over this lab's limit of 2 MB" in capsys.readouterr().err
    _save(job, big, max_bytes=8 * harness.MIB, disk_bytes=5 * harness.MIB)  # the run's disk limit counts too
    assert not (job / harness.WEIGHTS_PATH).exists()
    assert "of the run's disk limit" in capsys.readouterr().err
    _save(job, big, time_left=1.0)  # never at the cost of the time limit (the predictions are in already)
    assert "too little time" in capsys.readouterr().err and not (job / harness.WEIGHTS_PATH).exists()


def test_a_view_of_a_larger_tensor_is_saved_alone(tmp_path: Path) -> None:
    class Head(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("row", torch.zeros(2048, 1024)[0])  # 4 KB of an 8 MB storage

    job = _job_folder(tmp_path)
    _save(job, Head(), max_bytes=1 * harness.MIB)
    assert (job / harness.WEIGHTS_PATH).stat().st_size < 64 * 1024


def test_no_weights_where_none_are_wanted_or_there_are_none(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    job = _job_folder(tmp_path)
    (job / harness.WEIGHTS_PATH).write_bytes(b"planted by the learner's code")
    _save(job, torch.nn.Linear(2, 2), max_bytes=0)  # the lab keeps none, or the learner opted out
    assert not (job / harness.WEIGHTS_PATH).exists() and capsys.readouterr().err == ""
    _save(job, (1, 2))
    assert "train() returned tuple, which has no state_dict()" in capsys.readouterr().err

    class Broken(torch.nn.Module):
        def state_dict(self, *args: object, **kwargs: object) -> dict:
            raise SystemExit("nope")

    _save(job, Broken())  # whatever the learner's state_dict does, the run goes on
    assert "saving them failed: SystemExit: nope" in capsys.readouterr().err
    assert not (job / harness.WEIGHTS_PATH).exists()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_a_cuda_models_weights_are_kept_on_the_cpu(tmp_path: Path) -> None:
    job = _job_folder(tmp_path)
    model = torch.nn.Linear(8, 2).to("cuda")
    _save(job, model)
    state = torch.load(job / harness.WEIGHTS_PATH, weights_only=True)  # loads where there is no GPU
    assert all(tensor.device.type == "cpu" for tensor in state.values())
    assert torch.equal(state["weight"], model.weight.detach().cpu())
