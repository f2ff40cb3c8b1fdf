"""What the lab page says when a submission is refused, and what the run page shows: every field's
error beside it, parameters as name = value, plain state words, no empty curve box for a run that ended
without points."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.test.html import parse_html

from core.models import User
from labs import services
from labs.forms import SubmitForm
from labs.models import Lab, Run, RunState, Submission
from tests.labs.conftest import VALID_CODE

# One refused value per field of the submit form, and the message Django gives for it.
BAD_FIELDS = {
    "code": ("def train(data, run):\x00", "Null characters are not allowed."),
    "upload": (SimpleUploadedFile("solution.py", b""), "The submitted file is empty."),
    "param_epochs": ("many", "Enter a whole number."),
    "param_lr": ("fast", "Enter a number."),
}


def field_errors(html: str, name: str, message: str) -> bool:
    """The field's error list, where its widget's aria-describedby points, read out as an alert."""
    attrs = f'class="errorlist" id="id_{name}_error" role="alert" data-testid="{name}-errors"'
    expected = f"<ul {attrs}><li>{message}</li></ul>"
    return parse_html(expected) in parse_html(html)


@pytest.mark.django_db
def test_an_empty_upload_is_a_400_that_says_why_beside_the_upload_field(
    client: Client, learner: User, lab: Lab
) -> None:
    client.force_login(learner)
    response = client.post("/labs/tiny/", {"upload": SimpleUploadedFile("solution.py", b"")})
    html = response.content.decode()
    assert response.status_code == 400
    assert field_errors(html, "upload", "The submitted file is empty.")
    assert 'aria-describedby="id_upload_error"' in html
    assert not Run.objects.exists()


@pytest.mark.parametrize("name", sorted(BAD_FIELDS))
@pytest.mark.django_db
def test_every_field_of_the_submit_form_shows_its_own_error(client: Client, learner: User, lab: Lab, name: str) -> None:
    fields = SubmitForm(lab=lab).fields
    refusable = {name for name, f in fields.items() if f.required or not isinstance(f, forms.BooleanField)}
    assert set(BAD_FIELDS) == refusable  # a new field that can refuse a value needs its case here
    value, message = BAD_FIELDS[name]
    client.force_login(learner)
    response = client.post("/labs/tiny/", {"code": VALID_CODE, name: value})
    assert response.status_code == 400
    assert field_errors(response.content.decode(), name, message)


@pytest.mark.django_db
def test_a_parameter_field_is_described_by_its_range_and_its_error(client: Client, learner: User, lab: Lab) -> None:
    client.force_login(learner)
    html = client.post("/labs/tiny/", {"code": VALID_CODE, "param_epochs": "many"}).content.decode()
    assert 'aria-describedby="id_param_epochs_helptext id_param_epochs_error"' in html
    assert 'id="id_param_epochs_helptext">between 1 and 50</span>' in html


def curve_box_hidden(html: str) -> bool:
    [tag] = re.findall(r'<div [^>]*id="curve-box"[^>]*>', html)
    return re.search(r"\shidden[\s>]", tag) is not None


def finished_run(learner: User, lab: Lab, **fields: object) -> Run:
    run = services.submission_create(learner=learner, lab=lab, source="web", code=VALID_CODE)
    Run.objects.filter(pk=run.pk).update(**fields)
    return Run.objects.get(pk=run.pk)


@pytest.mark.django_db
def test_parameters_show_as_name_equals_json_value_rows(client: Client, learner: User, lab: Lab) -> None:
    run = finished_run(learner, lab, state=RunState.SUCCEEDED, score=0.5, passed=False)
    # Values the lab's number parameters cannot hold today, as a future or an older parameter type would.
    Submission.objects.filter(pk=run.submission_id).update(params={"epochs": 5, "augment": True, "schedule": None})
    client.force_login(learner)
    html = client.get(run.get_absolute_url()).content.decode()
    rows = "".join(f"<li><code>{row}</code></li>" for row in ("augment = true", "epochs = 5", "schedule = null"))
    assert parse_html(f'<ul class="param-list">{rows}</ul>') in parse_html(html)
    assert "&#x27;augment&#x27;: True" not in html  # not the Python dict


@pytest.mark.django_db
def test_a_run_without_parameters_shows_a_dash(client: Client, learner: User, lab: Lab) -> None:
    run = finished_run(learner, lab, state=RunState.SUCCEEDED, score=0.5, passed=False)
    Submission.objects.filter(pk=run.submission_id).update(params={})
    client.force_login(learner)
    html = client.get(run.get_absolute_url()).content.decode()
    assert '<td data-testid="run-params">—</td>' in html


@pytest.mark.django_db
def test_a_scored_run_that_did_not_pass_reads_finished_not_succeeded(client: Client, learner: User, lab: Lab) -> None:
    run = finished_run(learner, lab, state=RunState.SUCCEEDED, score=0.5, passed=False)
    client.force_login(learner)
    html = client.get(run.get_absolute_url()).content.decode()
    assert 'data-state="succeeded">finished</span>' in html  # the code stays; the word changes
    assert '<span class="badge not-passed">not passed</span>' in html
    progress = client.get(f"/labs/runs/{run.pk}/progress.json").json()
    assert (progress["state"], progress["state_label"]) == ("succeeded", "finished")


@pytest.mark.django_db
def test_a_run_that_ended_without_points_shows_a_line_not_an_empty_curve_box(
    client: Client, learner: User, lab: Lab
) -> None:
    run = finished_run(learner, lab, state=RunState.FAILED, reason="error: ValueError")
    client.force_login(learner)
    html = client.get(run.get_absolute_url()).content.decode()
    assert curve_box_hidden(html)
    assert "This run logged no points." in html
    assert "Points appear here" not in html


@pytest.mark.parametrize(
    ("state", "curve"),
    [(RunState.RUNNING, []), (RunState.SUCCEEDED, [{"step": 0, "t": 0.1, "metrics": {"loss": 1.0}}])],
)
@pytest.mark.django_db
def test_a_live_run_or_one_with_points_keeps_the_curve_box(
    client: Client, learner: User, lab: Lab, state: str, curve: list[dict[str, object]]
) -> None:
    run = finished_run(learner, lab, state=state, curve=curve)
    client.force_login(learner)
    html = client.get(run.get_absolute_url()).content.decode()
    assert not curve_box_hidden(html)
    assert "Points appear here as your code calls run.log(step, ...)." in html


@pytest.mark.django_db
def test_the_run_page_hands_the_chart_its_translated_words(client: Client, learner: User, lab: Lab) -> None:
    run = finished_run(learner, lab, state=RunState.RUNNING)
    client.force_login(learner)
    html = client.get(run.get_absolute_url()).content.decode()
    assert 'data-label-step="step"' in html
    assert 'data-label-no-points="This run logged no points."' in html


@pytest.mark.parametrize(
    ("state", "words"), [(RunState.SUCCEEDED, "This run printed nothing."), (RunState.RUNNING, "Nothing printed yet.")]
)
@pytest.mark.django_db
def test_an_empty_log_says_so_instead_of_an_empty_box(
    client: Client, learner: User, lab: Lab, state: str, words: str
) -> None:
    run = finished_run(learner, lab, state=state)
    client.force_login(learner)
    html = client.get(run.get_absolute_url()).content.decode()
    assert f'data-empty="{words}"></pre>' in html  # shown by the stylesheet while the box is empty
    assert 'data-label-no-output="This run printed nothing."' in html  # for a live run that ends
