"""A run's files leave the worker without a key: the weights the harness kept and the whole log go to the
links of ``JobSpec.uploads`` (a ``file://`` path, or an HTTP PUT as to a pre-signed S3 link), and the
result says what was stored, with sizes and sha256. A file that cannot be stored never fails the run."""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import io
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.workers.conftest import make_spec, needs_bwrap
from workers import harness
from workers.events import AttemptResult
from workers.jobspec import DatasetRef, JobSpec, Uploads
from workers.runner import execute_job, store_artifacts
from workers.uploads import UploadError, upload

torch = pytest.importorskip("torch")

SIGNED = "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=900&X-Amz-Signature=deadbeefcafe"
DENIED = b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch</Code></Error>'

TRAINED = """
import torch

def train(data, run):
    print("training", flush=True)
    model = torch.nn.Linear(4, data.num_classes)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    for step in range(20):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(data.x_train), data.y_train).backward()
        optimizer.step()
        run.log(step, loss=0.1)
    print("done training", flush=True)
    return model

def predict(model, x):
    return model(x).argmax(dim=1)
"""


class _Store(http.server.BaseHTTPRequestHandler):
    """Takes PUTs as an S3-compatible store takes a pre-signed one; paths under /denied/ are refused."""

    received: dict[str, tuple[bytes, dict[str, str]]] = {}

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        path = urlsplit(self.path).path
        if path.startswith("/denied/"):
            self.send_response(403)
            self.send_header("Content-Length", str(len(DENIED)))
            self.end_headers()
            self.wfile.write(DENIED)
            return
        self.received[path] = (body, dict(self.headers))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def store() -> Iterator[tuple[str, dict[str, tuple[bytes, dict[str, str]]]]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Store)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", _Store.received
    server.shutdown()
    server.server_close()
    _Store.received.clear()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- upload: one file to one link ------------------------------------------------------------


def test_a_file_link_gets_the_whole_file_in_place(tmp_path: Path) -> None:
    target = tmp_path / "media" / "artifacts" / "runs" / "7" / "t0ken" / "log.txt"
    stored = upload(io.BytesIO(b"hello\n" * 1000), target.as_uri(), size=6000, content_type="text/plain")
    assert stored == {"size": 6000, "sha256": _sha256(b"hello\n" * 1000)}
    assert target.read_bytes() == b"hello\n" * 1000
    assert [p.name for p in target.parent.iterdir()] == ["log.txt"]  # no partial file left behind


def test_an_http_link_gets_one_put_with_its_length(store: tuple) -> None:
    base, received = store
    stored = upload(io.BytesIO(b"x" * 3_000_000), f"{base}/bucket/a/model.pt{SIGNED}", size=3_000_000,
                    content_type="application/octet-stream")  # fmt: skip
    body, headers = received["/bucket/a/model.pt"]
    assert body == b"x" * 3_000_000 and stored == {"size": 3_000_000, "sha256": _sha256(body)}
    assert headers["Content-Length"] == "3000000" and "Transfer-Encoding" not in headers  # S3 takes no chunks


def test_a_refused_upload_says_so_without_the_signature(store: tuple, tmp_path: Path) -> None:
    base, _ = store
    with pytest.raises(UploadError, match="HTTP 403") as refused:
        upload(io.BytesIO(b"x"), f"{base}/denied/model.pt{SIGNED}", size=1, content_type="text/plain")
    assert "Signature" not in str(refused.value) and "/denied/model.pt" in str(refused.value)
    with pytest.raises(UploadError, match="ended after 1 of 5 bytes"):
        upload(io.BytesIO(b"x"), (tmp_path / "short").as_uri(), size=5, content_type="text/plain")
    with pytest.raises(UploadError, match="cannot send"):
        upload(io.BytesIO(b"x"), "http://127.0.0.1:9/nothing-listens", size=1, content_type="text/plain")


# --- store_artifacts: what the supervisor sends after the run ---------------------------------


def _spec(dataset: DatasetRef, uploads: Uploads, code: str = TRAINED) -> JobSpec:
    return dataclasses.replace(make_spec(code, dataset), uploads=uploads)


def test_a_symlink_planted_as_the_weights_is_not_followed(tmp_path: Path, dataset: DatasetRef) -> None:
    job = tmp_path / "job"
    (job / "out").mkdir(parents=True)
    secret = tmp_path / "host-secret"
    secret.write_bytes(b"root's file")
    (job / harness.WEIGHTS_PATH).symlink_to(secret)
    uploads = Uploads(weights=(tmp_path / "w.pt").as_uri(), log=(tmp_path / "log.txt").as_uri(), weights_max_bytes=99)
    stored, log = store_artifacts(_spec(dataset, uploads), job, state="succeeded", log="the output\n")
    assert set(stored) == {"log"} and not (tmp_path / "w.pt").exists()
    assert log.startswith("the output\n[lab runner] the weights could not be stored: the model file cannot be read")
    assert (tmp_path / "log.txt").read_text() == log  # the stored log says why too


