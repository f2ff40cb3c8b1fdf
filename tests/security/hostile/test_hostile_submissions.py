"""Hostile submissions through the real site worker, lab worker and bubblewrap sandbox.

Each file in ``attacks/`` is a valid lab submission (``train(data, run)``, ``predict(model, x)``)
that attacks the platform, with its expected outcome in its header:

- ``# expect-state:`` the run's final state;
- ``# expect-reason:`` (or ``# expect-reason-prefix:``) its exact reason (``{n_test}`` = test rows);
- ``# expect-log: CONTAINED``: the attack printed ``CONTAINED <how>`` for each refused attempt.
  Every attack prints ``ESCAPED <what>`` when an attempt works, and no log may contain that;
- ``# needs: cuda``: skipped without a CUDA device.

After every attack the test checks the host: no secret or hidden label in the log, curve,
reason or predictions; the test's own servers were never reached; its marker folder, /tmp and
/dev/shm are untouched; the job folder is gone; no sandbox process is left; the worker lives.
Then a normal solution runs on the same worker and must succeed with a score.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from django.test import Client
from django.urls import reverse

from core.models import User
from labs import run_events, services
from labs.models import DeviceClass, Lab, Run, RunState
from labs.scoring import score
from labs.validation import runs_counted_today
from tests.labs.test_pipeline import wait_until_final
from tests.security.hostile.conftest import N_TEST, HostSide, left_behind, sandbox_uids

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ATTACKS_DIR = Path(__file__).resolve().parent / "attacks"
HOST_LINE = "HOST = {}  # the test fills in the host's paths, ports and pids"

NORMAL_CODE = """
import os
import torch

def train(data, run):
    print("NORMAL uid", os.getuid())
    model = torch.nn.Linear(data.x_train.shape[1], data.num_classes)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(run.params["epochs"]):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(data.x_train.to(run.device)), data.y_train.to(run.device))
        loss.backward()
        optimizer.step()
        run.log(epoch, loss=loss)
    return model

def predict(model, x):
    return model(x.to(next(model.parameters()).device)).argmax(dim=1)
