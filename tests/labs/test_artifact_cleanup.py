"""A deleted run's files leave the store (``labs.file_cleanup``): with the run, its submission or its
learner, once the deletion is committed; a file that cannot be removed is logged, not raised."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import ProtectedError

from core.models import User
from labs import run_events, services
from labs.artifacts import artifact_name
from labs.models import Lab, Run
from tests.labs.conftest import VALID_CODE
from tests.labs.test_artifacts import _finished_with_files, _write

pytestmark = pytest.mark.django_db
Capture = Callable[..., object]  # pytest-django's django_capture_on_commit_callbacks


@pytest.fixture(autouse=True)
def media(settings: object, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"  # the default store, as in test_artifacts
    return settings.MEDIA_ROOT


def _files(media: Path) -> list[str]:
    return sorted(str(p.relative_to(media)) for p in media.rglob("*") if p.is_file())


def _run_files(media: Path, run: Run) -> list[str]:
    return [name for name in _files(media) if name.startswith(f"artifacts/runs/{run.pk}/")]


def _deleted(run: Run) -> Run:
    """The run with its id, for after a deletion (which clears ``pk``)."""
    return Run(pk=run.pk)


def test_deleting_a_run_removes_its_files_and_an_earlier_attempts_once_committed(
    lab: Lab, learner: User, media: Path, django_capture_on_commit_callbacks: Capture
) -> None:
    run = _finished_with_files(lab, learner)
    stale = media / artifact_name(run_id=run.pk, token="0" * 32, kind="log")  # an earlier attempt's upload
    _write(stale.as_uri(), b"attempt 1")
    kept = _finished_with_files(lab, learner)
    assert len(_run_files(media, run)) == 3
    gone = _deleted(run)
    with django_capture_on_commit_callbacks(execute=True):
        run.delete()
        assert len(_run_files(media, gone)) == 3  # not before the deletion is committed
    assert _run_files(media, gone) == [] and not (media / f"artifacts/runs/{gone.pk}").exists()
    assert len(_run_files(media, kept)) == 2  # another run's files stay


def test_a_deletion_rolled_back_keeps_the_files(
    lab: Lab, learner: User, media: Path, django_capture_on_commit_callbacks: Capture
) -> None:
    run = _finished_with_files(lab, learner)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():  # noqa: PT012
        Run.objects.get(pk=run.pk).delete()
        raise RuntimeError("changed my mind")
    assert Run.objects.filter(pk=run.pk).exists() and len(_run_files(media, run)) == 2


def test_deleting_a_submission_removes_its_runs_files_and_its_uploaded_file(
    lab: Lab, learner: User, media: Path, django_capture_on_commit_callbacks: Capture
) -> None:
    upload = SimpleUploadedFile("mine.py", VALID_CODE.encode())
    run = services.submission_create(learner=learner, lab=lab, source="web", upload=upload)
    uploaded = run.submission.original_file.name
    assert (media / uploaded).is_file()
    finished = _finished_with_files(lab, learner)
    gone = _deleted(finished)
    with django_capture_on_commit_callbacks(execute=True):
        run.submission.delete()
        finished.submission.delete()
    assert not (media / uploaded).exists() and _run_files(media, gone) == []


def test_deleting_a_learner_removes_the_files_of_all_their_runs(
    lab: Lab, learner: User, media: Path, django_capture_on_commit_callbacks: Capture
) -> None:
    runs = [_finished_with_files(lab, learner) for _ in range(2)]
    assert all(_run_files(media, run) for run in runs)
    with django_capture_on_commit_callbacks(execute=True):
        learner.delete()  # cascades to the submissions and their runs
    assert _files(media) == []


def test_a_lab_with_submissions_cannot_be_deleted_so_their_files_stay(
    lab: Lab, learner: User, media: Path, django_capture_on_commit_callbacks: Capture
) -> None:
    run = _finished_with_files(lab, learner)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ProtectedError):
        lab.delete()
    assert len(_run_files(media, run)) == 2


def test_a_file_the_store_cannot_remove_is_logged_and_the_rest_removed(
    lab: Lab,
    learner: User,
    media: Path,
    django_capture_on_commit_callbacks: Capture,
    caplog: pytest.LogCaptureFixture,
) -> None:
    run = _finished_with_files(lab, learner)
    log = media / run.artifacts["log"]["name"]
    log.unlink()
    (log / "in-the-way").mkdir(parents=True)  # a non-empty folder where the log was: the store cannot delete it
    with caplog.at_level(logging.ERROR, logger="labs.file_cleanup"), django_capture_on_commit_callbacks(execute=True):
        run.delete()
    assert not (media / run.artifacts["weights"]["name"]).exists()
    assert f"could not delete {run.artifacts['log']['name']}" in caplog.text
    assert not Run.objects.filter(pk=run.pk).exists()


def test_a_run_that_stored_nothing_is_deleted_quietly(
    lab: Lab, learner: User, django_capture_on_commit_callbacks: Capture, caplog: pytest.LogCaptureFixture
) -> None:
    run = services.submission_create(learner=learner, lab=lab, source="api", code=VALID_CODE)
    run_events.run_retry_or_fail(run_id=run.pk, token=run.token, why="worker lost")
    with caplog.at_level(logging.WARNING, logger="labs.file_cleanup"), django_capture_on_commit_callbacks(execute=True):
        run.delete()
    assert caplog.records == []
