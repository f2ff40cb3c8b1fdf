import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from labs.models import Lab, Run, RunState
from labs.services import submission_create
from labs.validation import MAX_SOURCE_BYTES, SubmissionRejected, kind_of, prepare_code, resolve_params
from tests.labs.conftest import VALID_CODE


def rejected(raw: bytes, kind: str = "py") -> list[str]:
    with pytest.raises(SubmissionRejected) as info:
        prepare_code(raw, kind)
    return info.value.errors


def test_valid_code_passes() -> None:
    assert prepare_code(VALID_CODE.encode(), "py").code == VALID_CODE


def test_syntax_error_is_reported_with_its_line() -> None:
    errors = rejected(b"def train(data, run):\n    return 1\n\ndef predict(model, x)\n    return x\n")
    assert len(errors) == 1
    assert errors[0].startswith("Line 4:")


def test_missing_predict_is_named() -> None:
    assert any("predict" in e for e in rejected(b"def train(data, run):\n    return 1\n"))


def test_non_utf8_is_refused() -> None:
    assert "not UTF-8" in rejected("def train(d, r): pass\n# caf\xe9".encode("latin-1"))[0]


def test_oversized_and_empty_files_are_refused() -> None:
    assert "limit" in rejected(b"#" * (MAX_SOURCE_BYTES + 1))[0]
    assert "empty" in rejected(b"   \n")[0]


def test_notebook_code_cells_become_the_solution_and_magics_are_noted() -> None:
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# My solution"]},
            {
                "cell_type": "code",
                "metadata": {},
                "execution_count": 1,
                "outputs": [],
                "source": ["%matplotlib inline\n", "import torch\n"],
            },
            {
                "cell_type": "code",
                "metadata": {},
                "execution_count": 2,
                "outputs": [],
                "source": [
                    "def train(data, run):\n",
                    "    return None\n",
                    "def predict(model, x):\n",
                    "    return x[:, 0]\n",
                ],
            },
        ],
    }
    prepared = prepare_code(json.dumps(notebook).encode(), "ipynb")
    assert "import torch" in prepared.code and "%matplotlib" not in prepared.code
    assert prepared.kind == "ipynb"
    assert any("matplotlib" in note for note in prepared.notes)


def test_unreadable_notebook_is_a_clear_rejection() -> None:
    assert "notebook cannot be read" in rejected(b"{not json", "ipynb")[0]


def test_file_kind_comes_from_the_extension() -> None:
    assert kind_of("Solution.IPYNB") == "ipynb"
    with pytest.raises(SubmissionRejected):
        kind_of("solution.txt")


@pytest.mark.django_db
def test_params_take_defaults_and_respect_bounds(lab: Lab) -> None:
    assert resolve_params(lab, {"epochs": "7"}) == {"epochs": 7, "lr": 0.1}
    with pytest.raises(SubmissionRejected) as info:
        resolve_params(lab, {"epochs": 500, "lr": "fast", "momentum": 0.9})
    assert len(info.value.errors) == 3


@pytest.mark.django_db
def test_quota_ignores_cancelled_runs_and_platform_failures(lab: Lab, learner: object) -> None:
    for _ in range(5):
        submission_create(learner=learner, lab=lab, source="api", code=VALID_CODE)
    with pytest.raises(SubmissionRejected, match="used all 5 runs"):
        submission_create(learner=learner, lab=lab, source="api", code=VALID_CODE)
    runs = list(Run.objects.all())
    Run.objects.filter(pk=runs[0].pk).update(state=RunState.CANCELLED)
    Run.objects.filter(pk=runs[1].pk).update(state=RunState.FAILED, reason="platform: worker lost")
    submission_create(learner=learner, lab=lab, source="api", code=VALID_CODE)
    submission_create(learner=learner, lab=lab, source="api", code=VALID_CODE)
    with pytest.raises(SubmissionRejected):
        submission_create(learner=learner, lab=lab, source="api", code=VALID_CODE)


@pytest.mark.django_db
def test_a_rejected_submission_leaves_nothing_behind(lab: Lab, learner: object) -> None:
    with pytest.raises(SubmissionRejected):
        submission_create(learner=learner, lab=lab, source="web", code="def train(:\n")
    assert not Run.objects.exists()


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_windows_and_old_mac_line_endings_become_newlines(newline: str) -> None:
    assert prepare_code(VALID_CODE.replace("\n", newline).encode(), "py").code == VALID_CODE


@pytest.mark.django_db
def test_code_typed_in_the_browser_stores_what_the_same_file_uploaded_stores(lab: Lab, learner: object) -> None:
    """A textarea posts CRLF: the stored code, its SHA-256 and so its line numbers match the file's."""
    typed = submission_create(learner=learner, lab=lab, source="web", code=VALID_CODE.replace("\n", "\r\n"))
    uploaded = submission_create(
        learner=learner, lab=lab, source="web", upload=SimpleUploadedFile("solution.py", VALID_CODE.encode())
    )
    assert typed.submission.code == uploaded.submission.code == VALID_CODE
    assert typed.submission.code_sha256 == uploaded.submission.code_sha256 == typed.code_sha256
