"""A run's files on the site (``labs.artifacts``): the upload links a job carries, what a finished event
records (for its own attempt only, under the site's names), and the downloads — weights, the whole log,
the metrics as CSV, and a lab's public data — for exactly the people who may see the run."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from pathlib import Path
from urllib.parse import unquote, urlsplit

import numpy as np
import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from cohorts.models import Cohort, CohortMember
from core.models import Role, User
from labs import dispatch, run_events, services
from labs.artifacts import artifact_name, metrics_csv
from labs.datasets import dataset_storage
from labs.lab_folder import definition_problems
from labs.models import Lab, Run, RunState
from labs.validation import SubmissionRejected
from tests.factories import UserFactory
from tests.labs.conftest import VALID_CODE
from tests.security.world import without_csrf_tokens

MIB = 1024 * 1024
PERFECT = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]
WEIGHTS = b"PK\x03\x04 pretend this is torch.save's zip"
LOG = "epoch 1 loss 0.5\n模型 trained\n"


@pytest.fixture(autouse=True)
def media(settings: object, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"  # the default store: uploads, job files, runs' files
    return settings.MEDIA_ROOT


def _submit(lab: Lab, learner: User, **params: object) -> Run:
    return services.submission_create(learner=learner, lab=lab, source="api", code=VALID_CODE, params=params or None)


def _uploads(run: Run) -> dict:
    return dispatch.job_spec(run)["uploads"]


def _write(link: str, data: bytes) -> dict:
    """What a lab worker on this machine does with a ``file://`` link."""
    path = Path(unquote(urlsplit(link).path))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _finish(run: Run, **artifacts: dict) -> None:
    result = {"state": "succeeded", "predictions": PERFECT, "log_tail": LOG, "artifacts": artifacts}
    run_events.run_event_apply(run_id=run.pk, token=run.token, event={"kind": "finished", "result": result})


def _finished_with_files(lab: Lab, learner: User) -> Run:
    """A run whose worker stored its weights and log at the links of its job, with a learning curve."""
    run = _submit(lab, learner)
    links = _uploads(run)
    Run.objects.filter(pk=run.pk).update(
        curve=[
            {"step": 1.0, "t": 0.5, "metrics": {"loss": 0.5}},
            {"step": 2.0, "t": 1.25, "metrics": {"loss": 0.25, "=val_accuracy": 0.9}},
        ]
    )
    _finish(run, weights=_write(links["weights"], WEIGHTS), log=_write(links["log"], LOG.encode()))
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED
    return run


# --- the job: where the worker sends the files ------------------------------------------------


@pytest.mark.django_db
def test_a_job_carries_links_for_its_attempts_files_under_unguessable_names(
    lab: Lab, learner: User, media: Path
) -> None:
    run = _submit(lab, learner)
    uploads = _uploads(run)
    for kind, link in (("weights", uploads["weights"]), ("log", uploads["log"])):
        name = artifact_name(run_id=run.pk, token=run.token, kind=kind)
        assert name.startswith(f"artifacts/runs/{run.pk}/{run.token}/") and len(run.token) == 32
        assert link == (media / name).as_uri()  # file:// on this machine (the embedded default)
    assert uploads["weights_max_bytes"] == 50 * MIB  # the default cap

    Lab.objects.filter(pk=lab.pk).update(artifact_max_mb=500, disk_mb=100)
    assert _uploads(Run.objects.get(pk=run.pk))["weights_max_bytes"] == 100 * MIB  # never beyond the disk limit
    Lab.objects.filter(pk=lab.pk).update(artifact_max_mb=0)  # this lab keeps no weights
    no_weights = _uploads(Run.objects.get(pk=run.pk))
    assert (no_weights["weights"], no_weights["weights_max_bytes"]) == ("", 0) and no_weights["log"]


