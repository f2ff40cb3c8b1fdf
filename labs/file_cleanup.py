"""Stored files go with their rows. When a run is deleted — by itself, or with its submission or its
learner (a cascade sends ``post_delete`` for each run) — its files leave the ``default`` store: those
``Run.artifacts`` names and anything else in the run's folder (an earlier attempt's, a late upload's).
A submission's uploaded file goes with the submission.

The files are removed once the deletion is committed: a deletion rolled back keeps them. A file the
store cannot remove is logged and left behind, never raised: the rows are gone either way, and an
orphan file costs only space."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable
from functools import partial
from typing import Any

from django.core.files.storage import Storage
from django.db import transaction

from core.storage import is_local
from labs.artifacts import artifact_storage, run_folder
from labs.models import Run, Submission

logger = logging.getLogger(__name__)


def run_deleted(sender: type[Run], instance: Run, using: str, **kwargs: Any) -> None:
    """``post_delete`` of a run: its files go once the deletion is committed."""
    recorded = [item["name"] for item in instance.artifacts.values() if isinstance(item, dict) and item.get("name")]
    transaction.on_commit(partial(run_files_delete, run_id=instance.pk, recorded=recorded), using=using)


def submission_deleted(sender: type[Submission], instance: Submission, using: str, **kwargs: Any) -> None:
    """``post_delete`` of a submission: its uploaded file, if it has one, goes once the deletion is committed."""
    if instance.original_file:
        storage, name = instance.original_file.storage, instance.original_file.name
        transaction.on_commit(partial(files_delete, storage=storage, names=[name]), using=using)


def run_files_delete(*, run_id: int, recorded: Iterable[str] = ()) -> None:
    """Remove every file of run ``run_id`` from the store: ``recorded`` and whatever its folder holds."""
    storage = artifact_storage()
    folder = run_folder(run_id)
    found = _attempt_files(storage, folder)
    files_delete(storage=storage, names=dict.fromkeys([*recorded, *found]))
    if is_local(storage):  # an object store has no folders; a disk keeps empty ones
        _empty_folders_remove(storage, folder)


def files_delete(*, storage: Storage, names: Iterable[str]) -> None:
    """Remove ``names`` from ``storage``; one that cannot be removed is logged, never raised."""
    for name in names:
        try:
            storage.delete(name)
        except Exception:
            logger.exception("could not delete %s from the store; it stays behind", name)


def _attempt_files(storage: Storage, folder: str) -> list[str]:
    """The files in ``folder``'s attempt folders (``<folder>/<token>/<file>``); none if it cannot be listed."""
    try:
        attempts = storage.listdir(folder)[0]
        return [f"{folder}/{token}/{name}" for token in attempts for name in storage.listdir(f"{folder}/{token}")[1]]
    except FileNotFoundError:
        return []  # the run stored nothing
    except Exception:
        logger.exception("could not list %s in the store; files in it may stay behind", folder)
        return []


def _empty_folders_remove(storage: Storage, folder: str) -> None:
    root = storage.path(folder)
    if not os.path.isdir(root):
        return
    for entry in os.scandir(root):
        with contextlib.suppress(OSError):  # not empty: something arrived since, or was not removable
            os.rmdir(entry.path)
    with contextlib.suppress(OSError):
        os.rmdir(root)
