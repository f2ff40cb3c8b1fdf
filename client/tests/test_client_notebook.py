"""submit() from a notebook: which cells are sent, and that the platform's own conversion reads them."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from conftest import FakePlatform, json_reply

import academy_client
from academy_client import submission
from academy_client._platform.contract import check_source, notebook_to_source
from academy_client.errors import UsageError
from academy_client.notebook import cells_to_notebook, ipython_shell, notebook_cells

CELLS = [
    "",  # IPython's placeholder for In[0]
    "%matplotlib inline\nimport torch",
    "from academy_client import submit",
    "def train(data, run):\n    !nvidia-smi\n    return None",
    "x = 1\nx?",
    "   ",
    "def predict(model, x):\n    return x[:, 0]",
    'submit("tiny")',  # the running cell
]


class FakeShell:
    def __init__(self, raw: list[str] | None = None, transformed: list[str] | None = None) -> None:
        self.history_manager = types.SimpleNamespace(input_hist_raw=raw or [])
        self.user_ns = {"In": transformed or []}


@pytest.fixture
def in_ipython(monkeypatch: pytest.MonkeyPatch) -> FakeShell:
    """A fake ``IPython`` module whose ``get_ipython()`` is a shell that ran ``CELLS``."""
    shell = FakeShell(CELLS)
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    return shell


def test_the_cells_run_so_far_are_taken_without_the_clients_own(in_ipython: FakeShell) -> None:
    assert notebook_cells(in_ipython) == [CELLS[1], CELLS[3], CELLS[4], CELLS[6]]


def test_a_cell_that_calls_submit_inside_a_function_is_left_out() -> None:
    shell = FakeShell(["", "def go():\n    result = submit('tiny')", "y = 2", "go()"])
    assert notebook_cells(shell) == ["y = 2"]


def test_the_platform_drops_the_magics_of_the_notebook_sent(in_ipython: FakeShell) -> None:
    code, notes = notebook_to_source(cells_to_notebook(notebook_cells(in_ipython)))  # the platform's own function
    assert check_source(code) == []
    assert "%matplotlib" not in code and "!nvidia-smi" not in code and "x?" not in code
    assert any("%matplotlib inline" in note for note in notes)
    assert "    pass" in code  # the shell escape inside train became `pass`, so train stays valid


def test_without_a_history_manager_the_transformed_input_is_used() -> None:
    shell = types.SimpleNamespace(
        user_ns={
            "In": [
                "",
                "get_ipython().run_line_magic('time', '')\nimport torch",
                "def f():\n    get_ipython().system('ls')",
                "now",
            ]
        }
    )
    assert notebook_cells(shell) == ["\nimport torch", "def f():\n    pass"]


def test_outside_ipython_there_is_no_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    assert ipython_shell() is None


@pytest.mark.usefixtures("config_file")
def test_submit_outside_a_notebook_needs_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    with pytest.raises(UsageError, match="outside IPython, pass file="):
        academy_client.submit("tiny", url="http://127.0.0.1:9", token="t")


def test_submit_sends_the_notebook_follows_the_run_and_returns_it(
    in_ipython: FakeShell, signed_in: FakePlatform, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(submission, "POLL_FIRST", 0.01)
    monkeypatch.setattr(submission, "TICK", 0.01)
    final: dict[str, Any] = {"id": 5, "state": "succeeded", "score": 0.9, "passed": True, "curve": [], "url": "/r/5/"}
    signed_in.json("GET", "/api/v1/labs/tiny/", 200, {"slug": "tiny", "wall_seconds": 10})
    signed_in.route("POST", "/api/v1/labs/tiny/submissions/", json_reply(201, {**final, "state": "queued"}))
    signed_in.json("GET", "/api/v1/runs/5/", 200, final)
    run = academy_client.submit("tiny", params={"epochs": 3})
    assert run == final
    upload = next(r for r in signed_in.requests if r.method == "POST")
    assert b'filename="notebook.ipynb"' in upload.body
    assert b"from academy_client" not in upload.body
    assert "[succeeded]" in capsys.readouterr().err  # plain lines: the fake shell is no Jupyter kernel


def test_submit_of_a_file_from_python(signed_in: FakePlatform, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    path = tmp_path / "mine.py"
    path.write_text("def train(d, r): pass\ndef predict(m, x): return x\n")
    signed_in.json("GET", "/api/v1/labs/tiny/", 200, {"slug": "tiny"})
    signed_in.json("POST", "/api/v1/labs/tiny/submissions/", 201, {"id": 6, "state": "queued", "curve": []})
    run = academy_client.submit("tiny", file=str(path), wait=False)
    assert run["id"] == 6
    assert b'filename="mine.py"' in signed_in.requests[-1].body


def test_the_notebook_is_valid_nbformat_4() -> None:
    notebook = json.loads(cells_to_notebook(["a = 1"]))
    assert notebook["nbformat"] == 4
    assert notebook["cells"][0] == {
        "cell_type": "code",
        "id": "cell-1",
        "metadata": {},
        "execution_count": None,
        "outputs": [],
        "source": "a = 1",
    }
