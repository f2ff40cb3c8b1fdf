"""The static lab contract: notebook conversion and source checks (nothing is executed)."""

from __future__ import annotations

import json

import pytest

from workers.contract import ContractError, ContractProblem, check_source, notebook_to_source

GOOD = "def train(data, run):\n    return 1\n\n\ndef predict(model, x):\n    return x\n"


def notebook(*cells: tuple[str, str | list[str]], nbformat: int = 4) -> bytes:
    if nbformat == 3:
        sheet = [{"cell_type": kind, "input": source} for kind, source in cells]
        return json.dumps({"nbformat": 3, "worksheets": [{"cells": sheet}]}).encode()
    return json.dumps(
        {"nbformat": 4, "cells": [{"cell_type": kind, "source": source, "metadata": {}} for kind, source in cells]}
    ).encode()


def test_code_cells_in_order_with_magics_dropped_and_noted() -> None:
    raw = notebook(
        ("markdown", "# My solution\n%not code"),
        ("code", ["%matplotlib inline\n", "import torch\n", "!pip install numpy\n"]),
        ("code", "%%time\nx = 1\n"),
        ("code", "%%bash\necho hi\n"),
        ("code", "files = !ls\nfor i in range(2):\n    %time f(i)\n" + GOOD),
        ("raw", "ignored"),
    )
    source, notes = notebook_to_source(raw)
    assert notes == [
        "cell 1, line 1: dropped IPython magic `%matplotlib inline`",
        "cell 1, line 3: dropped shell command `!pip install numpy`",
        "cell 2, line 1: dropped IPython cell magic `%%time`",
        "cell 3: dropped the whole cell: cell magic `%%bash` (its body is not Python)",
        "cell 4, line 1: dropped IPython magic assignment `files = !ls`",
        "cell 4, line 3: dropped IPython magic `%time f(i)`",
    ]
    assert "import torch" in source and "x = 1" in source
    assert "%" not in source.replace("# %% cell", "") and "!" not in source and "echo hi" not in source
    assert source.index("import torch") < source.index("x = 1") < source.index("def train")
    # The indented magic became `pass`, so the loop body is still valid Python.
    assert check_source(source) == []


def test_cell_markers_map_lines_back_to_cells() -> None:
    source, _ = notebook_to_source(notebook(("code", "a = 1"), ("code", "b = 2")))
    assert source == "# %% cell 1\na = 1\n\n# %% cell 2\nb = 2\n"


def test_nbformat_3_worksheets() -> None:
    source, notes = notebook_to_source(notebook(("code", GOOD), nbformat=3))
    assert notes == [] and check_source(source) == []


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{not json", "the notebook is not valid JSON: Expecting property name enclosed in double quotes"),
        (b"\xff\xfe\x00", "the notebook is not UTF-8 text"),
        (b"[1, 2]", "expected a JSON object at the top"),
        (b'{"metadata": {}}', "it has no 'cells' list"),
        (b'{"cells": [5]}', "cell 1 is not an object"),
        (b'{"cells": [{"cell_type": "code", "source": 5}]}', "cell 1 has no readable source"),
    ],
)
def test_unreadable_notebooks_raise_contract_error(raw: bytes, message: str) -> None:
    with pytest.raises(ContractError, match=message.replace("(", r"\(").replace(")", r"\)")):
        notebook_to_source(raw)


def test_good_source_has_no_problems() -> None:
    assert check_source(GOOD) == []
    assert check_source("def train(data, run, extra=1): ...\ndef predict(*args): ...\n") == []


def test_syntax_error_reports_line_and_message() -> None:
    problems = check_source("import torch\n\ndef train(data, run)\n    return 1\n")
    assert problems == [ContractProblem(3, "syntax error: expected ':'")]
    assert str(problems[0]) == "line 3: syntax error: expected ':'"


def test_indentation_error_line() -> None:
    (problem,) = check_source("def train(data, run):\nreturn 1\n")
    assert problem.line == 2 and problem.message.startswith("syntax error: expected an indented block")


def test_missing_train_and_predict() -> None:
    problems = check_source("import torch\nmodel = None\n")
    assert [p.message for p in problems] == [
        "no top-level function `train`: define `def train(data, run):`",
        "no top-level function `predict`: define `def predict(model, x):`",
    ]
    assert all(p.line is None for p in problems)


def test_functions_must_be_top_level_plain_and_take_two_parameters() -> None:
    code = (
        "class Solution:\n    def train(self, data, run): ...\nasync def predict(model, x): ...\ndef train(data): ...\n"
    )
    assert check_source(code) == [
        ContractProblem(4, "`train` must take at least 2 parameters: `def train(data, run):`"),
        ContractProblem(3, "`predict` must be a plain function, not `async def`"),
    ]
    assert check_source("def train(a, b, c): ...\ndef predict(m, x, *, k): ...\n") == [
        ContractProblem(1, "`train` must take at least 2 parameters: `def train(data, run):`"),
        ContractProblem(2, "`predict` must take at least 2 parameters: `def predict(model, x):`"),
    ]


def test_nul_bytes_are_reported_not_raised() -> None:
    (problem,) = check_source("def train(data, run): ...\x00")
    assert "cannot be parsed" in problem.message or "syntax error" in problem.message