def test_only_a_run_that_succeeded_sends_weights(tmp_path: Path, dataset: DatasetRef) -> None:
    job = tmp_path / "job"
    (job / "out").mkdir(parents=True)
    (job / harness.WEIGHTS_PATH).write_bytes(b"weights")
    uploads = Uploads(weights=(tmp_path / "w.pt").as_uri(), log=(tmp_path / "log.txt").as_uri(), weights_max_bytes=99)
    stored, _ = store_artifacts(_spec(dataset, uploads), job, state="timed_out", log="slow\n")
    assert set(stored) == {"log"} and not (tmp_path / "w.pt").exists()


# --- whole runs in the sandbox ---------------------------------------------------------------


def _run(spec: JobSpec) -> AttemptResult:
    return execute_job(spec, on_progress=lambda _batch: None, should_cancel=lambda: False)


@needs_bwrap
def test_a_run_stores_its_weights_and_log_at_file_links(tmp_path: Path, dataset: DatasetRef) -> None:
    weights, log = tmp_path / "media" / "model.pt", tmp_path / "media" / "log.txt"
    uploads = Uploads(weights=weights.as_uri(), log=log.as_uri(), weights_max_bytes=1024 * 1024)
    result = _run(_spec(dataset, uploads))
    assert result.state == "succeeded", (result.reason, result.log_tail)
    assert result.artifacts == {
        "weights": {"size": weights.stat().st_size, "sha256": _sha256(weights.read_bytes())},
        "log": {"size": log.stat().st_size, "sha256": _sha256(log.read_bytes())},
    }
    state = torch.load(weights, weights_only=True)
    model = torch.nn.Linear(4, 2)
    model.load_state_dict(state)  # the learner's trained layer, loadable where torch is
    assert log.read_text() == result.log_tail and "training\ndone training\n" in log.read_text()


@needs_bwrap
def test_a_run_stores_its_files_by_http_put_and_a_refused_one_costs_only_that_file(
    store: tuple, dataset: DatasetRef
) -> None:
    base, received = store
    uploads = Uploads(weights=f"{base}/b/runs/1/t/model.pt{SIGNED}", log=f"{base}/b/runs/1/t/log.txt{SIGNED}",
                      weights_max_bytes=1024 * 1024)  # fmt: skip
    result = _run(_spec(dataset, uploads))
    assert result.state == "succeeded", (result.reason, result.log_tail)
    body, _ = received["/b/runs/1/t/model.pt"]
    assert result.artifacts["weights"] == {"size": len(body), "sha256": _sha256(body)}
    assert received["/b/runs/1/t/log.txt"][0] == result.log_tail.encode()

    refused = dataclasses.replace(uploads, weights=f"{base}/denied/model.pt{SIGNED}")
    result = _run(_spec(dataset, refused))
    assert result.state == "succeeded" and set(result.artifacts) == {"log"}  # the run stands without them
    assert "[lab runner] the weights could not be stored:" in result.log_tail and "HTTP 403" in result.log_tail
    assert "Signature" not in result.log_tail


@needs_bwrap
def test_weights_over_the_limit_are_not_stored_and_the_log_says_why(tmp_path: Path, dataset: DatasetRef) -> None:
    code = "import torch\n\ndef train(data, run):\n    model = torch.nn.Linear(4, 2)\n"
    code += "    model.register_buffer('table', torch.zeros(300_000))  # 1.1 MB\n    return model\n\n"
    code += "def predict(model, x):\n    return model(x).argmax(dim=1)\n"
    uploads = Uploads(weights=(tmp_path / "model.pt").as_uri(), log=(tmp_path / "log.txt").as_uri(),
                      weights_max_bytes=1024 * 1024)  # fmt: skip
    result = _run(_spec(dataset, uploads, code))
    assert result.state == "succeeded", (result.reason, result.log_tail)
    assert set(result.artifacts) == {"log"} and not (tmp_path / "model.pt").exists()
    assert "[lab runner] weights not kept: 1.1 MB, over this lab's limit of 1 MB" in result.log_tail


@needs_bwrap
def test_without_a_weights_link_the_harness_keeps_none(tmp_path: Path, dataset: DatasetRef) -> None:
    uploads = Uploads(weights="", log=(tmp_path / "log.txt").as_uri(), weights_max_bytes=0)  # opted out
    result = _run(_spec(dataset, uploads))
    assert result.state == "succeeded" and set(result.artifacts) == {"log"}
    assert "weights" not in result.log_tail