@pytest.mark.django_db
def test_a_learner_opts_out_of_keeping_weights_with_the_reserved_parameter(lab: Lab, learner: User) -> None:
    run = _submit(lab, learner, save_weights="false", epochs=3)  # the command line sends text
    assert run.submission.save_weights is False
    assert run.submission.params == {"epochs": 3, "lr": 0.1}  # learner code never sees it
    assert dispatch.job_spec(run)["params"] == {"epochs": 3, "lr": 0.1}
    assert _uploads(run)["weights"] == "" and _uploads(run)["log"]
    assert _submit(lab, learner, save_weights=True).submission.save_weights is True
    with pytest.raises(SubmissionRejected, match="save_weights” must be true or false"):
        _submit(lab, learner, save_weights="maybe")


def test_a_lab_folder_may_cap_weights_but_not_name_a_parameter_save_weights() -> None:
    limits = {"wall_seconds": 60, "memory_mb": 512, "processes": 8, "output_bytes": 4096, "disk_mb": 64}
    base = {"limits": limits, "params": {}}
    assert not [p for p in definition_problems({**base, "limits": {**limits, "artifact_max_mb": 0}}) if "artifact" in p]
    bad = definition_problems({**base, "limits": {**limits, "artifact_max_mb": -1}})
    assert "limits.artifact_max_mb must be an integer from 0 (keep no weights) to 100000" in bad
    reserved = definition_problems({**base, "params": {"save_weights": {"type": "int"}}})
    assert any(p.startswith("params.save_weights: the name is reserved") for p in reserved)


# --- the finished event: what is recorded -----------------------------------------------------


@pytest.mark.django_db
def test_the_finished_event_records_the_stored_files_under_the_sites_names(lab: Lab, learner: User) -> None:
    run = _submit(lab, learner)
    token = run.token
    _finish(
        run,
        weights={"size": 12, "sha256": "a" * 64},
        log={"size": 3, "sha256": "b" * 64},
        extra={"size": 1, "sha256": "c" * 64},
    )
    run.refresh_from_db()
    assert run.artifacts == {
        "weights": {"name": f"artifacts/runs/{run.pk}/{token}/model.pt", "size": 12, "sha256": "a" * 64},
        "log": {"name": f"artifacts/runs/{run.pk}/{token}/log.txt", "size": 3, "sha256": "b" * 64},
    }  # a name the site did not ask for is not kept


@pytest.mark.django_db
def test_a_stale_attempts_files_are_never_recorded(lab: Lab, learner: User) -> None:
    run = _submit(lab, learner)
    stale = run.token
    run_events.run_retry_or_fail(run_id=run.pk, token=stale, why="worker lost")  # a new attempt, a new token
    run.refresh_from_db()
    assert run.token != stale
    late = {"state": "succeeded", "predictions": PERFECT, "artifacts": {"log": {"size": 1, "sha256": "d" * 64}}}
    run_events.run_event_apply(run_id=run.pk, token=stale, event={"kind": "finished", "result": late})
    run.refresh_from_db()
    assert run.artifacts == {} and run.state == RunState.QUEUED
    assert artifact_name(run_id=run.pk, token=stale, kind="log") != artifact_name(
        run_id=run.pk, token=run.token, kind="log"
    )


# --- downloads: who gets them -----------------------------------------------------------------


@pytest.fixture
def people(learner: User, other_learner: User, mentor: User, admin_user: User) -> dict[str, User]:
    other_mentor = UserFactory(role=Role.MENTOR, username="otto")
    today = timezone.localdate()
    cohort = Cohort.objects.create(slug="spring", name="Spring", starts_on=today, ends_on=today + dt.timedelta(60))
    CohortMember.objects.create(cohort=cohort, learner=learner, mentor=mentor)
    CohortMember.objects.create(cohort=cohort, learner=other_learner, mentor=other_mentor)
    return {"learner": learner, "mentor": mentor, "admin": admin_user, "other_learner": other_learner,
            "other_mentor": other_mentor}  # fmt: skip


