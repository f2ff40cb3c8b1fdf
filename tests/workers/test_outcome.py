"""How the supervisor decides a run's state and reason (pure logic, no sandbox)."""

from __future__ import annotations

import pytest

from workers.progress import EventReader, OutputCapture, ProgressBatcher
from workers.runner import _Watch, decide
from workers.sandbox import SandboxExit


def watch(**fields: object) -> _Watch:
    state = _Watch(OutputCapture(1024), EventReader(), ProgressBatcher(lambda _batch: None))
    state.go_sent = True
    state.user_code_started = True
    for key, value in fields.items():
        setattr(state, key, value)
    return state


def ended(exit_code: int, oom: int = 0, pids: int = 0) -> SandboxExit:
    return SandboxExit(exit_code=exit_code, oom_kills=oom, pids_limit_hits=pids)


@pytest.mark.parametrize(
    ("state", "facts", "ok", "problem", "expected"),
    [
        (watch(), ended(0), True, None, ("succeeded", None)),
        (watch(kill_reason="cancelled: by user"), ended(137), False, None, ("cancelled", "cancelled: by user")),
        (watch(kill_reason="limit: time"), ended(137, oom=1), False, None, ("timed_out", "limit: time")),
        (watch(kill_reason="limit: output"), ended(137), False, None, ("failed", "limit: output")),
        (watch(), ended(137, oom=2), False, None, ("failed", "limit: memory")),
        (watch(learner_failure="error: X"), ended(1, pids=4), False, None, ("failed", "limit: processes")),
        (watch(learner_failure="error: ValueError: x"), ended(1), False, None, ("failed", "error: ValueError: x")),
        (watch(), ended(0), False, "bad file", ("failed", "error: bad file")),
        (
            watch(),
            ended(0),
            False,
            None,
            ("failed", "error: the program exited with status 0 before writing predictions"),
        ),
        (watch(), ended(139), False, None, ("failed", "error: the program was killed by SIGSEGV")),
        # A success needs both the exit status and the supervisor's own check of the predictions.
        (
            watch(),
            ended(1),
            True,
            None,
            ("failed", "error: the program exited with status 1 before writing predictions"),
        ),
    ],
)
def test_decide(state: _Watch, facts: SandboxExit, ok: bool, problem: str | None, expected: tuple) -> None:
    assert decide(state, facts, ok, problem) == expected


def test_platform_failures_only_before_learner_code() -> None:
    early = watch(user_code_started=False)
    early._on_failure("platform: this run needs CUDA")
    assert decide(early, ended(1), False, None) == ("failed", "platform: this run needs CUDA")
    silent = watch(user_code_started=False, notes=["bwrap: setting up uid map: Permission denied"])
    state, reason = decide(silent, ended(1), False, None)
    assert state == "failed"
    assert reason.startswith("platform: the sandbox exited during start-up (status 1)")
    assert "Permission denied" in reason
    # Once learner code runs, it cannot blame the platform (which would spare its quota).
    late = watch()
    late._on_failure("platform: worker lost")
    assert decide(late, ended(1), False, None) == ("failed", "error: platform: worker lost")


def test_unavailable_dataset_is_a_platform_failure(tmp_path) -> None:
    from tests.workers.conftest import make_spec
    from workers.jobspec import DatasetRef
    from workers.runner import execute_job

    missing = DatasetRef(sha256="2" * 64, url=(tmp_path / "gone.npz").as_uri())
    result = execute_job(make_spec(GOOD_CODE, missing), on_progress=lambda _b: None, should_cancel=lambda: False)
    assert result.state == "failed"
    assert result.reason.startswith("platform: dataset unavailable: cannot fetch dataset")


def test_cancel_before_start_runs_nothing(dataset) -> None:
    from tests.workers.conftest import make_spec
    from workers.runner import execute_job

    result = execute_job(make_spec(GOOD_CODE, dataset), on_progress=lambda _b: None, should_cancel=lambda: True)
    assert (result.state, result.reason) == ("cancelled", "cancelled: by user")
    assert result.predictions is None


GOOD_CODE = "def train(data, run):\n    return None\n\ndef predict(model, x):\n    return [0] * len(x)\n"
