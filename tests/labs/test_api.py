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


# --- params in multipart, and the file itself as the body --------------------------------------------

SUBMIT = "/api/v1/labs/tiny/submissions/"


@pytest.mark.django_db
def test_multipart_params_sent_as_a_json_string_are_applied(api: APIClient, lab: Lab) -> None:
    upload = SimpleUploadedFile("solution.py", VALID_CODE.encode())
    response = api.post(SUBMIT, {"file": upload, "params": '{"epochs": 7}'}, format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()["params"] == {"epochs": 7, "lr": 0.1}
    assert Run.objects.get().submission.params == {"epochs": 7, "lr": 0.1}


@pytest.mark.django_db
def test_multipart_params_sent_as_a_json_file_part_are_applied(api: APIClient, lab: Lab) -> None:
    upload = SimpleUploadedFile("solution.py", VALID_CODE.encode())
    params = SimpleUploadedFile("params.json", b'{"lr": 0.5}', content_type="application/json")
    response = api.post(SUBMIT, {"file": upload, "params": params}, format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()["params"] == {"epochs": 5, "lr": 0.5}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ("{epochs: 7}", "`params` is not valid JSON (Expecting property name enclosed in double quotes"),
        ("[7]", '`params` must be a JSON object such as {"epochs": 5}, not an array.'),
        ('"epochs=7"', '`params` must be a JSON object such as {"epochs": 5}, not a string.'),
        ('{"epochs": NaN}', "`params` is not valid JSON (NaN is not JSON)"),
    ],
)
def test_multipart_params_that_are_not_a_json_object_are_a_400_naming_params(
    api: APIClient, lab: Lab, params: str, message: str
) -> None:
    upload = SimpleUploadedFile("solution.py", VALID_CODE.encode())
    response = api.post(SUBMIT, {"file": upload, "params": params}, format="multipart")
    assert response.status_code == 400
    assert response.json()["params"][0].startswith(message)
    assert not Run.objects.exists()


@pytest.mark.django_db
def test_params_as_separate_multipart_fields_are_refused_not_ignored(api: APIClient, lab: Lab) -> None:
    upload = SimpleUploadedFile("solution.py", VALID_CODE.encode())
    response = api.post(SUBMIT, {"file": upload, "params.epochs": "7"}, format="multipart")
    assert response.status_code == 400
    assert response.json()["params"] == [
        """Send `params` as one JSON object, e.g. -F 'params={"epochs": 5}', not as separate fields such as """
        "params.epochs."
    ]
    assert not Run.objects.exists()


@pytest.mark.django_db
def test_json_params_must_be_an_object(api: APIClient, lab: Lab) -> None:
    response = api.post(SUBMIT, {"code": VALID_CODE, "params": [1, 2]}, format="json")
    assert response.status_code == 400
    assert "params" in response.json()


@pytest.mark.django_db
def test_the_file_itself_as_the_body_with_name_and_params_in_the_query(api: APIClient, lab: Lab) -> None:
    url = SUBMIT + "?filename=mine.py&params=%7B%22epochs%22%3A9%7D"
    response = api.post(url, VALID_CODE.encode(), content_type="text/x-python")
    assert response.status_code == 201, response.content
    submission = Run.objects.get().submission
    assert (submission.original_name, submission.params) == ("mine.py", {"epochs": 9, "lr": 0.1})
    assert submission.code.strip() == VALID_CODE.strip()


@pytest.mark.django_db
def test_the_file_as_an_octet_stream_named_by_content_disposition(api: APIClient, lab: Lab) -> None:
    response = api.post(
        SUBMIT,
        VALID_CODE.encode(),
        content_type="application/octet-stream",
        headers={"Content-Disposition": 'attachment; filename="model_v2.py"'},
    )
    assert response.status_code == 201, response.content
    assert Run.objects.get().submission.original_name == "model_v2.py"


@pytest.mark.django_db
def test_a_raw_body_without_a_name_is_solution_py_with_the_labs_defaults(api: APIClient, lab: Lab) -> None:
    response = api.post(SUBMIT, VALID_CODE.encode(), content_type="text/x-python; charset=utf-8")
    assert response.status_code == 201, response.content
    submission = Run.objects.get().submission
    assert (submission.original_name, submission.params) == ("solution.py", {"epochs": 5, "lr": 0.1})


@pytest.mark.django_db
def test_a_raw_body_with_bad_params_in_the_query_is_a_400(api: APIClient, lab: Lab) -> None:
    response = api.post(SUBMIT + "?params=epochs%3D9", VALID_CODE.encode(), content_type="text/x-python")
    assert response.status_code == 400
    assert response.json()["params"][0].startswith("`params` is not valid JSON")
    assert not Run.objects.exists()


@pytest.mark.django_db
def test_a_raw_body_that_is_not_a_solution_is_a_400_with_the_reason(api: APIClient, lab: Lab) -> None:
    response = api.post(SUBMIT, b"print('hello')\n", content_type="text/x-python")
    assert response.status_code == 400
    assert response.json()["errors"]
    assert not Run.objects.exists()


@pytest.mark.django_db
def test_an_empty_raw_body_says_what_to_send(api: APIClient, lab: Lab) -> None:
    response = api.post(SUBMIT, b"", content_type="text/x-python")
    assert response.status_code == 400
    assert "Content-Type: text/x-python" in response.json()["non_field_errors"][0]


@pytest.mark.django_db
def test_a_personal_token_submits_a_file_with_params(lab: Lab, learner: User) -> None:
    from core.services import token_create

    _token, key = token_create(user=learner, name="laptop")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    upload = SimpleUploadedFile("solution.py", VALID_CODE.encode())
    response = client.post(SUBMIT, {"file": upload, "params": '{"epochs":5, "lr": 0.5}'}, format="multipart")
    assert response.status_code == 201, response.content
    run = Run.objects.get()
    assert (run.submission.learner, run.submission.params) == (learner, {"epochs": 5, "lr": 0.5})