PAGES = {"weights": "weights.pt", "log": "log.txt", "metrics": "metrics.csv"}
APIS = {"weights": "weights/", "log": "log/", "metrics": "metrics.csv"}


def _body(response: object) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["learner", "mentor", "admin"])
def test_the_learner_their_mentor_and_administrators_download_the_runs_files(
    who: str, people: dict[str, User], lab: Lab
) -> None:
    run = _finished_with_files(lab, people["learner"])
    page, api = Client(), APIClient()
    page.force_login(people[who])
    api.force_authenticate(people[who])
    for kind in PAGES:
        for response in (
            page.get(f"/labs/runs/{run.pk}/{PAGES[kind]}"),
            api.get(f"/api/v1/runs/{run.pk}/{APIS[kind]}"),
        ):
            assert response.status_code == 200, (kind, response.status_code)
            assert response["Content-Disposition"].startswith("attachment")
            body = _body(response)
            if kind == "weights":
                assert body == WEIGHTS and response["X-Content-SHA256"] == hashlib.sha256(WEIGHTS).hexdigest()
                assert f'filename="run-{run.pk}-model.pt"' in response["Content-Disposition"]
            elif kind == "log":
                assert body.decode() == LOG and response["Content-Type"] == "text/plain; charset=utf-8"
            else:
                assert response["Content-Type"] == "text/csv; charset=utf-8"
                assert body.decode() == metrics_csv(run)


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["other_learner", "other_mentor"])
def test_nobody_else_gets_them_nor_learns_that_they_exist(who: str, people: dict[str, User], lab: Lab) -> None:
    run = _finished_with_files(lab, people["learner"])
    page, api = Client(), APIClient()
    page.force_login(people[who])
    api.force_authenticate(people[who])
    for kind in PAGES:
        for client, url, missing in (
            (page, f"/labs/runs/{run.pk}/{PAGES[kind]}", f"/labs/runs/987654321/{PAGES[kind]}"),
            (api, f"/api/v1/runs/{run.pk}/{APIS[kind]}", f"/api/v1/runs/987654321/{APIS[kind]}"),
        ):
            refused, absent = client.get(url), client.get(missing)
            assert refused.status_code == absent.status_code == 404
            # the answer a run that does not exist gets (but for the address, and the page's CSRF tokens)
            same = [
                without_csrf_tokens(r.content.decode()).replace(u, "<URL>")
                for r, u in ((refused, url), (absent, missing))
            ]
            assert same[0] == same[1]


@pytest.mark.django_db
def test_signed_out_visitors_are_sent_to_sign_in(people: dict[str, User], lab: Lab) -> None:
    run = _finished_with_files(lab, people["learner"])
    for kind in PAGES:
        response = Client().get(f"/labs/runs/{run.pk}/{PAGES[kind]}")
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
        assert APIClient().get(f"/api/v1/runs/{run.pk}/{APIS[kind]}").status_code in (401, 403)
    assert APIClient().get(f"/api/v1/labs/{lab.slug}/data/").status_code in (401, 403)


@pytest.mark.django_db
def test_a_file_not_stored_or_lost_is_a_404(lab: Lab, learner: User, api: APIClient, media: Path) -> None:
    run = _submit(lab, learner)
    _finish(run)  # the worker stored nothing (no links, or every upload failed)
    for kind in APIS:
        assert api.get(f"/api/v1/runs/{run.pk}/{APIS[kind]}").status_code == 404
    run = _finished_with_files(lab, learner)
    (media / run.artifacts["weights"]["name"]).unlink()  # the store lost it
    assert api.get(f"/api/v1/runs/{run.pk}/weights/").status_code == 404
    assert api.get(f"/api/v1/runs/{run.pk}/weights/", HTTP_ACCEPT="application/octet-stream").status_code == 404
    assert api.get(f"/api/v1/runs/{run.pk}/metrics.csv", HTTP_ACCEPT="text/csv").status_code == 200  # any Accept


