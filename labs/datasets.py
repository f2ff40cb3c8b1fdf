"""Dataset storage on the site side.

A dataset is split in two when it is published: the public ``.npz`` (features, training
and validation labels) is written to the ``datasets`` store (``core.storage``: this machine's
``DATASET_STORAGE_DIR``, or the object store) under its sha256, where lab workers fetch it by a
link that expires; the test labels go into the database and never leave the site.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from collections.abc import Iterator
from typing import IO, Any

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.db import transaction

from core.storage import download_url
from labs.models import Dataset, Lab
from workers.dataset_cache import lab_files
from workers.harness import FILES_PREFIX


def dataset_storage() -> Storage:
    return storages["datasets"]


@contextlib.contextmanager
def dataset_open(dataset: Dataset) -> Iterator[IO[bytes]]:
    """The dataset's public ``.npz``, open for reading (seekable: ``np.load`` and ``zipfile`` read it)."""
    with dataset_storage().open(dataset.file_name, "rb") as handle:
        yield handle


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


@transaction.atomic
def dataset_publish(
    *,
    lab: Lab,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    x_val: np.ndarray | None = None,
    y_val: np.ndarray | None = None,
    num_classes: int | None = None,
    meta: dict[str, Any] | None = None,
    files: dict[str, bytes] | None = None,
) -> Dataset:
    """Store a new version of ``lab``'s data (or reuse an identical one) and make it current.
    ``files``: the lab's [files] (name -> content), stored with the data as ``files/<name>`` byte
    arrays, so that a run's dataset version also fixes the files it ran with."""
    if len(x_test) != len(y_test):
        raise ValueError(f"x_test has {len(x_test)} rows but y_test has {len(y_test)}")
    public = {"x_train": x_train, "y_train": y_train, "x_test": x_test}
    if x_val is not None and y_val is not None:
        public |= {"x_val": x_val, "y_val": y_val}
    if num_classes is not None:
        public["num_classes"] = np.array(num_classes)
    public["meta_json"] = np.array(json.dumps(meta or {}))
    for name, payload in sorted((files or {}).items()):
        public[f"{FILES_PREFIX}{name}"] = np.frombuffer(payload, dtype=np.uint8)
    payload = npz_bytes(public)
    sha256 = hashlib.sha256(payload).hexdigest()
    _write_once(f"{sha256}.npz", payload)  # also where the row exists but its file was lost
    dataset = Dataset.objects.filter(sha256=sha256).first()
    if dataset is None:
        version = (lab.datasets.order_by("-version").values_list("version", flat=True).first() or 0) + 1
        dataset = Dataset.objects.create(
            lab=lab,
            version=version,
            sha256=sha256,
            file_name=f"{sha256}.npz",
            test_labels=_npy_bytes(np.asarray(y_test)),
            n_train=len(x_train),
            n_test=len(x_test),
            feature_shape=list(x_train.shape[1:]),
            num_classes=num_classes,
        )
    if lab.dataset_id != dataset.pk:
        lab.dataset = dataset
        lab.save(update_fields=["dataset", "updated_at"])
    return dataset


def _write_once(name: str, payload: bytes) -> None:
    # Named by content: an existing file is this payload (workers verify the hash anyway). A file
    # store writes to a temporary name and renames it; an object store's PUT is atomic.
    storage = dataset_storage()
    if storage.exists(name):
        return
    saved = storage.save(name, ContentFile(payload))
    if saved != name:  # two publishers raced on a file store: the other one's copy is the same bytes
        storage.delete(saved)


def dataset_url(dataset: Dataset) -> str:
    """Where a lab worker fetches the dataset: a file path on this machine, or a signed link that
    lives ``LAB_DATASET_URL_TTL`` seconds (a worker that finds it expired sends the run back)."""
    return download_url(dataset_storage(), dataset.file_name, expires_in=settings.LAB_DATASET_URL_TTL)


def dataset_arrays(dataset: Dataset) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Every split of a dataset as stored (the public file, and the test labels from the database),
    and its ``meta``."""
    with dataset_open(dataset) as handle, np.load(handle, allow_pickle=False) as public:
        arrays = {key: public[key] for key in public.files if key not in ("num_classes", "meta_json")}
        meta = json.loads(str(public["meta_json"])) if "meta_json" in public.files else {}
    arrays = {key: value for key, value in arrays.items() if not key.startswith(FILES_PREFIX)}
    arrays["y_test"] = dataset_test_labels(dataset)
    return arrays, meta


def dataset_meta(dataset: Dataset) -> dict[str, Any]:
    with dataset_open(dataset) as handle, np.load(handle, allow_pickle=False) as public:
        return json.loads(str(public["meta_json"])) if "meta_json" in public.files else {}


def dataset_files(dataset: Dataset) -> dict[str, bytes]:
    """The lab's [files] stored with this dataset version: name -> content."""
    with dataset_open(dataset) as handle:
        return lab_files(handle)


def dataset_test_labels(dataset: Dataset) -> np.ndarray:
    return np.load(io.BytesIO(bytes(dataset.test_labels)), allow_pickle=False)
