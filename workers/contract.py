"""The lab contract, checked statically: what a submission must look like before it is queued.

Pure functions (standard library only), used by the site when a learner submits and by the
worker. Nothing here executes learner code: the checks read the syntax tree.

- ``notebook_to_source(raw)`` turns a Jupyter notebook into one Python file (its code cells in
  order) and lists what it had to drop: IPython line magics (``%...``), cell magics (``%%...``),
  shell escapes (``!...``) and ``name?`` help lines are not Python.
- ``check_source(code)`` lists the contract problems: a syntax error (with its line), or a
  missing/ill-formed top-level ``train(data, run)`` or ``predict(model, x)``.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from typing import Any

REQUIRED_FUNCTIONS = {"train": "train(data, run)", "predict": "predict(model, x)"}
# Cell magics whose body is still Python: dropping the magic line keeps the code.
PYTHON_BODY_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "memit", "debug"})
# `x = !ls`, `t = %timeit f()`: IPython assignments from a magic or a shell command.
_MAGIC_ASSIGNMENT = re.compile(r"^\s*[A-Za-z_][\w.]*(\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*[%!]")
# `np.zeros?` / `??obj`: IPython help.
_HELP_LINE = re.compile(r"^\s*(\?{1,2}[\w.]+|[\w.]+\?{1,2})\s*$")
MAX_NOTE_CHARS = 80
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class ContractError(Exception):
    """The submission cannot be read at all (e.g. a notebook that is not valid JSON)."""


@dataclass(frozen=True)
class ContractProblem:
    """One thing the learner must fix; ``line`` is 1-based in the Python source, if known."""

    line: int | None
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line is not None else self.message


def notebook_to_source(raw: bytes) -> tuple[str, list[str]]:
    """The code cells of a notebook as one Python source, plus a note per dropped line."""
    notebook = _load_notebook(raw)
    parts: list[str] = []
    notes: list[str] = []
    for number, cell_source in enumerate(_code_cells(notebook), start=1):
        code = _strip_ipython(cell_source, number, notes)
        if code.strip():
            # A marker per cell lets a learner map a line number back to the notebook cell.
            parts.append(f"# %% cell {number}\n{code.rstrip()}\n")
    return "\n".join(parts), notes


def _load_notebook(raw: bytes) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ContractError(f"the notebook is not UTF-8 text (byte {exc.start})") from exc
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ContractError(
            f"the notebook is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from exc
    except RecursionError as exc:  # e.g. [[[[...]]]] nested thousands deep
        raise ContractError("the notebook is not a Jupyter notebook: its JSON is nested too deeply") from exc
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise ContractError(f"the notebook is not valid JSON: {exc}") from exc
    if not isinstance(notebook, dict):
        raise ContractError("the notebook is not a Jupyter notebook: expected a JSON object at the top")
    return notebook


def _code_cells(notebook: dict[str, Any]) -> list[str]:
    """The source of each code cell in order (nbformat 4, and the older 3 with worksheets)."""
    if isinstance(notebook.get("cells"), list):
        cells = notebook["cells"]
        source_key = "source"
    elif isinstance(notebook.get("worksheets"), list):
        sheets = [sheet for sheet in notebook["worksheets"] if isinstance(sheet, dict)]
        if not all(isinstance(sheet.get("cells", []), list) for sheet in sheets):
            raise ContractError("the notebook is damaged: a worksheet's 'cells' is not a list")
        cells = [cell for sheet in sheets for cell in sheet.get("cells", [])]
        source_key = "input"
    else:
        raise ContractError("the notebook is not a Jupyter notebook: it has no 'cells' list")
    sources: list[str] = []
    for index, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            raise ContractError(f"the notebook is damaged: cell {index} is not an object")
        if cell.get("cell_type") != "code":
            continue
        source = cell.get(source_key, "")
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise ContractError(f"the notebook is damaged: cell {index} has no readable source")
        if _LONE_SURROGATE.search(source):  # a JSON escape such as "\ud800": no file can hold it as UTF-8
            raise ContractError(f"the notebook is damaged: cell {index} has text that is not valid Unicode")
        sources.append(source)
    return sources


def _strip_ipython(source: str, cell: int, notes: list[str]) -> str:
    lines = source.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        magic = lines[first].strip()
        name = magic[2:].split(maxsplit=1)[0] if len(magic) > 2 else ""
        if name not in PYTHON_BODY_CELL_MAGICS:
            notes.append(f"cell {cell}: dropped the whole cell: cell magic `{_short(magic)}` (its body is not Python)")
            return ""
        notes.append(f"cell {cell}, line {first + 1}: dropped IPython cell magic `{_short(magic)}`")
        lines[first] = ""
    kept: list[str] = []
    for number, line in enumerate(lines, start=1):
        kind = _ipython_kind(line)
        if kind is None:
            kept.append(line)
            continue
        notes.append(f"cell {cell}, line {number}: dropped {kind} `{_short(line.strip())}`")
        indent = line[: len(line) - len(line.lstrip())]
        # Inside a block, a bare removal could leave it empty (a syntax error): keep a `pass`.
        kept.append(f"{indent}pass" if indent else "")
    return "\n".join(kept)


def _ipython_kind(line: str) -> str | None:
    stripped = line.lstrip()
    if stripped.startswith("%"):
        return "IPython magic"
    if stripped.startswith("!"):
        return "shell command"
    if _MAGIC_ASSIGNMENT.match(line):
        return "IPython magic assignment"
    if _HELP_LINE.match(line):
        return "IPython help"
    return None


def _short(text: str) -> str:
    text = text.replace("\x00", "\ufffd")  # notes are stored as JSON; PostgreSQL refuses NUL in jsonb
    return text if len(text) <= MAX_NOTE_CHARS else text[: MAX_NOTE_CHARS - 1] + "…"


def check_source(code: str) -> list[ContractProblem]:
    """The contract problems of a Python source; an empty list means it can be queued."""
    try:
        tree = ast.parse(code, filename="solution.py")
        # The parser alone accepts `return` or `break` outside a function or loop; the compiler does not.
        compile(tree, "solution.py", "exec", dont_inherit=True)
    except SyntaxError as exc:
        return [ContractProblem(exc.lineno, f"syntax error: {exc.msg}")]
    except ValueError as exc:  # e.g. NUL bytes in the source (Python 3.11 raises ValueError)
        return [ContractProblem(None, f"the source cannot be parsed: {exc}")]
    except (RecursionError, MemoryError):  # e.g. `a.b.b.b...` or `- - - ... 1` thousands deep
        return [ContractProblem(None, "the source is nested too deeply to be parsed")]
    defined = _top_level_functions(tree)
    problems: list[ContractProblem] = []
    for name, signature in REQUIRED_FUNCTIONS.items():
        node = defined.get(name)
        if node is None:
            problems.append(ContractProblem(None, f"no top-level function `{name}`: define `def {signature}:`"))
        elif isinstance(node, ast.AsyncFunctionDef):
            problems.append(ContractProblem(node.lineno, f"`{name}` must be a plain function, not `async def`"))
        elif not _accepts_two_arguments(node):
            problems.append(
                ContractProblem(node.lineno, f"`{name}` must take at least 2 parameters: `def {signature}:`")
            )
    return problems


def _top_level_functions(tree: ast.Module) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    for node in tree.body:  # a later definition replaces an earlier one, as in Python
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            functions[node.name] = node
    return functions


def _accepts_two_arguments(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """True if the function can be called with two positional arguments."""
    arguments = node.args
    positional = len(arguments.posonlyargs) + len(arguments.args)
    required_keyword_only = any(default is None for default in arguments.kw_defaults)
    if required_keyword_only:
        return False
    if arguments.vararg is not None:
        return True
    return positional >= 2 and positional - len(arguments.defaults) <= 2