@pytest.mark.django_db
def test_the_api_run_links_its_files_and_null_for_those_it_has_not(lab: Lab, learner: User, api: APIClient) -> None:
    run = _finished_with_files(lab, learner)
    assert api.get(f"/api/v1/runs/{run.pk}/").json()["artifacts"] == {
        "weights": f"/api/v1/runs/{run.pk}/weights/",
        "log": f"/api/v1/runs/{run.pk}/log/",
        "metrics": f"/api/v1/runs/{run.pk}/metrics.csv",
    }
    fresh = _submit(lab, learner)
    assert api.get(f"/api/v1/runs/{fresh.pk}/").json()["artifacts"] == {"weights": None, "log": None, "metrics": None}


def test_the_metrics_csv_has_a_column_per_metric_and_never_a_formula() -> None:
    run = Run(
        curve=[{"step": 1.0, "t": 0.5, "metrics": {"loss": 0.5}}, {"step": 2.0, "t": 1.0, "metrics": {"=1+1": 0.9}}]
    )
    rows = list(csv.reader(io.StringIO(metrics_csv(run))))
    assert rows == [["step", "t", "loss", "'=1+1"], ["1.0", "0.5", "0.5", ""], ["2.0", "1.0", "", "0.9"]]
    assert metrics_csv(Run(curve=[])) is None


@pytest.mark.django_db
def test_the_run_page_offers_the_downloads_it_has(lab: Lab, learner: User, client: Client) -> None:
    client.force_login(learner)
    run = _finished_with_files(lab, learner)
    html = client.get(f"/labs/runs/{run.pk}/").content.decode()
    for kind, file in PAGES.items():
        assert f'href="/labs/runs/{run.pk}/{file}" data-testid="download-{kind}"' in html
    assert 'data-testid="downloads" hidden' not in html
    assert "weights_only=True" in html and f"model.pt, {len(WEIGHTS)}" in html
    queued = _submit(lab, learner)
    assert 'data-testid="downloads" hidden' in client.get(f"/labs/runs/{queued.pk}/").content.decode()
    progress = client.get(f"/labs/runs/{run.pk}/progress.json").json()
    assert progress["downloads"] == {kind: f"/labs/runs/{run.pk}/{file}" for kind, file in PAGES.items()}


# --- the lab's public data --------------------------------------------------------------------


@pytest.mark.django_db
def test_anyone_signed_in_gets_a_labs_public_data_never_its_test_labels(lab: Lab, api: APIClient) -> None:
    response = api.get(f"/api/v1/labs/{lab.slug}/data/", HTTP_ACCEPT="application/octet-stream")
    assert response.status_code == 200 and response["Content-Disposition"] == 'attachment; filename="tiny.npz"'
    body = _body(response)
    assert response["X-Dataset-SHA256"] == lab.dataset.sha256 == hashlib.sha256(body).hexdigest()
    assert int(response["Content-Length"]) == len(body)
    with np.load(io.BytesIO(body), allow_pickle=False) as arrays:
        assert {"x_train", "y_train", "x_test"} <= set(arrays.files) and "y_test" not in arrays.files
    assert api.get("/api/v1/labs/no-such-lab/data/").status_code == 404


@pytest.mark.django_db
def test_a_draft_labs_data_is_for_administrators_only(lab: Lab, api: APIClient, admin_user: User) -> None:
    Lab.objects.filter(pk=lab.pk).update(published=False)
    assert api.get(f"/api/v1/labs/{lab.slug}/data/").status_code == 404
    admin = APIClient()
    admin.force_authenticate(admin_user)
    assert admin.get(f"/api/v1/labs/{lab.slug}/data/").status_code == 200
    dataset_storage().delete(lab.dataset.file_name)  # a store that lost the file answers 404, not 500
    assert admin.get(f"/api/v1/labs/{lab.slug}/data/").status_code == 404
