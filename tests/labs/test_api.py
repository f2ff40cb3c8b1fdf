import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from core.models import User
from labs.models import Lab, Run, RunState
from tests.labs.conftest import VALID_CODE


@pytest.mark.django_db
def test_labs_are_listed_with_their_contract(api: APIClient, lab: Lab) -> None:
    body = api.get("/api/v1/labs/").json()
    assert [item["slug"] for item in body["results"]] == ["tiny"]
    detail = api.get("/api/v1/labs/tiny/").json()
    assert (detail["metric"], detail["threshold"], detail["n_test"]) == ("accuracy", 0.8, 10)
    assert "reference_solution" not in detail


@pytest.mark.django_db
def test_submit_code_as_json(api: APIClient, lab: Lab) -> None:
    response = api.post("/api/v1/labs/tiny/submissions/", {"code": VALID_CODE, "params": {"epochs": 3}}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["state"], body["source"], body["params"]) == ("queued", "api", {"epochs": 3, "lr": 0.1})


@pytest.mark.django_db
def test_submit_a_file_as_multipart(api: APIClient, lab: Lab) -> None:
    upload = SimpleUploadedFile("solution.py", VALID_CODE.encode())
    response = api.post("/api/v1/labs/tiny/submissions/", {"file": upload}, format="multipart")
    assert response.status_code == 201
    assert Run.objects.get().submission.original_name == "solution.py"


@pytest.mark.django_db
def test_invalid_code_is_a_400_naming_the_line(api: APIClient, lab: Lab) -> None:
    response = api.post(
        "/api/v1/labs/tiny/submissions/", {"code": "def train(data, run):\n  return (\n"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0].startswith("Line ")
    assert not Run.objects.exists()


@pytest.mark.django_db
def test_unreadable_notebook_is_a_400(api: APIClient, lab: Lab) -> None:
    upload = SimpleUploadedFile("nb.ipynb", b"\x00\x01 not a notebook")
    response = api.post("/api/v1/labs/tiny/submissions/", {"file": upload}, format="multipart")
    assert response.status_code == 400
    assert "notebook" in response.json()["errors"][0]


@pytest.mark.django_db
def test_code_and_file_together_is_a_400(api: APIClient, lab: Lab) -> None:
    upload = SimpleUploadedFile("s.py", VALID_CODE.encode())
    response = api.post("/api/v1/labs/tiny/submissions/", {"file": upload, "code": VALID_CODE}, format="multipart")
    assert response.status_code == 400


@pytest.mark.django_db
def test_another_learners_run_is_invisible(api: APIClient, lab: Lab, other_learner: User) -> None:
    run_id = api.post("/api/v1/labs/tiny/submissions/", {"code": VALID_CODE}, format="json").json()["id"]
    stranger = APIClient()
    stranger.force_authenticate(other_learner)
    assert stranger.get(f"/api/v1/runs/{run_id}/").status_code == 404
    assert stranger.post(f"/api/v1/runs/{run_id}/cancel/").status_code == 404
    assert stranger.get("/api/v1/runs/").json()["count"] == 0
    assert api.get("/api/v1/runs/").json()["count"] == 1


@pytest.mark.django_db
def test_cancel_then_cancel_again(api: APIClient, lab: Lab) -> None:
    run_id = api.post("/api/v1/labs/tiny/submissions/", {"code": VALID_CODE}, format="json").json()["id"]
    assert api.post(f"/api/v1/runs/{run_id}/cancel/").json()["state"] == RunState.CANCELLED
    assert api.post(f"/api/v1/runs/{run_id}/cancel/").status_code == 409


@pytest.mark.django_db
def test_unknown_lab_is_a_404(api: APIClient, lab: Lab) -> None:
    assert api.post("/api/v1/labs/nope/submissions/", {"code": VALID_CODE}, format="json").status_code == 404
