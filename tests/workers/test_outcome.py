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


def ended(exit_code: int, oom: int = 0, pids: int = 0, limit_hits: int = 0) -> SandboxExit:
    return SandboxExit(exit_code=exit_code, oom_kills=oom, pids_limit_hits=pids, memory_limit_hits=limit_hits)


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


@pytest.mark.parametrize(
    ("state", "facts", "expected"),
    [
        # bwrap: the harness is pid 1 of its namespace; nothing inside can SIGKILL it.
        (watch(), ended(137, oom=1, limit_hits=1), ("failed", "limit: memory")),
        (watch(), ended(137, oom=1), ("failed", "platform: the node ran out of memory and the kernel killed the run")),
        (watch(), ended(137), ("failed", "platform: the sandbox was killed from outside (SIGKILL)")),
        (watch(kill_reason="limit: output"), ended(137), ("failed", "limit: output")),
        (watch(kill_reason="limit: time"), ended(137), ("timed_out", "limit: time")),
        (watch(), ended(139), ("failed", "error: the program was killed by SIGSEGV")),
    ],
)
def test_attribution_when_nothing_inside_can_kill_the_harness(
    state: _Watch, facts: SandboxExit, expected: tuple
) -> None:
    assert decide(state, facts, False, None, init_protected=True) == expected


def test_without_pid_namespace_a_sigkill_is_the_learner_s() -> None:
    # The development sandbox: learner code can SIGKILL itself, so it is charged as before.
    assert decide(watch(), ended(137), False, None) == ("failed", "error: the program was killed by SIGKILL")


@pytest.mark.parametrize(
    ("user_code_started", "expected"),
    [
        (True, "error: the program broke the runner's protocol (OverflowError)"),
        (False, "platform: the lab runner failed: OverflowError: int too large to convert to float"),
    ],
)
def test_a_supervisor_that_raises_still_ends_the_run_once_with_an_honest_reason(
    user_code_started: bool, expected: str, dataset, lab_dirs, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.workers.conftest import make_spec
    from workers import runner

    def broken_watch(sandbox, spec, state, should_cancel):
        state.go_sent = state.user_code_started = user_code_started
        raise OverflowError("int too large to convert to float")

    monkeypatch.setattr(runner, "_watch", broken_watch)
    spec = make_spec(GOOD_CODE, dataset)
    result = runner.execute_job(spec, on_progress=lambda _b: None, should_cancel=lambda: False)
    assert (result.state, result.reason) == ("failed", expected)
    assert [p.name for p in lab_dirs["jobs"].iterdir() if not p.name.startswith("warm-")] == []


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
