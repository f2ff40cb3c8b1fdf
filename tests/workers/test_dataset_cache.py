"""The content-addressed dataset cache."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import numpy as np
import pytest

from workers import dataset_cache
from workers.dataset_cache import DatasetError, count_test_rows, fetch_dataset, link_into
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
