"""``submit()`` for notebooks: the code this notebook has run, sent as a notebook the platform reads.

What is taken, from IPython's history of this kernel session (``history_manager.input_hist_raw``,
the cells as typed; ``In`` where there is no history manager):

- the cells **run so far**, in the order they ran (a cell run twice appears twice: the later
  definition wins, as in the kernel), not cells never run, not cells of an earlier session;
- without the cell that calls ``submit`` and without any cell that mentions ``academy_client``
  or calls ``submit(...)``, so the solution does not submit itself on the platform;
- magics (``%...``, ``%%...``), shell escapes (``!...``) and ``name?`` help stay in: they are sent
  as a notebook and the platform drops them exactly as for an uploaded ``.ipynb`` (and says which).

Every cell sent runs when the platform imports the solution: keep exploration that needs local
objects under ``if __name__ == "__main__":`` (true in the notebook, false on the platform).

The run is followed live in the cell (IPython's display, updated in place) and returned as a dict.
Neither IPython nor matplotlib is required: outside IPython, progress is printed as plain lines.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from academy_client.api import Api
from academy_client.config import settings_resolve, url_normalise
from academy_client.errors import UsageError
from academy_client.progress import Display, LineDisplay, NotebookDisplay
from academy_client.submission import lab_fetch, run_follow, submission_upload, wait_timeout

NOTEBOOK_NAME = "notebook.ipynb"
# A cell that uses the client: submitting from the platform's sandbox would fail (and make no sense).
_CLIENT_CELL = re.compile(r"\bacademy_client\b|^\s*(?:[\w.]+\s*=\s*)?(?:[\w.]+\.)?submit\s*\(", re.MULTILINE)
# What IPython turned a magic into, in ``In`` (the transformed input): not runnable outside IPython.
_TRANSFORMED_MAGIC = re.compile(r"^(\s*)(?:[\w.,\s]+=\s*)?get_ipython\(\)\..*$", re.MULTILINE)


def ipython_shell() -> Any | None:
    """The running IPython shell, or None (IPython is never imported here)."""
    module = sys.modules.get("IPython")
    getter = getattr(module, "get_ipython", None)
    return getter() if callable(getter) else None


def in_jupyter(shell: Any) -> bool:
    """A kernel with a front end that can update an output in place (Jupyter, Colab, VS Code)."""
    return any(cls.__name__ == "ZMQInteractiveShell" for cls in type(shell).__mro__)


def _replace_transformed(match: re.Match[str]) -> str:
    indent = match.group(1)
    return f"{indent}pass" if indent else ""


def notebook_cells(shell: Any) -> list[str]:
    """The source of each cell this session ran, in order, without the client's own cells."""
    manager = getattr(shell, "history_manager", None)
    raw = getattr(manager, "input_hist_raw", None)
    if raw:
        cells = list(raw)
    else:
        history = (getattr(shell, "user_ns", None) or {}).get("In") or []
        cells = [_TRANSFORMED_MAGIC.sub(_replace_transformed, cell) for cell in history]
    cells = cells[1:-1]  # [0] is IPython's empty placeholder, [-1] the running cell (the one calling submit)
    return [cell for cell in cells if cell.strip() and not _CLIENT_CELL.search(cell)]


def cells_to_notebook(cells: list[str]) -> bytes:
    """A minimal nbformat 4 notebook of code cells."""
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"language_info": {"name": "python"}},
        "cells": [
            {
                "cell_type": "code",
                "id": f"cell-{number}",
                "metadata": {},
                "execution_count": None,
                "outputs": [],
                "source": cell,
            }
            for number, cell in enumerate(cells, start=1)
        ],
    }
    return json.dumps(notebook, ensure_ascii=False, indent=1).encode("utf-8")


def _what_to_send(file: str | None, shell: Any) -> tuple[str, bytes]:
    if file is not None:
        path = Path(file)
        if not path.is_file():
            raise UsageError(f"{path} is not a file")
        return path.name, path.read_bytes()
    if shell is None:
        raise UsageError("submit(lab) takes the code of the notebook it runs in; outside IPython, pass file='…'")
    cells = notebook_cells(shell)
    if not cells:
        raise UsageError("this notebook has run no code cell to submit yet (the cell calling submit is left out)")
    return NOTEBOOK_NAME, cells_to_notebook(cells)


def submit(
    lab: str,
    file: str | None = None,
    *,
    params: dict[str, Any] | None = None,
    wait: bool = True,
    timeout: float | None = None,
    url: str | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    """Submit to ``lab`` and (with ``wait``) follow the run to its end: the run object.

    Raises ``AcademyError`` (``Rejected`` with ``.errors``, ``AuthFailed``, ``ConnectionFailed``…)."""
    shell = ipython_shell()
    filename, payload = _what_to_send(file, shell)
    if token is not None:
        if url is None:
            raise UsageError("submit(token=…) needs url=… too")
        settings_url, settings_token = url_normalise(url), token
    else:
        settings = settings_resolve(url)
        settings_url, settings_token = settings.url, settings.token
    api = Api(settings_url, settings_token)
    lab_info = lab_fetch(api, lab)
    display: Display = NotebookDisplay() if shell is not None and in_jupyter(shell) else LineDisplay(sys.stderr)
    run = submission_upload(api, lab, filename=filename, payload=payload, params=params)
    display.note(f"run {run['id']} queued: {api.absolute(run.get('url') or '/')}")
    if not wait:
        return run
    try:
        run, ended = run_follow(api, run, display, timeout=wait_timeout(lab_info, timeout))
    except KeyboardInterrupt:
        display.note(f"stopped following; run {run['id']} goes on: academy logs {run['id']}")
        raise
    finally:
        display.close()
    if not ended:
        display.note(f"gave up waiting; run {run['id']} goes on")
    return run
