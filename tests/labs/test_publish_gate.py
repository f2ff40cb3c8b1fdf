"""The publish gate, end to end: an instructor's folder imports as a draft, its reference solution runs
on a real lab worker in the real sandbox, and only a passing reference publishes it; then a learner's own
solution is scored through the browser form, the API and submit_lab."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from rest_framework.test import APIClient

from core.models import User
from labs.models import Lab, Run, RunState, Submission
from labs.publishing import REFERENCE_USERNAME
from tests.conftest import REPO, test_database_url
from tests.labs.test_lab_folder import make_lab
from tests.labs.test_pipeline import wait_until_final

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

CENTROIDS = """
import torch

def train(data, run):
    centroids = torch.stack([data.x_train[data.y_train == c].mean(0) for c in range(data.num_classes)])
    run.log(0, val_accuracy=(torch.cdist(data.x_val, centroids).argmin(1) == data.y_val).float().mean())
    return centroids

def predict(model, x):
    return torch.cdist(x, model).argmin(1)
"""
ALWAYS_SETOSA = "def train(data, run):\n    return None\n\ndef predict(model, x):\n    return [0] * len(x)\n"


def test_publish_waits_for_a_passing_reference_and_learners_are_then_scored_three_ways(
    tmp_path: Path, learner: User, site_worker: subprocess.Popen, lab_worker: subprocess.Popen
) -> None:
    out = io.StringIO()
    call_command("import_lab", str(make_lab(tmp_path, files={"solution.py": CENTROIDS})), "--publish", stdout=out)
    lab = Lab.objects.get(slug="irises")
    assert lab.published and "irises: published (reference accuracy = 1)" in out.getvalue()
    reference = lab.reference_run
    assert (reference.state, reference.passed) == (RunState.SUCCEEDED, True)
    assert reference.submission.source == Submission.Source.REFERENCE
    assert reference.submission.learner.username == REFERENCE_USERNAME and not reference.submission.learner.is_active

    browser = Client()
    browser.force_login(learner)
    page = browser.post(f"/labs/{lab.slug}/", {"code": CENTROIDS, "param_epochs": "20"})
    assert page.status_code == 302
    api = APIClient()
    api.force_authenticate(learner)
    answer = api.post(f"/api/v1/labs/{lab.slug}/submissions/", {"code": ALWAYS_SETOSA}, format="json")
    assert answer.status_code == 201, answer.content
    (tmp_path / "mine.py").write_text(CENTROIDS)
    command = [sys.executable, "manage.py", "submit_lab", lab.slug, str(tmp_path / "mine.py")]
    cli = subprocess.run(
        [*command, "--user", learner.username, "--wait", "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": test_database_url()},
    )
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout.strip().splitlines()[-1])["score"] == 1.0
    runs = {run.submission.source: wait_until_final(run) for run in Run.objects.filter(submission__learner=learner)}
    assert {source: (run.state, run.score) for source, run in runs.items()} == {
        "web": (RunState.SUCCEEDED, 1.0),
        "api": (RunState.SUCCEEDED, pytest.approx(1 / 3)),
        "cli": (RunState.SUCCEEDED, 1.0),
    }


def test_a_reference_that_does_not_pass_keeps_the_lab_a_draft_and_says_why(
    tmp_path: Path, site_worker: subprocess.Popen, lab_worker: subprocess.Popen
) -> None:
    folder = make_lab(tmp_path, files={"solution.py": ALWAYS_SETOSA})
    with pytest.raises(CommandError) as raised:
        call_command("import_lab", str(folder), "--publish", stdout=io.StringIO())
    assert raised.value.returncode == 1
    lab = Lab.objects.get(slug="irises")
    message = str(raised.value)
    assert f"run {lab.reference_run_id} succeeded, accuracy = 0.3333 (threshold 0.9)" in message
    assert "the lab stays a draft" in message
    assert not lab.published and not lab.publish_requested
    failing = "def train(data, run):\n    raise ValueError('no')\n\n\ndef predict(model, x):\n    return x\n"
    broken = make_lab(tmp_path / "again", files={"solution.py": failing})
    with pytest.raises(CommandError, match=r"failed, no score, error: ValueError: no; the lab stays a draft"):
        call_command("import_lab", str(broken), "--publish", stdout=io.StringIO())
