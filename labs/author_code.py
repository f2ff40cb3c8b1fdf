"""A lab author's own code, run for the site: ``build.py`` (the data of a ``build`` lab folder) and
``score.py`` (a custom metric).

- ``run_build``: ``build()`` runs in a process of its own (``python -I``: no site settings, no
  environment but PATH and a locale, its own temporary HOME) with a time limit, and hands back its
  arrays through an ``.npz`` written without pickles. A crash, a hang or a wrong return value is a
  ``BuildFailed`` with the reason and the end of its output: the folder's problem, reported with
  ``build.py``. It is the author's code, trusted like the rest of their folder (an administrator
  imports it); it never sees learner code.
- ``run_score``: ``score(y_true, y_pred, meta)`` runs inside the lab sandbox (``workers.sandbox``,
  the harness's ``score`` task) with the hidden labels and a run's predictions: never with learner
  code, and never in the site's own process. A crash, a hang or a non-finite result is the author's
  error (``ScoringFailed``), shown to administrators and never charged to a learner.

Django-free: ``labs.lab_folder`` (and so ``labs.demo.local_run``) uses ``run_build``.
"""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

BUILD_TIMEOUT_S = 300
SCORE_TIMEOUT_S = 120
OUTPUT_TAIL = 1500

# Runs as `python -I -B -c BUILD_PROGRAM <build.py> <out.npz>` in the folder of build.py, build()'s
# keyword arguments as a JSON object on its standard input.
BUILD_PROGRAM = r"""
import importlib.util, json, sys
import numpy as np
path, out = sys.argv[1], sys.argv[2]
kwargs = json.loads(sys.stdin.read() or "{}")
sys.path.insert(0, ".")
spec = importlib.util.spec_from_file_location("build", path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
if not callable(getattr(module, "build", None)):
    sys.exit("build.py defines no build()")
if kwargs:
    import inspect
    params = inspect.signature(module.build).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        missing = [name for name in kwargs if name not in params]
        if missing:
            sys.exit(f"build() takes no {', '.join(missing)}: lab.toml's [data] hidden = 'secret-seed' passes it")
result = module.build(**kwargs)
if not isinstance(result, dict):
    sys.exit(f"build() returned {type(result).__name__}; expected a dict of arrays")
meta = result.pop("meta", {})
if not isinstance(meta, dict):
    sys.exit("build()['meta'] must be a dict")
try:
    meta_json = json.dumps(meta, allow_nan=False)
except (TypeError, ValueError) as exc:
    sys.exit(f"build()['meta'] is not JSON: {exc}")
arrays = {}
for key, value in result.items():
    if not isinstance(key, str):
        sys.exit("build() must return a dict with text keys")
    array = np.asarray(value)
    if array.dtype == object:
        sys.exit(f"build()[{key!r}] holds Python objects; expected numbers or text")
    arrays[key] = array
np.savez(out, **arrays, meta_json=np.array(meta_json))
"""


class BuildFailed(RuntimeError):
    """``build.py`` did not give the arrays (the message says why, with its output's end)."""


class ScoringFailed(RuntimeError):
    """``score.py`` did not give a finite score: the lab author's error."""


def _clean_env(home: str) -> dict[str, str]:
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": home, "PYTHONHASHSEED": "0"}


def _tail(text: str) -> str:
    text = text.strip()
    return text if len(text) <= OUTPUT_TAIL else "…" + text[-OUTPUT_TAIL:]


def run_build(
    build_py: Path, timeout: float = BUILD_TIMEOUT_S, kwargs: dict[str, Any] | None = None
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The arrays ``build(**kwargs)`` returns and its ``meta``; ``BuildFailed`` otherwise. ``kwargs``
    (JSON values, e.g. a secret-seeded lab's ``hidden_seed``) reach the process on its standard input,
    not its command line, which other processes of the machine can read."""
    build_py = Path(build_py).resolve()
    with tempfile.TemporaryDirectory(prefix="lab-build-") as tmp:
        out = Path(tmp) / "built.npz"
        try:
            done = subprocess.run(
                [sys.executable, "-I", "-B", "-c", BUILD_PROGRAM, str(build_py), str(out)],
                cwd=build_py.parent,
                env=_clean_env(tmp),
                input=json.dumps(kwargs or {}),
                capture_output=True,
                text=True,
                errors="replace",
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise BuildFailed(f"build() did not finish within {timeout:g} s") from None
        if done.returncode != 0 or not out.is_file():
            raise BuildFailed(f"build() failed (exit status {done.returncode}): {_tail(done.stderr or done.stdout)}")
        with np.load(out, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files if key != "meta_json"}
            meta = json.loads(str(archive["meta_json"]))
    return arrays, meta


# --- score.py, in the sandbox ------------------------------------------------------------------


def score_job_files(
    scoring_code: str, y_true: np.ndarray, y_pred: np.ndarray, meta: dict[str, Any]
) -> dict[str, bytes]:
    """The files of a scoring job's folder (the harness's ``score`` task reads them)."""
    from workers import harness

    buffer = io.BytesIO()
    np.savez(buffer, y_true=y_true, y_pred=y_pred)
    return {
        harness.SCORE_PROGRAM_FILE: scoring_code.encode(),
        harness.SCORE_INPUT_FILE: buffer.getvalue(),
        harness.SCORE_META_FILE: json.dumps(meta).encode(),
    }


def run_score(
    scoring_code: str, y_true: np.ndarray, y_pred: np.ndarray, meta: dict[str, Any], timeout: float = SCORE_TIMEOUT_S
) -> float:
    """``score(y_true, y_pred, meta)`` of the lab's ``score.py``, run in the sandbox; ``ScoringFailed``
    (with the reason and the end of its output) unless it returns a finite number."""
    from workers.author_jobs import AuthorJobFailed, run_author_job

    try:
        output = run_author_job(
            "score", score_job_files(scoring_code, y_true, y_pred, meta), timeout=timeout, result_max_bytes=4096
        )
    except AuthorJobFailed as exc:
        raise ScoringFailed(str(exc)) from None
    try:
        value = json.loads(output)["score"]
    except (ValueError, KeyError, TypeError):
        raise ScoringFailed(f"score.py's result is unreadable: {output[:200]!r}") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ScoringFailed(f"score() returned {value!r}; expected a finite number")
    return float(value)
