"""The ``academy`` command against a stand-in platform: what it sends, prints and exits with."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import FakePlatform, Request, json_reply

from academy_client import submission
from academy_client.cli import main
from academy_client.config import config_load
from academy_client.submission import param_parse

LAB = {
    "slug": "tiny",
    "title": "Tiny lab",
    "description": "Classify **points**.",
    "metric": "accuracy",
    "higher_is_better": True,
    "threshold": 0.8,
    "device_class": "cpu",
    "params": {"epochs": {"type": "int", "default": 5, "min": 1, "max": 50}},
    "wall_seconds": 30,
    "memory_mb": 1024,
    "submissions_per_day": 5,
    "starter_code": "def train(data, run):\n    pass\n\ndef predict(model, x):\n    return x[:, 0]\n",
}
SOLUTION = "def train(data, run):\n    return None\n\n\ndef predict(model, x):\n    return x[:, 0]\n"


def run_object(state: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": 12,
        "lab": "tiny",
        "state": state,
        "reason": "",
        "metric": "accuracy",
        "score": None,
        "threshold": 0.8,
        "passed": None,
        "curve": [],
        "url": "/labs/runs/12/",
        **extra,
    }


@pytest.fixture
def fast_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(submission, "POLL_FIRST", 0.01)
    monkeypatch.setattr(submission, "TICK", 0.01)


@pytest.fixture
def solution(tmp_path: Path) -> Path:
    path = tmp_path / "solution.py"
    path.write_text(SOLUTION)
    return path


def states_then(platform: FakePlatform, *runs: dict[str, Any]) -> None:
    """GET runs/12/ answers each of ``runs`` in turn, then the last one again."""
    answers = list(runs)
    platform.route(
        "GET", "/api/v1/runs/12/", lambda r: json_reply(200, answers.pop(0) if len(answers) > 1 else answers[0])
    )


# --- exit statuses ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("epochs=5", ("epochs", 5)),
        ("lr=1e-3", ("lr", 0.001)),
        ("flag=true", ("flag", True)),
        ("name=resnet", ("name", "resnet")),
        ("expr=a=b", ("expr", "a=b")),
        ("x=NaN", ("x", "NaN")),
        ('cfg={"a": 1}', ("cfg", {"a": 1})),
        ("empty=", ("empty", "")),
    ],
)
def test_params_are_json_when_they_can_be_else_text(text: str, expected: tuple[str, Any]) -> None:
    assert param_parse(text) == expected


@pytest.mark.usefixtures("config_file")
@pytest.mark.parametrize("argv", [["submit", "tiny"], ["bogus"], ["runs", "--limit", "many"], []])
def test_usage_errors_exit_3(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 3
    assert "error" in capsys.readouterr().err


@pytest.mark.usefixtures("config_file")
def test_param_without_a_name_exits_3(solution: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["submit", "tiny", str(solution), "--param", "noequals", "--url", "http://127.0.0.1:9"]) == 3
    assert "--param expects name=value" in capsys.readouterr().err


def test_help_lists_the_exit_statuses(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["submit", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "2  rejected" in out and "3  usage, connection or authentication error" in out


def test_not_signed_in_exits_3(config_file: Path, solution: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["submit", "tiny", str(solution), "--url", "http://127.0.0.1:9"]) == 3
    assert "not signed in to http://127.0.0.1:9: run academy login" in capsys.readouterr().err


def test_connection_refused_exits_3(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from academy_client.config import config_save

    config_save({"url": "http://127.0.0.1:9", "token": "t"}, config_file)
    assert main(["labs"]) == 3
    assert "connection refused" in capsys.readouterr().err


def test_a_revoked_token_exits_3_and_says_to_log_in(
    signed_in: FakePlatform, capsys: pytest.CaptureFixture[str]
) -> None:
    signed_in.json("GET", "/api/v1/labs/", 401, {"detail": "Invalid token."})
    assert main(["labs"]) == 3
    assert "your token is invalid or revoked: run academy login" in capsys.readouterr().err


# --- login, logout --------------------------------------------------------------------------------


def test_login_creates_a_named_token_checks_it_and_stores_it(
    platform: FakePlatform, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    platform.json("POST", "/api/v1/auth/token/", 200, {"token": "n3w"})
    platform.json("GET", "/api/v1/me/", 200, {"username": "lena"})
    assert main(["login", "--url", platform.url + "/", "--username", "lena", "--password", "pw"]) == 0
    sent = json.loads(platform.requests[0].body)
    assert sent["username"] == "lena" and sent["password"] == "pw"
    assert sent["name"].startswith("academy CLI on ")
    assert platform.requests[1].headers["Authorization"] == "Token n3w"
    assert config_load(config_file) == {"url": platform.url, "token": "n3w"}
    assert f"signed in to {platform.url} as lena" in capsys.readouterr().err


def test_login_with_wrong_credentials_exits_3(platform: FakePlatform, config_file: Path, capsys) -> None:
    platform.json("POST", "/api/v1/auth/token/", 400, {"non_field_errors": ["Unable to log in."]})
    assert main(["login", "--url", platform.url, "-u", "lena", "-p", "bad"]) == 3
    assert "sign-in refused: Unable to log in." in capsys.readouterr().err
    assert not config_file.exists()


def test_login_with_a_token_only_checks_it(platform: FakePlatform, config_file: Path) -> None:
    platform.json("GET", "/api/v1/me/", 200, {"username": "lena"})
    assert main(["login", "--url", platform.url, "--token", "given"]) == 0
    assert [r.path for r in platform.requests] == ["/api/v1/me/"]
    assert config_load(config_file)["token"] == "given"


def test_login_refuses_to_prompt_without_a_terminal(
    platform: FakePlatform, config_file: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: False, raising=False)
    assert main(["login", "--url", platform.url, "--username", "lena"]) == 3
    assert "no terminal" in capsys.readouterr().err


def test_login_prompts_with_getpass(platform: FakePlatform, config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    platform.json("POST", "/api/v1/auth/token/", 200, {"token": "n3w"})
    platform.json("GET", "/api/v1/me/", 200, {"username": "lena"})
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    monkeypatch.setattr("builtins.input", lambda prompt: "lena")
    monkeypatch.setattr("getpass.getpass", lambda prompt: "typed")
    assert main(["login", "--url", platform.url]) == 0
    assert json.loads(platform.requests[0].body)["password"] == "typed"


def test_logout_removes_the_token(signed_in: FakePlatform, config_file: Path) -> None:
    assert main(["logout"]) == 0
    assert not config_file.exists()


# --- labs, pull -----------------------------------------------------------------------------------


def test_labs_prints_a_table(signed_in: FakePlatform, capsys: pytest.CaptureFixture[str]) -> None:
    signed_in.json("GET", "/api/v1/labs/", 200, {"count": 1, "next": None, "results": [LAB]})
    assert main(["labs"]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split() == ["slug", "title", "metric", "threshold", "device"]
    assert row.split() == ["tiny", "Tiny", "lab", "accuracy", "≥", "0.8", "cpu"]


def test_pull_writes_the_starter_the_readme_and_checked_data(
    signed_in: FakePlatform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    import hashlib

    data = b"PK fake npz"
    signed_in.json("GET", "/api/v1/labs/tiny/", 200, LAB)
    signed_in.route(
        "GET", "/api/v1/labs/tiny/data/", (200, {"X-Dataset-SHA256": hashlib.sha256(data).hexdigest()}, data)
    )
    monkeypatch.chdir(tmp_path)
    assert main(["pull", "tiny"]) == 0
    assert Path("tiny/solution.py").read_text() == LAB["starter_code"]
    assert "Classify **points**." in Path("tiny/README.md").read_text()
    assert Path("tiny/data.npz").read_bytes() == data
    assert "checked" in capsys.readouterr().err
    Path("tiny/solution.py").write_text("my work")
    assert main(["pull", "tiny"]) == 0
    assert Path("tiny/solution.py").read_text() == "my work"  # never overwritten without --force
    assert main(["pull", "tiny", "--force"]) == 0
    assert Path("tiny/solution.py").read_text() == LAB["starter_code"]


def test_pull_says_when_the_platform_offers_no_data(
    signed_in: FakePlatform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    signed_in.json("GET", "/api/v1/labs/tiny/", 200, LAB)
    monkeypatch.chdir(tmp_path)
    assert main(["pull", "tiny"]) == 3
    assert "does not offer this lab's data" in capsys.readouterr().err
    assert Path("tiny/solution.py").exists()


# --- submit ---------------------------------------------------------------------------------------


def multipart_fields(request: Request) -> dict[str, bytes]:
    from test_client_http import parse_multipart

    parts = parse_multipart(request.body, request.headers["Content-Type"])
    return {part.get_param("name", header="content-disposition"): part.get_payload(decode=True) for part in parts}


@pytest.mark.usefixtures("fast_polling")
def test_submit_wait_json_passes_with_exit_0_and_submit_labs_object_last(
    signed_in: FakePlatform, solution: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    signed_in.json("GET", "/api/v1/labs/tiny/", 200, LAB)
    signed_in.json("POST", "/api/v1/labs/tiny/submissions/", 201, run_object("queued"))
    curve = [{"step": 1, "t": 0.1, "metrics": {"loss": 0.5, "val_accuracy": 0.9}}]
    states_then(
        signed_in,
        run_object("running", curve=curve),
        run_object("succeeded", curve=curve, score=0.93, passed=True),
    )
    code = main(["submit", "tiny", str(solution), "--param", "epochs=7", "--param", "tag=x", "--wait", "--json"])
    out, err = capsys.readouterr()
    assert code == 0
    assert json.loads(out.strip().splitlines()[-1]) == {
        "run": 12,
        "state": "succeeded",
        "reason": None,
        "metric": "accuracy",
        "score": 0.93,
        "threshold": 0.8,
        "passed": True,
    }
    assert "[running]" in err and "step 1: loss=0.5 val_accuracy=0.9" in err
    upload = next(r for r in signed_in.requests if r.method == "POST")
    fields = multipart_fields(upload)
    assert fields["file"] == SOLUTION.encode()
    assert json.loads(fields["params"]) == {"epochs": 7, "tag": "x"}


@pytest.mark.usefixtures("fast_polling")
def test_submit_wait_not_passed_exits_1(signed_in: FakePlatform, solution: Path, capsys) -> None:
    signed_in.json("GET", "/api/v1/labs/tiny/", 200, LAB)
    signed_in.json("POST", "/api/v1/labs/tiny/submissions/", 201, run_object("queued"))
    states_then(signed_in, run_object("failed", reason="error: ValueError: bad shapes"))
    assert main(["submit", "tiny", str(solution), "--wait"]) == 1
    assert capsys.readouterr().out.strip() == "run 12: failed, accuracy — (not passed)"


@pytest.mark.usefixtures("fast_polling")
def test_submit_gives_up_after_its_timeout_with_exit_1(signed_in: FakePlatform, solution: Path, capsys) -> None:
    signed_in.json("GET", "/api/v1/labs/tiny/", 200, LAB)
    signed_in.json("POST", "/api/v1/labs/tiny/submissions/", 201, run_object("queued"))
    states_then(signed_in, run_object("running"))
    assert main(["submit", "tiny", str(solution), "--wait", "--json", "--timeout", "0.2"]) == 1
    out, err = capsys.readouterr()
    assert json.loads(out)["state"] == "running" and "gave up waiting" in err


def test_submit_without_wait_exits_0_once_queued(signed_in: FakePlatform, solution: Path, capsys) -> None:
    signed_in.json("GET", "/api/v1/labs/tiny/", 200, LAB)
    signed_in.json("POST", "/api/v1/labs/tiny/submissions/", 201, run_object("queued"))
    assert main(["submit", "tiny", str(solution)]) == 0
    assert "run 12 queued: " + signed_in.url + "/labs/runs/12/" in capsys.readouterr().err
    assert "params" not in multipart_fields(signed_in.requests[-1])  # none given: the lab's defaults


def test_a_rejected_submission_exits_2_with_the_platforms_errors(
    signed_in: FakePlatform, solution: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    signed_in.json("GET", "/api/v1/labs/tiny/", 200, LAB)
    signed_in.json("POST", "/api/v1/labs/tiny/submissions/", 400, {"errors": ["Line 2: syntax error: bad"]})
    assert main(["submit", "tiny", str(solution)]) == 2
    assert "submission rejected:\n  Line 2: syntax error: bad" in capsys.readouterr().err


def test_the_daily_quota_and_the_rate_limit_exit_2(signed_in: FakePlatform, solution: Path, capsys) -> None:
    signed_in.json("GET", "/api/v1/labs/tiny/", 200, LAB)
    signed_in.json("POST", "/api/v1/labs/tiny/submissions/", 429, {"detail": "Too many submissions."})
    assert main(["submit", "tiny", str(solution)]) == 2
    assert "Too many submissions." in capsys.readouterr().err


def test_an_unknown_lab_is_a_rejection_as_for_submit_lab(signed_in: FakePlatform, solution: Path) -> None:
    assert main(["submit", "nope", str(solution)]) == 2


def test_a_missing_file_exits_3(signed_in: FakePlatform, tmp_path: Path) -> None:
    assert main(["submit", "tiny", str(tmp_path / "absent.py")]) == 3


# --- runs, logs, download -------------------------------------------------------------------------


def test_runs_filters_by_lab(signed_in: FakePlatform, capsys: pytest.CaptureFixture[str]) -> None:
    runs = [run_object("succeeded", id=3, score=0.9, passed=True), {**run_object("failed", id=2), "lab": "other"}]
    signed_in.json("GET", "/api/v1/runs/", 200, {"count": 2, "next": None, "results": runs})
    assert main(["runs", "--lab", "tiny"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[1].split()[:5] == ["3", "tiny", "succeeded", "0.9000", "yes"]


def test_logs_prints_the_full_log(signed_in: FakePlatform, capsys: pytest.CaptureFixture[str]) -> None:
    signed_in.json("GET", "/api/v1/runs/12/", 200, run_object("succeeded"))
    signed_in.route("GET", "/api/v1/runs/12/log/", (200, {"Content-Type": "text/plain"}, b"epoch 1\nepoch 2\n"))
    assert main(["logs", "12"]) == 0
    assert capsys.readouterr().out == "epoch 1\nepoch 2\n"


def test_logs_falls_back_to_the_runs_log_tail(signed_in: FakePlatform, capsys: pytest.CaptureFixture[str]) -> None:
    signed_in.json("GET", "/api/v1/runs/12/", 200, run_object("failed", log="Traceback …"))
    assert main(["logs", "12"]) == 0
    out, err = capsys.readouterr()
    assert out == "Traceback …" and "the end of it" in err


def test_logs_of_an_unknown_run_exits_3(signed_in: FakePlatform) -> None:
    assert main(["logs", "99"]) == 3


def test_download_writes_what_there_is_and_names_what_is_missing(
    signed_in: FakePlatform, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    artifacts = {"weights": None, "log": "/api/v1/runs/12/log/", "metrics": "/api/v1/runs/12/metrics.csv"}
    signed_in.json("GET", "/api/v1/runs/12/", 200, run_object("succeeded", artifacts=artifacts))
    signed_in.route("GET", "/api/v1/runs/12/log/", (200, {}, b"the log"))
    signed_in.route("GET", "/api/v1/runs/12/metrics.csv", (200, {}, b"step,loss\n1,0.5\n"))
    assert main(["download", "12", "--dir", str(tmp_path)]) == 0
    assert (tmp_path / "run-12-log.txt").read_bytes() == b"the log"
    assert (tmp_path / "run-12-metrics.csv").read_bytes() == b"step,loss\n1,0.5\n"
    assert not (tmp_path / "run-12-model.pt").exists()
    assert "not available for run 12: weights" in capsys.readouterr().err


def test_download_with_nothing_to_fetch_exits_1(signed_in: FakePlatform, tmp_path: Path) -> None:
    signed_in.json("GET", "/api/v1/runs/12/", 200, run_object("failed"))  # no artifacts, endpoints all 404
    assert main(["download", "12", "--dir", str(tmp_path / "out")]) == 1
    assert list((tmp_path / "out").iterdir()) == []