"""


@dataclass(frozen=True)
class Attack:
    name: str
    code: str
    state: str
    reason: str | None
    reason_prefix: str | None
    contained: bool
    needs_cuda: bool
    wall_seconds: int | None = None  # the lab's wall limit for this attack (a slow, thorough search)

    @classmethod
    def load(cls, path: Path) -> Attack:
        code = path.read_text()
        header: dict[str, str] = {}
        for line in code.splitlines():
            if not line.startswith("#"):
                break
            key, _, value = line.removeprefix("#").strip().partition(":")
            if key.startswith(("expect-", "needs", "limit-")):
                header[key] = value.strip()
        assert header.get("expect-state") in RunState.values, f"{path.name}: no valid '# expect-state:' line"
        return cls(
            name=path.stem,
            code=code,
            state=header["expect-state"],
            reason=header.get("expect-reason"),
            reason_prefix=header.get("expect-reason-prefix"),
            contained=header.get("expect-log") == "CONTAINED",
            needs_cuda=header.get("needs") == "cuda",
            wall_seconds=int(header["limit-wall-seconds"]) if "limit-wall-seconds" in header else None,
        )

    def code_for(self, host: dict) -> str:
        if HOST_LINE not in self.code:
            return self.code
        return self.code.replace(HOST_LINE, f"HOST = {host!r}", 1)


ATTACKS = [Attack.load(path) for path in sorted(ATTACKS_DIR.glob("*.py"))]


def cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def submit(learner: User, lab: Lab, code: str, timeout: float = 180) -> Run:
    run = services.submission_create(learner=learner, lab=lab, source="api", code=code)
    return wait_until_final(run, timeout=timeout)


# --- checks after an attack, beyond its header --------------------------------------------------


def _curve_names(run: Run) -> set[str]:
    return {name for point in run.curve for name in point["metrics"]}


def check_metric_flood(run: Run, **_: object) -> None:
    assert 1000 < len(run.curve) <= run_events.MAX_CURVE_POINTS
    assert _curve_names(run) <= {"loss", "forged"}


def check_forged_metrics(run: Run, host: HostSide, client: Client, **_: object) -> None:
    # The official score is the site's: all-zero predictions against the hidden labels.
    assert run.score == pytest.approx(score("accuracy", host.y_test, np.zeros(N_TEST)))
    assert run.score < 0.6 and run.passed is False
    names = _curve_names(run)
    assert "score" in names and "<script>alert('xss')</script>" in names  # kept, as text
    for name in names:
        assert name and name.isprintable() and len(name) <= 40, repr(name)
    assert not {"a", "as_string", "nested"} & names  # malformed raw events were dropped
    client.force_login(run.submission.learner)
    page = client.get(reverse("labs:run", args=[run.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "<script>alert('xss')" not in html and "<img src=x" not in html


def check_metric_names_flood(run: Run, **_: object) -> None:
    assert run.curve
    assert len(_curve_names(run)) <= run_events.MAX_CURVE_SERIES


def check_forged_platform_failure(run: Run, **_: object) -> None:
    assert run.attempt == 1  # not retried as a platform failure
    assert runs_counted_today(learner_id=run.submission.learner_id, lab=run.submission.lab) == 1


def check_forged_events(run: Run, host: HostSide, **_: object) -> None:
    assert run.score == pytest.approx(score("accuracy", host.y_test, np.zeros(N_TEST)))
    assert run.torch_version != "forged"


def check_output_flood(run: Run, **_: object) -> None:
    assert len(run.log) <= run_events.MAX_LOG_CHARS
    assert run.log.endswith("[lab runner] the program wrote far more output than the 262144 byte limit\n")


def check_double_fork_daemon(run: Run, **_: object) -> None:
    assert "daemon started, pid" in run.log


def check_private_tmp(run: Run, host: HostSide, **_: object) -> None:
    assert f"wrote /tmp/hostile-{host.token}" in run.log  # the write worked, in the sandbox's own /tmp


def check_events_huge_numbers(run: Run, **_: object) -> None:
    assert run.attempt == 1 and not run.reason  # no crash, no retry: the bad lines were dropped
    assert [point["metrics"]["loss"] for point in run.curve if "loss" in point["metrics"]]
    assert runs_counted_today(learner_id=run.submission.learner_id, lab=run.submission.lab) == 1


def check_nul_bytes_output(run: Run, **_: object) -> None:
    # Stored on PostgreSQL too (which refuses NUL): the score and the text around the bytes.
    assert run.attempt == 1 and run.score is not None
    for text in ("before", "after NUL", "binary:", " end", "emoji \U0001f600 and \u4e2d\u6587", "LAST LINE"):
        assert text in run.log, (text, run.log)
    assert "\x00" not in run.log
    assert all("\x00" not in name for point in run.curve for name in point["metrics"])


def check_find_hidden_rows(run: Run, **_: object) -> None:
    assert "searched" in run.log and "no test row of any lab" in run.log


def check_cleanup_symlinks(run: Run, **_: object) -> None:
    assert Path("/etc/passwd").is_file() and Path("/etc/hosts").is_file()  # /job/out/etc pointed here


EXTRA_CHECKS = {
    "metric_flood": check_metric_flood,
    "forged_metrics": check_forged_metrics,
    "metric_names_flood": check_metric_names_flood,
    "forged_platform_failure": check_forged_platform_failure,
    "forged_events": check_forged_events,
    "output_flood": check_output_flood,
    "double_fork_daemon": check_double_fork_daemon,
    "write_tmp_private": check_private_tmp,
    "cleanup_symlinks": check_cleanup_symlinks,
    "events_huge_numbers": check_events_huge_numbers,
    "nul_bytes_output": check_nul_bytes_output,
    "find_hidden_rows": check_find_hidden_rows,
}


def assert_host_untouched(run: Run, host: HostSide, markers_before: dict[str, bytes], worker_pid: int) -> None:
    stored = "\n".join([run.log, run.reason or "", json.dumps(run.curve), json.dumps(run.predictions)])
    for secret in host.secrets():
        assert secret not in stored, "a secret of the worker reached the run's stored data"
    if run.predictions is not None:
        assert run.predictions != host.y_test.astype(float).tolist(), "the hidden labels came out"
    assert host.contacts == [], f"a sandbox reached a server on the host: {host.contacts}"
    assert run.token not in stored, "the attempt's token is visible in the sandbox"
    assert host.marker_files() == markers_before, "the host's marker folder changed"
    for folder in ("/tmp", "/dev/shm", "/var/tmp"):
        assert list(Path(folder).glob(f"hostile-{host.token}*")) == [], f"a file leaked into the host's {folder}"
    assert [p.name for p in host.jobs_dir.iterdir() if not p.name.startswith("warm-")] == [], "a job folder is left"
    assert left_behind(worker_pid) == []


@pytest.mark.parametrize("attack", ATTACKS, ids=[attack.name for attack in ATTACKS])
def test_hostile_submission_is_contained_and_the_worker_runs_the_next_solution(
    attack: Attack,
    hostile_lab: Lab,
    learner: User,
    host_side: HostSide,
    site_worker: subprocess.Popen,
    lab_worker: subprocess.Popen,
    client: Client,
) -> None:
    if attack.needs_cuda:
        if not cuda_available():
            pytest.skip("no CUDA device on this machine")
        hostile_lab.device_class = DeviceClass.GPU
        hostile_lab.save(update_fields=["device_class"])
    if attack.wall_seconds:
        hostile_lab.wall_seconds = attack.wall_seconds
        hostile_lab.save(update_fields=["wall_seconds"])
    markers_before = host_side.marker_files()
    dataset_file = str(host_side.dataset_dir / hostile_lab.dataset.file_name)

    run = submit(learner, hostile_lab, attack.code_for(host_side.for_attack(dataset_file=dataset_file)), timeout=900)

    outcome = f"{run.state} {run.reason!r}\n{run.log[-3000:]}"
    assert run.state == attack.state, outcome
    if attack.reason is not None:
        assert run.reason == attack.reason.format(n_test=N_TEST), outcome
    if attack.reason_prefix is not None:
        assert (run.reason or "").startswith(attack.reason_prefix), outcome
    if attack.state == RunState.SUCCEEDED:
        assert run.score is not None, outcome
    assert "ESCAPED" not in run.log, outcome
    if attack.contained:
        assert "CONTAINED" in run.log, outcome
    assert run.sandbox == "bwrap", run.sandbox
    assert_host_untouched(run, host_side, markers_before, lab_worker.pid)
    if attack.name in EXTRA_CHECKS:
        EXTRA_CHECKS[attack.name](run=run, host=host_side, client=client)
    assert lab_worker.poll() is None and site_worker.poll() is None, "a worker died"

    normal = submit(learner, hostile_lab, NORMAL_CODE)
    assert normal.state == RunState.SUCCEEDED, f"{normal.reason}\n{normal.log[-3000:]}"
    assert normal.score is not None and normal.curve
    uid = int(normal.log.split("NORMAL uid", 1)[1].split()[0])
    assert uid in sandbox_uids()  # the slot whose processes left_behind() watches
    assert left_behind(lab_worker.pid) == []
