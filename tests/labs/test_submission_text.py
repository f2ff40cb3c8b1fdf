"""Text a learner sends with a submission (file names, notebook lines, API bodies) is stored on
every database or refused with a clear 400: NUL bytes, lone surrogates and 4-byte characters.
Run this module on PostgreSQL too: SQLite stores what PostgreSQL refuses."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from core.models import User
from labs import services
from labs.models import Lab, Run, Submission
from tests.labs.conftest import VALID_CODE

URL = "/api/v1/labs/tiny/submissions/"


@pytest.mark.django_db
def test_an_upload_name_with_nul_surrogates_and_emoji_is_stored_cleaned(lab: Lab, learner: User) -> None:
    upload = SimpleUploadedFile("so\x00lu\ud800tion 😀𠀀.py", VALID_CODE.encode())
    run = services.submission_create(learner=learner, lab=lab, source="cli", upload=upload)
    assert Submission.objects.get(runs=run).original_name == "solu\ufffdtion 😀𠀀.py"


@pytest.mark.django_db
def test_notebook_notes_with_nul_and_emoji_are_stored(lab: Lab, learner: User) -> None:
    cells = [
        {"cell_type": "code", "source": "%time print('\x00 😀 𠀀')\n"},
        {"cell_type": "code", "source": VALID_CODE},
    ]
    upload = SimpleUploadedFile("nb.ipynb", json.dumps({"cells": cells, "nbformat": 4}).encode())
    run = services.submission_create(learner=learner, lab=lab, source="web", upload=upload)
    [note] = Submission.objects.get(runs=run).notes
    assert "\x00" not in note and "😀 𠀀" in note


@pytest.mark.django_db
@pytest.mark.parametrize("escape", ["\\u0000", "\\ud800", "\\udfff"])
def test_code_with_nul_or_a_lone_surrogate_in_a_json_body_is_a_400(api: APIClient, lab: Lab, escape: str) -> None:
    body = json.dumps({"code": VALID_CODE + "# ESCAPE\n"}).replace("ESCAPE", escape)
    response = api.post(URL, data=body, content_type="application/json")
    assert response.status_code == 400 and "code" in response.json()
    assert not Run.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["\\u0000", "\\ud800", "😀"])
def test_an_unknown_parameter_named_with_hostile_text_is_a_400(api: APIClient, lab: Lab, name: str) -> None:
    body = json.dumps({"code": VALID_CODE, "params": {"NAME": 1}}).replace("NAME", name)
    response = api.post(URL, data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"][0].startswith("Unknown parameter")


@pytest.mark.django_db
def test_a_multipart_file_name_with_nul_is_stored_without_it(api: APIClient, lab: Lab) -> None:
    boundary = "b0undary"
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename*=UTF-8''so%00l%F0%9F%98%80.py\r\n"
        f"Content-Type: text/x-python\r\n\r\n{VALID_CODE}\r\n--{boundary}--\r\n"
    ).encode()
    response = api.post(URL, data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 201
    assert Submission.objects.get().original_name == "sol😀.py"
