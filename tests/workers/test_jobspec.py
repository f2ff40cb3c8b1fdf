"""JobSpec: JSON round trip and validation errors that name the field."""

from __future__ import annotations

import json

import pytest

from workers.jobspec import DatasetRef, JobSpec, JobSpecError, Limits, Uploads

SHA = "ab" * 32


def spec_dict(**changes: object) -> dict:
    data = {
        "run_id": 7,
        "token": "abc_DEF-123",
        "code": "def train(data, run): ...\ndef predict(model, x): ...\n",
        "params": {"lr": 0.01, "layers": [64, 32], "opts": {"momentum": None}},
        "seed": 42,
        "device": "cuda",
        "limits": {"wall_seconds": 600, "memory_mb": 4096, "processes": 64, "output_bytes": 65536, "disk_mb": 512},
        "dataset": {"sha256": SHA, "url": "file:///srv/datasets/mnist.npz"},
        "uploads": {
            "weights": "https://store.example/bucket/model.pt?X-Amz-Signature=ab",
            "log": "file:///srv/media/artifacts/runs/7/abc/log.txt",
            "weights_max_bytes": 50 * 1024 * 1024,
        },
    }
    data.update(changes)
    return data


def test_round_trip_through_json() -> None:
    spec = JobSpec.from_dict(spec_dict())
    again = JobSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec
    assert again.limits == Limits(600, 4096, 64, 65536, 512)
    assert again.dataset == DatasetRef(sha256=SHA, url="file:///srv/datasets/mnist.npz")
    assert again.to_dict() == spec_dict()


def test_unknown_keys_are_ignored_for_rolling_deploys() -> None:
    assert JobSpec.from_dict(spec_dict(priority="high")).run_id == 7


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"run_id": 0}, "run_id: must be between 1"),
        ({"run_id": True}, "run_id: must be an integer"),
        ({"token": "../../etc"}, "token:"),
        ({"token": ""}, "token:"),
        ({"code": 5}, "code: must be a string"),
        ({"params": []}, "params: must be a JSON object"),
        ({"params": {"lr": float("nan")}}, "params.lr: must be a finite number"),
        ({"params": {"x": (1, 2)}}, "params.x: tuple is not a JSON value"),
        ({"seed": -1}, "seed: must be between 0"),
        ({"seed": 2**32}, "seed: must be between 0"),
        ({"device": "tpu"}, "device: must be one of cpu, cuda"),
        ({"limits": {"wall_seconds": 10}}, "limits.memory_mb: missing"),
        ({"limits": "big"}, "limits: must be a JSON object"),
        ({"dataset": {"sha256": "XYZ", "url": "file:///a.npz"}}, "dataset.sha256: must be 64 lowercase hex"),
        (
            {"dataset": {"sha256": SHA, "url": "ftp://host/a.npz"}},
            "dataset.url: the scheme must be file, http or https",
        ),
        ({"dataset": {"sha256": SHA, "url": "file://relative/a.npz"}}, "dataset.url: a file URL must look like"),
        ({"dataset": {"sha256": SHA, "url": "https:///a.npz"}}, "dataset.url: no host"),
        ({"uploads": "s3://bucket"}, "uploads: must be a JSON object"),
        ({"uploads": {"weights": "", "log": ""}}, "uploads.weights_max_bytes: missing"),
        (
            {"uploads": {"weights": "s3://bucket/model.pt", "log": "", "weights_max_bytes": 1}},
            "uploads.weights: the scheme must be file, http or https",
        ),
        (
            {"uploads": {"weights": "", "log": "file://media/log.txt", "weights_max_bytes": 0}},
            "uploads.log: a file URL must look like file:///absolute/path",
        ),
        ({"uploads": {"weights": "", "log": None, "weights_max_bytes": 0}}, "uploads.log: must be a string"),
        (
            {"uploads": {"weights": "", "log": "", "weights_max_bytes": -1}},
            "uploads.weights_max_bytes: must be between",
        ),
    ],
)
def test_invalid_fields_are_named(changes: dict, message: str) -> None:
    with pytest.raises(JobSpecError, match=message.replace(".", r"\.").replace("(", r"\(")):
        JobSpec.from_dict(spec_dict(**changes))


def test_missing_field_is_named() -> None:
    data = spec_dict()
    del data["seed"]
    with pytest.raises(JobSpecError, match="seed: missing"):
        JobSpec.from_dict(data)


def test_limits_are_validated_on_direct_construction() -> None:
    with pytest.raises(JobSpecError, match=r"limits\.memory_mb: must be between 64"):
        Limits(wall_seconds=10, memory_mb=1, processes=4, output_bytes=4096, disk_mb=10)
    with pytest.raises(JobSpecError, match=r"limits\.wall_seconds: must be an integer"):
        Limits(wall_seconds=1.5, memory_mb=512, processes=4, output_bytes=4096, disk_mb=10)  # type: ignore[arg-type]


def test_a_message_without_uploads_uploads_nothing() -> None:
    """A site older than its workers sends no ``uploads``: the run keeps no files, and runs as before."""
    data = spec_dict()
    del data["uploads"]
    assert JobSpec.from_dict(data).uploads == Uploads(weights="", log="", weights_max_bytes=0)
