"""How much of the trained weights a run keeps (``labs.artifacts.weights_max_mb``) is told where a learner
submits: on the lab page, with a box to keep none, and in the lab API."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from core.models import User
from labs.models import Lab, Run
from tests.labs.conftest import VALID_CODE

pytestmark = pytest.mark.django_db
NOTE = "Your trained weights (up to {mb} MB) are saved with the run; you can download them from the run page."


def _page(client: Client, learner: User) -> str:
    client.force_login(learner)
    return client.get("/labs/tiny/").content.decode()


def test_the_lab_page_tells_the_cap_and_offers_to_keep_no_weights(client: Client, learner: User, lab: Lab) -> None:
    html = _page(client, learner)
    assert NOTE.format(mb=50) in html  # the default cap
    assert 'type="checkbox" name="skip_weights"' in html and 'aria-describedby="id_skip_weights_helptext"' in html
    assert "Don&#x27;t save the trained weights of this run" in html
    assert "From the API or the academy command: save_weights=false." in html


def test_the_cap_shown_is_the_one_a_run_gets_never_above_the_disk_limit(
    client: Client, learner: User, lab: Lab
) -> None:
    Lab.objects.filter(pk=lab.pk).update(artifact_max_mb=500, disk_mb=100)
    assert NOTE.format(mb=100) in _page(client, learner)


def test_a_lab_that_keeps_no_weights_says_so_and_offers_no_box(client: Client, learner: User, lab: Lab) -> None:
    Lab.objects.filter(pk=lab.pk).update(artifact_max_mb=0)
    html = _page(client, learner)
    assert "This lab keeps no trained weights; a run keeps its log and metrics." in html
    assert "skip_weights" not in html and "up to 0 MB" not in html


@pytest.mark.parametrize(("form", "kept"), [({}, True), ({"skip_weights": "on"}, False)])
def test_ticking_the_box_submits_with_save_weights_false(
    client: Client, learner: User, lab: Lab, form: dict[str, str], kept: bool
) -> None:
    client.force_login(learner)
    response = client.post("/labs/tiny/", {"code": VALID_CODE, "param_epochs": "4"} | form)
    run = Run.objects.get()
    assert response.url == run.get_absolute_url()
    assert run.submission.save_weights is kept
    assert run.submission.params == {"epochs": 4, "lr": 0.1}  # the choice is not a parameter of the code


def test_the_lab_api_gives_the_cap(api: APIClient, lab: Lab) -> None:
    assert api.get("/api/v1/labs/tiny/").json()["artifact_max_mb"] == 50
    assert api.get("/api/v1/labs/").json()["results"][0]["artifact_max_mb"] == 50
    Lab.objects.filter(pk=lab.pk).update(artifact_max_mb=500, disk_mb=100)
    assert api.get("/api/v1/labs/tiny/").json()["artifact_max_mb"] == 100


def test_the_openapi_schema_describes_the_cap(api: APIClient) -> None:
    schema = api.get("/api/schema/", {"format": "json"}).json()
    field = schema["components"]["schemas"]["Lab"]["properties"]["artifact_max_mb"]
    assert field["type"] == "integer" and field["readOnly"] is True and "save_weights=false" in field["description"]
