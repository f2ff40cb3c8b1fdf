"""Web hardening: request and upload size limits (real multipart requests), the submission rate
limit shared by the web form and the API, and the sign-in lock on the API's token endpoint.
Security headers and the Content-Security-Policy: tests/security/test_security_headers.py.

The sign-in page's own lock is proven in tests/core/test_login_throttle.py; the deployment checklist
(`check --deploy` in production mode) in tests/core/test_settings.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import Client, override_settings
from rest_framework.test import APIClient

from cohorts.models import Job
from core.models import User
from labs.models import Lab, Run, Submission
from labs.throttling import SubmissionRateThrottle
from tests.factories import PASSWORD, CohortFactory
from tests.labs.conftest import (
    VALID_CODE,
    lab,  # noqa: F401 - the fixture
)
from tests.security.test_security_headers import header_problems

REPO = Path(__file__).resolve().parents[2]
MB = 1024 * 1024

# --- Request and upload sizes -----------------------------------------------------------------------


def notebook(code: str, padding: int = 0) -> bytes:
    cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "source": code}]
    if padding:
        cells.append({"cell_type": "markdown", "metadata": {}, "source": "x" * padding})
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()


def signed_in(user: User, *, api: bool = False) -> Client:
    client = APIClient() if api else Client()
    client.force_login(user)
    return client


def nothing_stored() -> bool:
    return not Submission.objects.exists() and not Run.objects.exists()


def test_the_request_cap_sits_just_above_the_largest_legitimate_upload() -> None:
    from cohorts.roster import MAX_BYTES as ROSTER_MAX
    from labs.validation import MAX_NOTEBOOK_BYTES, MAX_SOURCE_BYTES

    largest = max(MAX_NOTEBOOK_BYTES, MAX_SOURCE_BYTES, ROSTER_MAX)
    assert largest < settings.MAX_REQUEST_BYTES <= largest + 2 * MB
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= 2.5 * MB and settings.FILE_UPLOAD_MAX_MEMORY_SIZE <= 2.5 * MB


@pytest.mark.django_db
def test_an_oversized_request_is_refused_with_413_before_anything_reads_it(learner: User, lab: Lab) -> None:  # noqa: F811
    big = SimpleUploadedFile("solution.ipynb", notebook(VALID_CODE, padding=settings.MAX_REQUEST_BYTES))
    response = signed_in(learner).post(f"/labs/{lab.slug}/", {"code": "", "upload": big})
    assert response.status_code == 413
    text = response.content.decode().replace("\xa0", " ")
    assert re.fullmatch(r"The request is too large \(6\.\d MB\); the limit is 6\.0 MB\.", text)
    assert header_problems(response) == []
    assert nothing_stored()


@pytest.mark.django_db
def test_every_upload_endpoint_refuses_an_oversized_body_with_a_clear_message(
    learner: User,
    admin_user: User,
    lab: Lab,  # noqa: F811
) -> None:
    cohort = CohortFactory(slug="spring")
    payload = b"x" * (settings.MAX_REQUEST_BYTES + 1)
    attempts = [
        (signed_in(learner), f"/labs/{lab.slug}/", {"upload": SimpleUploadedFile("a.py", payload)}),
        (
            signed_in(learner, api=True),
            f"/api/v1/labs/{lab.slug}/submissions/",
            {"file": SimpleUploadedFile("a.py", payload)},
        ),
        (
            signed_in(admin_user),
            f"/cohorts/{cohort.slug}/",
            {"action": "roster", "file": SimpleUploadedFile("r.csv", payload)},
        ),
        (
            signed_in(admin_user, api=True),
            f"/api/v1/cohorts/{cohort.slug}/roster/",
            {"file": SimpleUploadedFile("r.csv", payload)},
        ),
        (Client(), "/accounts/login/", {"username": "x", "password": payload.decode()}),
    ]
    for client, url, data in attempts:
        response = client.post(url, data)
        assert response.status_code == 413, url
        text = response.json()["errors"][0] if url.startswith("/api/") else response.content.decode()
        text = text.replace("\xa0", " ")
        assert text.startswith("The request is too large") and "the limit is 6.0 MB" in text, url
    # A JSON body is capped too (DRF reads it as a stream, past Django's form-field limit).
    body = json.dumps({"code": "#" * (settings.MAX_REQUEST_BYTES + 1)})
    response = signed_in(learner, api=True).post(
        f"/api/v1/labs/{lab.slug}/submissions/", body, content_type="application/json"
    )
    assert response.status_code == 413
    assert nothing_stored() and not Job.objects.exists()


@pytest.mark.django_db
def test_a_notebook_just_under_its_limit_passes_the_cap_and_is_accepted(learner: User, lab: Lab) -> None:  # noqa: F811
    from labs.validation import MAX_NOTEBOOK_BYTES

    raw = notebook(VALID_CODE, padding=MAX_NOTEBOOK_BYTES - 4096)
    assert MAX_NOTEBOOK_BYTES - 4096 < len(raw) <= MAX_NOTEBOOK_BYTES
    response = signed_in(learner).post(
        f"/labs/{lab.slug}/", {"code": "", "upload": SimpleUploadedFile("nb.ipynb", raw)}
    )
    assert response.status_code == 302
    assert Submission.objects.get().kind == "ipynb"


@pytest.mark.django_db
def test_each_upload_over_its_own_limit_gets_its_own_clear_error_and_stores_nothing(
    learner: User,
    admin_user: User,
    lab: Lab,  # noqa: F811
) -> None:
    from labs.validation import MAX_NOTEBOOK_BYTES, MAX_SOURCE_BYTES

    cohort = CohortFactory(slug="spring")
    source = ("# padding\n" * (MAX_SOURCE_BYTES // 10 + 10)).encode() + VALID_CODE.encode()
    big_notebook = notebook(VALID_CODE, padding=MAX_NOTEBOOK_BYTES)
    assert len(big_notebook) < settings.MAX_REQUEST_BYTES - 64 * 1024  # reaches the view, past the cap

    page = signed_in(learner).post(f"/labs/{lab.slug}/", {"code": "", "upload": SimpleUploadedFile("a.py", source)})
    assert page.status_code == 400
    assert "The file is 256 KB; the limit is 256 KB." in page.content.decode()
    page = signed_in(learner).post(
        f"/labs/{lab.slug}/", {"code": "", "upload": SimpleUploadedFile("nb.ipynb", big_notebook)}
    )
    assert page.status_code == 400
    assert "the limit is 5120 KB." in page.content.decode()
    answer = signed_in(learner, api=True).post(
        f"/api/v1/labs/{lab.slug}/submissions/", {"file": SimpleUploadedFile("a.py", source)}
    )
    assert answer.status_code == 400
    assert answer.json() == {"errors": ["The file is 256 KB; the limit is 256 KB."]}
    pasted = signed_in(learner).post(f"/labs/{lab.slug}/", {"code": source.decode()})
    assert pasted.status_code == 400 and "the limit is 256 KB." in pasted.content.decode()
    assert nothing_stored()

    roster = b"username,cohort\n" + b"someone,spring\n" * (MB // 15 + 10)
    page = signed_in(admin_user).post(
        f"/cohorts/{cohort.slug}/", {"action": "roster", "file": SimpleUploadedFile("r.csv", roster)}
    )
    assert page.status_code == 400 and "The file is larger than 1.0 MB." in page.content.decode().replace("\xa0", " ")
    answer = signed_in(admin_user, api=True).post(
        f"/api/v1/cohorts/{cohort.slug}/roster/", {"file": SimpleUploadedFile("r.csv", roster)}
    )
    assert answer.status_code == 400 and answer.json() == {"errors": ["The file is larger than 1.0\xa0MB."]}
    answer = signed_in(admin_user, api=True).post(
        f"/api/v1/cohorts/{cohort.slug}/roster/", {"text": roster.decode()}, format="json"
    )
    assert answer.status_code == 400 and answer.json() == {"errors": ["The file is larger than 1.0\xa0MB."]}
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_a_request_with_too_many_files_is_refused(learner: User, lab: Lab) -> None:  # noqa: F811
    files = {
        f"upload{n}": SimpleUploadedFile(f"{n}.py", b"x") for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)
    }
    response = signed_in(learner).post(f"/labs/{lab.slug}/", files)
    assert response.status_code == 400
    assert nothing_stored()


# --- Submission rate limit: one budget for the web form and the API ---------------------------------


@pytest.fixture
def three_a_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SubmissionRateThrottle, "rate", "3/minute", raising=False)


def submit_page(client: Client, target: Lab) -> HttpResponse:
    return client.post(f"/labs/{target.slug}/", {"code": VALID_CODE})


def submit_api(client: APIClient, target: Lab) -> HttpResponse:
    return client.post(f"/api/v1/labs/{target.slug}/submissions/", {"code": VALID_CODE}, format="json")


@pytest.mark.django_db
@pytest.mark.usefixtures("three_a_minute")
def test_hammering_the_submit_form_is_limited_and_stores_nothing(learner: User, other_learner: User, lab: Lab) -> None:  # noqa: F811
    page = signed_in(learner)
    assert [submit_page(page, lab).status_code for _ in range(3)] == [302, 302, 302]
    refused = submit_page(page, lab)
    assert refused.status_code == 429
    assert re.search(r"Too many submissions in a short time\. Try again in \d+ seconds?\.", refused.content.decode())
    assert Submission.objects.count() == 3 and Run.objects.count() == 3
    # The API shares the budget: switching door does not help.
    api = submit_api(signed_in(learner, api=True), lab)
    assert api.status_code == 429
    assert re.fullmatch(r"Too many submissions in a short time\. Try again in \d+ seconds?\.", api.json()["detail"])
    assert int(api["Retry-After"]) >= 1
    assert Submission.objects.count() == 3
    # Another learner has a budget of their own.
    assert submit_page(signed_in(other_learner), lab).status_code == 302


@pytest.mark.django_db
@pytest.mark.usefixtures("three_a_minute")
def test_hammering_the_submission_api_and_rerun_is_limited_and_the_form_then_refuses_too(
    learner: User,
    lab: Lab,  # noqa: F811
) -> None:
    api = signed_in(learner, api=True)
    first = submit_api(api, lab)
    assert first.status_code == 201
    run_id = first.json()["id"]
    assert api.post(f"/api/v1/runs/{run_id}/rerun/").status_code == 201
    assert submit_api(api, lab).status_code == 201
    assert api.post(f"/api/v1/runs/{run_id}/rerun/").status_code == 429
    assert submit_api(api, lab).status_code == 429
    assert Run.objects.count() == 3
    page = signed_in(learner)
    assert submit_page(page, lab).status_code == 429
    rerun = page.post(f"/labs/runs/{run_id}/rerun/", follow=True)
    assert "Too many submissions in a short time." in rerun.content.decode()
    assert Run.objects.count() == 3 and Submission.objects.count() == 2


# --- Sign-in lock on the API's token endpoint -------------------------------------------------------


@pytest.mark.django_db
@override_settings(LOGIN_MAX_FAILURES=3)
def test_the_token_endpoint_is_locked_after_wrong_passwords_like_the_sign_in_page(learner: User) -> None:
    api = APIClient()
    for _ in range(3):
        wrong = api.post("/api/v1/auth/token/", {"username": learner.username, "password": "guess"})
        assert wrong.status_code == 400
    locked = api.post("/api/v1/auth/token/", {"username": learner.username, "password": PASSWORD})
    assert locked.status_code == 429
    assert locked.json() == {"errors": ["Too many failed sign-ins. Try again in 15 minutes, or reset your password."]}
    assert int(locked["Retry-After"]) > 0
    # The same lock holds on the sign-in page: the two doors count together.
    page = Client().post("/accounts/login/", {"username": learner.username, "password": PASSWORD})
    assert "Too many failed sign-ins" in page.content.decode()


@pytest.mark.django_db
@override_settings(LOGIN_MAX_FAILURES=3)
def test_the_token_endpoint_still_works_and_a_malformed_request_is_not_a_failure(learner: User) -> None:
    api = APIClient()
    for body in ({}, {"username": learner.username}, ["not", "an", "object"]):
        assert api.post("/api/v1/auth/token/", body, format="json").status_code == 400
    for _ in range(2):
        api.post("/api/v1/auth/token/", {"username": learner.username, "password": "guess"})
    answer = api.post("/api/v1/auth/token/", {"username": learner.username, "password": PASSWORD})
    assert answer.status_code == 200 and answer.json()["token"].startswith("aca_")
