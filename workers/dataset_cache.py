"""The worker's dataset cache: content-addressed ``.npz`` files, verified by SHA-256.

A lab's dataset is written by the site as an ``.npz`` (``np.savez``, readable with
``allow_pickle=False``) holding ``x_train``, ``y_train``, ``x_test`` and optionally ``x_val``,
``y_val``, a 0-d int ``num_classes`` and a 0-d str ``meta_json``. It never holds test labels.

``fetch_dataset`` puts it at ``<cache_dir>/<sha256>.npz``:
- the download goes to a temporary file in the cache folder and is hashed while it streams;
  a wrong hash deletes it and raises ``DatasetError``, so a bad file is never kept;
- the verified file is made read-only and renamed into place atomically;
- an exclusive ``flock`` per hash makes concurrent fetches (threads or worker processes on one
  host) download once; the others wait and then find the file;
- a cache hit is one ``stat``: nothing is copied or re-hashed (only verified files ever get
  the final name).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit, urlunsplit

import numpy as np

from workers.jobspec import DatasetRef

REPO_ROOT = Path(__file__).resolve().parent.parent
CHUNK = 1024 * 1024
REQUIRED_ARRAYS = ("x_train", "y_train", "x_test")
DOWNLOAD_TIMEOUT_S = 60


class DatasetError(RuntimeError):
    """The dataset could not be fetched, or is not what the job said it is."""


class DatasetLinkExpired(DatasetError):
    """The object store refused the job's signed link as expired: the run waited in the queue
    longer than the link lives. The site sends the run again with a new link (no attempt spent)."""


# The reason a worker reports for an expired link (the site recognises it by this start).
LINK_EXPIRED_REASON = "platform: dataset link expired"


def default_cache_dir() -> Path:
    return Path(os.environ.get("LAB_CACHE_DIR") or REPO_ROOT / "var" / "cache" / "datasets")


def fetch_dataset(ref: DatasetRef, cache_dir: Path | None = None) -> Path:
    """Return the path of the verified dataset in the cache, downloading it if needed."""
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = cache_dir / f"{ref.sha256}.npz"
    if target.is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with _locked(cache_dir / f".{ref.sha256}.lock"):
        if target.is_file():  # another fetch finished while we waited for the lock
            return target
        _download_verified(ref, cache_dir, target)
    return target


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    with open(lock_path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _download_verified(ref: DatasetRef, cache_dir: Path, target: Path) -> None:
    partial = cache_dir / f".{ref.sha256}.{os.getpid()}.part"
    try:
        digest = hashlib.sha256()
        with _open_source(ref.url) as source, open(partial, "wb") as sink:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                sink.write(chunk)
            sink.flush()
            os.fsync(sink.fileno())
        if digest.hexdigest() != ref.sha256:
            raise DatasetError(
                f"dataset checksum mismatch for {shown_url(ref.url)}: "
                f"expected sha256 {ref.sha256}, got {digest.hexdigest()}"
            )
        # Read-only for everyone: the file is hard-linked into job folders, and a sandboxed
        # learner (another uid) may read it but must never be able to change the cached copy.
        os.chmod(partial, 0o444)
        os.replace(partial, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()


def _open_source(url: str) -> BinaryIO:
    parts = urlsplit(url)
    shown = shown_url(url)
    try:
        if parts.scheme == "file":
            return open(unquote(parts.path), "rb")
        if parts.scheme in ("http", "https"):
            return urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S)  # noqa: S310 - scheme checked
    except urllib.error.HTTPError as exc:
        with exc:
            body = exc.read(4096).decode("utf-8", "replace")
        # S3, MinIO and their kin answer an expired pre-signed link 403 "Request has expired".
        if exc.code in (400, 403) and "expired" in body.lower():
            raise DatasetLinkExpired(f"the object store refused the link to {shown} as expired") from None
        raise DatasetError(f"cannot fetch dataset {shown}: HTTP {exc.code} {exc.reason}") from None
    except OSError as exc:
        raise DatasetError(f"cannot fetch dataset {shown}: {exc}") from exc
    raise DatasetError(f"unsupported dataset URL scheme {parts.scheme!r}")


def shown_url(url: str) -> str:
    """The URL without its query: a pre-signed link's signature never goes into a reason or a log."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def link_into(cached: Path, destination: Path) -> None:
    """Put the cached dataset into a job folder: a hard link when possible (no copy)."""
    try:
        os.link(cached, destination)
    except OSError:
        # Another filesystem (or links not allowed): copy, and keep it read-only too.
        shutil.copyfile(cached, destination)
        os.chmod(destination, 0o444)


def count_test_rows(path: Path) -> int:
    """How many rows ``x_test`` has, read from the ``.npy`` header only (no data loaded)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            missing = [name for name in REQUIRED_ARRAYS if f"{name}.npy" not in names]
            if missing:
                raise DatasetError(f"dataset {path.name} has no {', '.join(missing)}")
            with archive.open("x_test.npy") as member:
                version = np.lib.format.read_magic(member)
                read_header = (
                    np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                )
                shape, _, _ = read_header(member)
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise DatasetError(f"dataset {path.name} is not a readable .npz: {exc}") from exc
    if len(shape) < 1:
        raise DatasetError(f"dataset {path.name}: x_test must have one row per example")
    return int(shape[0])


def lab_files(path: Path | BinaryIO) -> dict[str, bytes]:
    """The lab's ``[files]`` stored in the dataset (``files/<name>`` arrays of bytes): name -> content."""
    prefix = "files/"
    found: dict[str, bytes] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if member.startswith(prefix) and member.endswith(".npy"):
                    with archive.open(member) as handle:
                        array = np.lib.format.read_array(handle, allow_pickle=False)
                    found[member[len(prefix) : -len(".npy")]] = array.tobytes()
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        name = Path(str(getattr(path, "name", ""))).name
        raise DatasetError(f"dataset {name} is not a readable .npz: {exc}") from exc
    return found
