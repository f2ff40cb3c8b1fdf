"""A learner's journey with the ``academy`` command against the real site, broker, workers and sandbox.

The client runs as a learner runs it — its own process (``python -m academy_client``, the package
from ``client/`` on ``PYTHONPATH``, nothing installed), speaking HTTP to ``live_server``.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from core.models import User
from labs.demo_seed import demo_lab_seed
from labs.models import Run
from tests.conftest import REPO
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)
SLUG = "linear-regression"
SUBMIT_LAB_KEYS = ["run", "state", "reason", "metric", "score", "threshold", "passed"]  # manage.py submit_lab --json


class Academy:
    """``academy …`` in a subprocess, with a config file and a working folder of its own."""

    def __init__(self, home: Path) -> None:
        self.cwd = home / "work"
        self.cwd.mkdir(parents=True)
        self.config = home / "config" / "academy.json"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("ACADEMY_")}
        self.env |= {"PYTHONPATH": str(REPO / "client"), "ACADEMY_CONFIG": str(self.config), "HOME": str(home)}

    def __call__(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "academy_client", *args],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


@pytest.fixture
def academy(tmp_path: Path) -> Academy:
    return Academy(tmp_path)


def signed_in(academy: Academy, url: str, learner: User) -> None:
    result = academy("login", "--url", url, "--username", learner.username, "--password", PASSWORD)
    assert result.returncode == 0, result.stderr
    assert f"as {learner.username}" in result.stderr
    assert stat.S_IMODE(academy.config.stat().st_mode) == 0o600


def test_a_learner_signs_in_pulls_a_lab_and_passes_it_locally(
    academy: Academy, live_server: object, learner: User
) -> None:
    lab = demo_lab_seed(SLUG)
    signed_in(academy, live_server.url, learner)

    labs = academy("labs")
    assert labs.returncode == 0, labs.stderr
    assert any(line.split()[0] == SLUG for line in labs.stdout.splitlines()[1:])

    pull = academy("pull", SLUG)
    if "answered 404" in pull.stderr:
        pytest.skip("waits on GET /api/v1/labs/<slug>/data/ (the lab's public data)")
    assert pull.returncode == 0, pull.stderr
    folder = academy.cwd / SLUG
    assert (folder / "solution.py").read_text() == lab.starter_code
    assert "sha256" in pull.stderr and "checked" in pull.stderr
    assert lab.title_en in (folder / "README.md").read_text()

    mine = academy.cwd / "mine.py"
    shutil.copy(REPO / "labs/demo" / SLUG / "solution.py", mine)
    local = academy("test", SLUG, str(mine), "--json")
    assert local.returncode == 0, local.stderr
    result = json.loads(local.stdout.strip().splitlines()[-1])
    assert (result["split"], result["metric"], result["passed"]) == ("validation", "r2", True)
    assert "val_r2=" in local.stderr  # the live curve, from the harness's events

    starter = academy("test", SLUG, str(folder / "solution.py"), "--json")
    assert starter.returncode == 1, starter.stderr  # the starter runs, but does not pass
    assert json.loads(starter.stdout.strip().splitlines()[-1])["passed"] is False


@pytest.mark.worker
def test_a_learner_submits_follows_the_run_and_takes_its_files_home(
    academy: Academy,
    live_server: object,
    learner: User,
    site_worker: subprocess.Popen,
    lab_worker: subprocess.Popen,
) -> None:
    demo_lab_seed(SLUG)
    signed_in(academy, live_server.url, learner)
    mine = academy.cwd / "mine.py"
    mine.write_text((REPO / "labs/demo" / SLUG / "solution.py").read_text() + '\nprint("hello from mine.py")\n')

    submitted = academy("submit", SLUG, str(mine), "--param", "epochs=25", "--wait", "--json")
    assert submitted.returncode == 0, submitted.stderr
    summary = json.loads(submitted.stdout.strip().splitlines()[-1])
    assert list(summary) == SUBMIT_LAB_KEYS
    assert (summary["state"], summary["passed"], summary["metric"], summary["threshold"]) == (
        "succeeded",
        True,
        "r2",
        0.95,
    )
    assert "[queued]" in submitted.stderr and "step 25: loss=" in submitted.stderr  # no tty: plain lines
    run = Run.objects.select_related("submission").get(pk=summary["run"])
    assert run.submission.params["epochs"] == 25  # the multipart `params` JSON string was honoured
    assert run.submission.learner == learner

    runs = academy("runs", "--lab", SLUG)
    assert runs.returncode == 0, runs.stderr
    assert runs.stdout.splitlines()[1].split()[:3] == [str(run.pk), SLUG, "succeeded"]

    logs = academy("logs", str(run.pk))
    if "not available" in logs.stderr or logs.returncode != 0:
        pytest.skip("waits on GET /api/v1/runs/<id>/log/ (the full log)")
    assert "the end of it" not in logs.stderr  # the full log, not the run's tail
    assert "hello from mine.py" in logs.stdout

    download = academy("download", str(run.pk))
    if "not available" in download.stderr:
        pytest.skip(f"waits on the run's files: {download.stderr.strip().splitlines()[-1]}")
    assert download.returncode == 0, download.stderr
    files = {name: academy.cwd / f"run-{run.pk}-{name}" for name in ("model.pt", "log.txt", "metrics.csv")}
    assert files["model.pt"].read_bytes()[:2] == b"PK"  # torch.save's zip format
    assert "hello from mine.py" in files["log.txt"].read_text()
    header, *rows = files["metrics.csv"].read_text().splitlines()
    assert "step" in header and "val_r2" in header and len(rows) == 25

    wrong = academy("submit", SLUG, str(academy.cwd / "absent.py"))
    assert wrong.returncode == 3

    academy.env["ACADEMY_TOKEN"] = "not-a-token"
    refused = academy("runs")
    assert refused.returncode == 3
    assert "your token is invalid or revoked: run academy login" in refused.stderr
