"""In the object store too, a deleted run's files and a deleted submission's upload leave the bucket
(``labs.file_cleanup``): an object store lists by prefix, not by folder."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from core.models import User
from labs import services
from labs.artifacts import artifact_name, artifact_storage
from labs.models import Lab, Run
from tests.labs.conftest import VALID_CODE, lab  # noqa: F401 - the fixture is used by the test here
from tests.storage.conftest import bucket_keys


@pytest.mark.django_db
def test_deleting_a_submission_removes_its_upload_and_its_runs_files_from_the_bucket(
    s3_bucket: str,
    s3_client: object,
    learner: User,
    lab: Lab,  # noqa: F811 - the fixture
    django_capture_on_commit_callbacks: Callable[..., object],
) -> None:
    upload = SimpleUploadedFile("mine.py", VALID_CODE.encode())
    run = services.submission_create(learner=learner, lab=lab, source="web", upload=upload)
    storage = artifact_storage()
    names = [artifact_name(run_id=run.pk, token=token, kind="log") for token in (run.token, "0" * 32)]
    for name in names:  # this attempt's log, recorded, and an earlier attempt's
        storage.save(name, ContentFile(b"epoch 1\n"))
    Run.objects.filter(pk=run.pk).update(artifacts={"log": {"name": names[0], "size": 8, "sha256": "a" * 64}})
    other = services.submission_create(learner=learner, lab=lab, source="api", code=VALID_CODE)
    storage.save(artifact_name(run_id=other.pk, token=other.token, kind="log"), ContentFile(b"kept"))
    uploaded = f"media/{run.submission.original_file.name}"
    gone = {f"media/{name}" for name in names} | {uploaded}
    before = bucket_keys(s3_client, s3_bucket)
    assert gone <= set(before)

    with django_capture_on_commit_callbacks(execute=True):
        run.submission.delete()
    after = bucket_keys(s3_client, s3_bucket)
    assert after == [key for key in before if key not in gone]
    assert f"media/artifacts/runs/{other.pk}/{other.token}/log.txt" in after  # another run's file stays
