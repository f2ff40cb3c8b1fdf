"""Where files live: Django's storage API, the local disk in the embedded default and an
S3-compatible object store (MinIO, AWS S3, …) in server and cluster modes (settings ``STORAGES``).

Two stores: ``default`` (learners' uploads, background jobs' inputs and results, under ``media/``
in the bucket: also the files of runs, ``labs.artifacts``) and ``datasets`` (each lab's public data
file, named by its sha256, under ``datasets/``). No volume is shared between nodes: lab workers never
hold the store's keys, they fetch a dataset by a link that expires (``download_url``) and check its
sha256, and send a run's files to a link that expires (``upload_url``).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage
from storages.utils import clean_name


class DatasetFileSystemStorage(FileSystemStorage):
    """The embedded default's dataset store: ``DATASET_STORAGE_DIR``, read at each use (tests and
    benchmarks point it elsewhere), never served over HTTP."""

    @property
    def base_location(self) -> str:  # type: ignore[override]
        return str(self._value_or_setting(self._location, settings.DATASET_STORAGE_DIR))

    @property
    def location(self) -> str:  # type: ignore[override]
        return os.path.abspath(self.base_location)

    def _save(self, name: str, content: Any) -> str:
        # Whole or not at all: a crash mid-write leaves nothing under the dataset's name (its sha256).
        full_path = self.path(name)
        os.makedirs(os.path.dirname(full_path), exist_ok=True)
        partial = f"{full_path}.{os.getpid()}.part"
        try:
            with open(partial, "wb") as out:
                for chunk in content.chunks():
                    out.write(chunk)
            os.replace(partial, full_path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(partial)
        return name

    def url(self, name: str | None) -> str:
        raise ValueError("datasets are not served over HTTP: lab workers on this machine read the file")


def is_local(storage: Storage) -> bool:
    """Whether ``storage`` keeps its files on this machine's disk (the embedded default)."""
    return isinstance(storage, FileSystemStorage)


def download_url(storage: Storage, name: str, *, expires_in: int) -> str:
    """A link another process can fetch ``name`` by: ``file://`` on this machine's disk (the lab
    workers run here), otherwise the object store's pre-signed GET that lives ``expires_in`` seconds."""
    if is_local(storage):
        return Path(storage.path(name)).as_uri()
    return storage.url(name, expire=expires_in)


def upload_url(storage: Storage, name: str, *, expires_in: int) -> str:
    """A link another process can write ``name`` by, without a key: ``file://`` on this machine's disk
    (the lab workers run here and write the file themselves), otherwise the object store's pre-signed
    PUT of that one key, which lives ``expires_in`` seconds (SigV4 allows at most 7 days)."""
    if is_local(storage):
        return Path(storage.path(name)).as_uri()
    key = storage._normalize_name(clean_name(name))  # the name under the store's prefix (``media/…``)
    return storage.connection.meta.client.generate_presigned_url(
        "put_object", Params={"Bucket": storage.bucket_name, "Key": key}, ExpiresIn=expires_in, HttpMethod="PUT"
    )
