"""The content-addressed dataset cache."""

from __future__ import annotations

import hashlib
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest

from workers import dataset_cache
from workers.dataset_cache import DatasetError, DatasetLinkExpired, count_test_rows, fetch_dataset, link_into
from workers.jobspec import DatasetRef


def write_npz(path: Path, rows: int = 12) -> DatasetRef:
    np.savez(path, x_train=np.zeros((5, 3), np.float32), y_train=np.zeros(5, np.int64), x_test=np.ones((rows, 3)))
    return DatasetRef(sha256=hashlib.sha256(path.read_bytes()).hexdigest(), url=path.as_uri())


def test_fetch_copies_verifies_and_hits_the_cache(tmp_path: Path) -> None:
    ref = write_npz(tmp_path / "source.npz")
    cache = tmp_path / "cache"
    cached = fetch_dataset(ref, cache)
    assert cached == cache / f"{ref.sha256}.npz"
    assert cached.read_bytes() == (tmp_path / "source.npz").read_bytes()
    assert cached.stat().st_mode & 0o777 == 0o444  # nobody may change a cached dataset
    first = cached.stat()
    (tmp_path / "source.npz").unlink()  # a hit must not even look at the source
    again = fetch_dataset(ref, cache)
    assert again == cached and again.stat().st_ino == first.st_ino and again.stat().st_mtime_ns == first.st_mtime_ns
    assert count_test_rows(cached) == 12
    assert [p.name for p in cache.iterdir() if not p.name.startswith(".")] == [cached.name]


def test_checksum_mismatch_is_an_error_and_nothing_is_kept(tmp_path: Path) -> None:
    ref = write_npz(tmp_path / "source.npz")
    wrong = DatasetRef(sha256="0" * 64, url=ref.url)
    with pytest.raises(DatasetError, match=f"checksum mismatch .* expected sha256 {'0' * 64}, got {ref.sha256}"):
        fetch_dataset(wrong, tmp_path / "cache")
    assert [p for p in (tmp_path / "cache").iterdir() if p.suffix in (".npz", ".part")] == []


def test_missing_source_is_a_dataset_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="cannot fetch dataset"):
        fetch_dataset(DatasetRef(sha256="1" * 64, url=(tmp_path / "nope.npz").as_uri()), tmp_path / "cache")


def test_concurrent_fetches_download_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ref = write_npz(tmp_path / "source.npz")
    downloads = []
    real = dataset_cache._download_verified

    def counting(*args: object) -> None:
        downloads.append(threading.get_ident())
        real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(dataset_cache, "_download_verified", counting)
    results: list[Path] = []
    threads = [threading.Thread(target=lambda: results.append(fetch_dataset(ref, tmp_path / "c"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(downloads) == 1
    assert len(set(results)) == 1 and results[0].is_file()


def test_cache_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAB_CACHE_DIR", str(tmp_path / "envcache"))
    ref = write_npz(tmp_path / "source.npz")
    assert fetch_dataset(ref).parent == tmp_path / "envcache"
    monkeypatch.delenv("LAB_CACHE_DIR")
    assert dataset_cache.default_cache_dir() == dataset_cache.REPO_ROOT / "var" / "cache" / "datasets"


def test_link_into_a_job_folder_shares_the_inode(tmp_path: Path) -> None:
    cached = fetch_dataset(write_npz(tmp_path / "source.npz"), tmp_path / "cache")
    (tmp_path / "job").mkdir()
    link_into(cached, tmp_path / "job" / "dataset.npz")
    assert os.stat(tmp_path / "job" / "dataset.npz").st_ino == cached.stat().st_ino


def test_count_test_rows_rejects_incomplete_datasets(tmp_path: Path) -> None:
    np.savez(tmp_path / "bad.npz", x_train=np.zeros(3))
    with pytest.raises(DatasetError, match="has no y_train, x_test"):
        count_test_rows(tmp_path / "bad.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(DatasetError, match=r"not a readable \.npz"):
        count_test_rows(tmp_path / "junk.npz")


class _ObjectStore(http.server.BaseHTTPRequestHandler):
    """Answers every GET as an S3-compatible store answers a pre-signed link: the file, or a 403."""

    answers: dict[str, tuple[int, bytes]] = {}

    def do_GET(self) -> None:
        status, body = self.answers[urlsplit(self.path).path]
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def object_store() -> Iterator[tuple[str, dict[str, tuple[int, bytes]]]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ObjectStore)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", _ObjectStore.answers
    server.shutdown()
    server.server_close()
    _ObjectStore.answers.clear()


# What AWS S3 and MinIO answer for a pre-signed link past its X-Amz-Expires (moto does not check).
EXPIRED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
    b"<Message>Request has expired</Message><X-Amz-Expires>60</X-Amz-Expires></Error>"
)
DENIED = b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch</Code></Error>'
QUERY = "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=60&X-Amz-Signature=deadbeefcafe"


def test_an_http_link_is_fetched_and_verified(tmp_path: Path, object_store: tuple) -> None:
    base, answers = object_store
    ref = write_npz(tmp_path / "source.npz")
    answers["/bucket/datasets/a.npz"] = (200, (tmp_path / "source.npz").read_bytes())
    cached = fetch_dataset(DatasetRef(ref.sha256, f"{base}/bucket/datasets/a.npz{QUERY}"), tmp_path / "cache")
    assert cached.read_bytes() == (tmp_path / "source.npz").read_bytes()
    with pytest.raises(DatasetError, match="checksum mismatch") as mismatch:
        fetch_dataset(DatasetRef("1" * 64, f"{base}/bucket/datasets/a.npz{QUERY}"), tmp_path / "cache")
    assert "Signature" not in str(mismatch.value) and "/bucket/datasets/a.npz" in str(mismatch.value)


def test_an_expired_link_is_told_apart_from_a_refused_one(tmp_path: Path, object_store: tuple) -> None:
    base, answers = object_store
    answers["/old.npz"] = (403, EXPIRED)
    answers["/forged.npz"] = (403, DENIED)
    with pytest.raises(DatasetLinkExpired) as expired:
        fetch_dataset(DatasetRef("2" * 64, f"{base}/old.npz{QUERY}"), tmp_path / "cache")
    assert "Signature" not in str(expired.value)  # a signed link never goes into a reason
    with pytest.raises(DatasetError, match="HTTP 403") as refused:
        fetch_dataset(DatasetRef("3" * 64, f"{base}/forged.npz{QUERY}"), tmp_path / "cache")
    assert not isinstance(refused.value, DatasetLinkExpired) and "Signature" not in str(refused.value)
    assert not [p for p in (tmp_path / "cache").iterdir() if not p.name.startswith(".")]
