"""Server and cluster modes keep every file in an S3-compatible object store (moto's server here,
MinIO in compose and Kubernetes): datasets, uploads, job inputs and results. Lab workers hold no
key: they fetch a dataset by a link that expires and check its sha256."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cohorts.background import job_input_text, job_result_text
from cohorts.models import Job, JobState
from cohorts.roster import job_roster_import_create, roster_import_run
from config import worker_processes
from core.models import User
from labs import services
from labs.datasets import dataset_arrays, dataset_files, dataset_meta, dataset_url
from labs.demo_seed import demo_lab_seed
from labs.dispatch import job_spec
from labs.models import RunState
from labs.preview import data_preview
from tests.labs.test_pipeline import wait_until_final
from tests.storage.conftest import bucket_keys
from workers import control
from workers.dataset_cache import DatasetError, fetch_dataset
from workers.jobspec import DatasetRef

CODE = "def train(data, run):\n    return None\n\ndef predict(model, x):\n    return x[:, 0]\n"


@pytest.mark.django_db
def test_a_published_dataset_lives_in_the_bucket_and_reads_back(s3_bucket: str, s3_client: object) -> None:
    lab = demo_lab_seed("linear-regression")
    dataset = lab.dataset
    assert bucket_keys(s3_client, s3_bucket) == [f"datasets/{dataset.sha256}.npz"]
    stored = s3_client.get_object(Bucket=s3_bucket, Key=f"datasets/{dataset.sha256}.npz")["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == dataset.sha256  # named by its content
    arrays, meta = dataset_arrays(dataset)
    assert len(arrays["x_train"]) == dataset.n_train and len(arrays["y_test"]) == dataset.n_test
    assert "y_test.npy" not in stored.decode("latin-1")  # the hidden labels stay in the database
    assert meta == dataset_meta(dataset) and isinstance(dataset_files(dataset), dict)
    assert data_preview(dataset) is not None  # the lab page's data preview reads it from the store

    again = demo_lab_seed("linear-regression")  # the same bytes: the same object, written once
    assert again.dataset_id == dataset.pk and bucket_keys(s3_client, s3_bucket) == [f"datasets/{dataset.sha256}.npz"]


@pytest.mark.django_db
def test_a_lab_worker_gets_a_signed_link_that_expires_and_checks_the_sha256(
    s3_bucket: str, s3_endpoint: str, tmp_path: Path, settings: object
) -> None:
    settings.LAB_DATASET_URL_TTL = 900
    dataset = demo_lab_seed("linear-regression").dataset
    url = dataset_url(dataset)
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert f"{parts.scheme}://{parts.netloc}" == s3_endpoint
    assert parts.path == f"/{s3_bucket}/datasets/{dataset.sha256}.npz"
    assert query["X-Amz-Expires"] == ["900"] and query["X-Amz-Signature"] and query["X-Amz-Credential"]

    # The worker's own code, with no key of its own: the link is enough, and the bytes are checked.
    cached = fetch_dataset(DatasetRef(sha256=dataset.sha256, url=url), tmp_path / "cache")
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == dataset.sha256
    with pytest.raises(DatasetError, match="checksum mismatch") as wrong:
        fetch_dataset(DatasetRef(sha256="0" * 64, url=url), tmp_path / "other-cache")
    assert "X-Amz-Signature" not in str(wrong.value)  # a reason never carries the signature
    with pytest.raises(DatasetError, match="HTTP 403"):  # without its signature the object is not given
        fetch_dataset(DatasetRef(sha256=dataset.sha256, url=url.split("?")[0]), tmp_path / "unsigned")


@pytest.mark.django_db
def test_an_uploaded_solution_is_kept_in_the_bucket(s3_bucket: str, s3_client: object, learner: User) -> None:
    lab = demo_lab_seed("linear-regression")
    upload = SimpleUploadedFile("solution.py", CODE.encode())
    run = services.submission_create(learner=learner, lab=lab, source="web", upload=upload)
    stored = run.submission.original_file
    assert stored.name.startswith("submissions/") and f"media/{stored.name}" in bucket_keys(s3_client, s3_bucket)
    with stored.open("rb") as handle:
        assert handle.read() == CODE.encode()
    control.redis_client(settings.CELERY_BROKER_URL).delete("cpu")  # nobody runs it here


@pytest.mark.django_db
def test_a_jobs_input_and_result_are_kept_in_the_bucket_and_served_by_the_site(
    s3_bucket: str, s3_client: object, admin_user: User
) -> None:
    text = "username,email,name,cohort,mentor\nwei,wei@example.com,张伟,,\n"
    job = job_roster_import_create(requested_by=admin_user, file_name="名单.csv", text=text)
    roster_import_run(job_id=job.pk)  # what the site worker's task does
    job.refresh_from_db()
    assert job.state == JobState.DONE, job.error
    keys = bucket_keys(s3_client, s3_bucket)
    assert f"media/{job.input_file.name}" in keys and f"media/{job.result_file.name}" in keys
    assert job.input_file.name.startswith("jobs/input/") and job.result_file.name.startswith("jobs/result/")
    assert job_input_text(job) == text
    assert "张伟" not in job_result_text(job) and "wei" in job_result_text(job)

    client = Client()
    client.force_login(admin_user)
    response = client.get(f"/jobs/{job.pk}/result.csv")
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    assert response.content.decode("utf-8-sig") == job_result_text(job)
    assert "wei" in client.get(f"/jobs/{job.pk}/").content.decode()  # the page's preview reads it too
    assert Job.objects.get(pk=job.pk).result_name == f"roster-{job.pk}.csv"


@pytest.fixture(scope="module")
def keyless_lab_worker(
    django_db_setup: None, django_db_blocker: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[subprocess.Popen, Path]]:
    """A real lab worker with nothing of the store but the links in its jobs, and an empty cache."""
    control.redis_client(settings.CELERY_BROKER_URL).delete("cpu", "gpu")
    cache = tmp_path_factory.mktemp("keyless-cache")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("S3_", "AWS_"))}
    env |= {"CELERY_BROKER_URL": settings.CELERY_BROKER_URL, "LAB_CACHE_DIR": str(cache)}
    process = worker_processes.start_worker(queues="cpu", log_dir=tmp_path_factory.mktemp("keyless"), env=env)
    yield process, cache
    worker_processes.stop_worker(process)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_run_is_scored_with_its_dataset_fetched_from_the_store_by_a_keyless_worker(
    s3_bucket: str,
    learner: User,
    site_worker: subprocess.Popen,
    keyless_lab_worker: tuple[subprocess.Popen, Path],
) -> None:
    _, cache = keyless_lab_worker
    lab = demo_lab_seed("linear-regression")
    sha256 = lab.dataset.sha256
    assert not (cache / f"{sha256}.npz").exists()
    run = wait_until_final(
        services.submission_create(learner=learner, lab=lab, source="api", code=lab.reference_solution)
    )
    assert run.state == RunState.SUCCEEDED and run.passed is True, f"{run.reason}\n{run.log[-2000:]}"
    cached = cache / f"{sha256}.npz"  # fetched over HTTP from the bucket, verified, kept by its hash
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == sha256
    assert np.load(cached, allow_pickle=False)["x_train"].shape[0] == lab.dataset.n_train


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_keyless_worker_puts_the_runs_weights_and_log_in_the_bucket_by_signed_links(
    s3_bucket: str,
    s3_client: object,
    learner: User,
    site_worker: subprocess.Popen,
    keyless_lab_worker: tuple[subprocess.Popen, Path],
) -> None:
    lab = demo_lab_seed("linear-regression")
    run = services.submission_create(learner=learner, lab=lab, source="api", code=lab.reference_solution)
    uploads = job_spec(run)["uploads"]  # what the worker got: one pre-signed PUT per file of this attempt
    for kind, file in (("weights", "model.pt"), ("log", "log.txt")):
        parts = urlsplit(uploads[kind])
        assert parts.path == f"/{s3_bucket}/media/artifacts/runs/{run.pk}/{run.token}/{file}"
        assert parse_qs(parts.query)["X-Amz-Signature"]
    run = wait_until_final(run)
    assert run.state == RunState.SUCCEEDED and run.passed is True, f"{run.reason}\n{run.log[-2000:]}"
    assert set(run.artifacts) == {"weights", "log"}, run.log[-2000:]
    keys = bucket_keys(s3_client, s3_bucket)
    assert f"media/{run.artifacts['weights']['name']}" in keys and f"media/{run.artifacts['log']['name']}" in keys

    client = Client()  # the site streams them from the bucket to the learner
    client.force_login(learner)
    response = client.get(f"/labs/runs/{run.pk}/weights.pt")
    weights = b"".join(response.streaming_content)
    assert response.status_code == 200 and hashlib.sha256(weights).hexdigest() == run.artifacts["weights"]["sha256"]
    torch = pytest.importorskip("torch")
    assert set(torch.load(io.BytesIO(weights), weights_only=True)) >= {"linear.weight", "linear.bias"}
    log = b"".join(client.get(f"/labs/runs/{run.pk}/log.txt").streaming_content)
    assert hashlib.sha256(log).hexdigest() == run.artifacts["log"]["sha256"]
