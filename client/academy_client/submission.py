"""Submitting a solution and following its run: shared by ``academy submit`` and ``submit()``.

The upload is ``multipart/form-data`` with the file as ``file`` and the hyper-parameters as one
JSON object in ``params``. Following polls the run about every second, backing off to five
seconds while nothing changes, and ends at a final state or the timeout. The summary is the very
object ``manage.py submit_lab --json`` prints.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from academy_client.api import Api, FileUpload
from academy_client.errors import (
    EXIT_NOT_PASSED,
    EXIT_PASSED,
    ConnectionFailed,
    NotFound,
    Rejected,
    ServerError,
    UsageError,
)
from academy_client.progress import FINAL_STATES, Display

POLL_FIRST = 1.0
POLL_MAX = 5.0
POLL_GROWTH = 1.5
TICK = 1.0  # the display's clock moves this often, polls or not
OUTAGE_SECONDS = 60.0  # how long a follow survives the platform being unreachable
WAIT_MARGIN = 600  # as submit_lab: the lab's time limit plus ten minutes in the queue
CONTENT_TYPES = {".py": "text/x-python", ".ipynb": "application/x-ipynb+json"}


def _no_constants(name: str) -> Any:
    raise ValueError(name)


def param_parse(text: str) -> tuple[str, Any]:
    """``name=value``; the value as JSON when it is JSON (``5``, ``1e-3``, ``true``), else a string."""
    name, sep, raw = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise UsageError(f"--param expects name=value, got {text!r}")
    try:
        value = json.loads(raw, parse_constant=_no_constants)  # NaN, Infinity: not JSON, kept as text
    except ValueError:
        value = raw
    return name, value


def params_parse(texts: list[str]) -> dict[str, Any]:
    return dict(param_parse(text) for text in texts)


def lab_fetch(api: Api, slug: str) -> dict[str, Any]:
    """A published lab; an unknown one is a rejection (exit 2), as for ``submit_lab``."""
    try:
        return api.get(f"labs/{slug}/")
    except NotFound:
        raise Rejected([f"no published lab {slug!r} on {api.url}"]) from None


def submission_upload(
    api: Api, lab: str, *, filename: str, payload: bytes, params: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Queue a run of ``payload`` (a .py file or a notebook) with ``params``: the new run object."""
    content_type = CONTENT_TYPES.get(Path(filename).suffix.lower(), "application/octet-stream")
    fields = {"params": json.dumps(params)} if params else {}
    try:
        return api.post_multipart(
            f"labs/{lab}/submissions/", fields, [FileUpload("file", filename, payload, content_type)]
        )
    except NotFound:
        raise Rejected([f"no published lab {lab!r} on {api.url}"]) from None


def run_follow(
    api: Api,
    run: dict[str, Any],
    display: Display,
    *,
    timeout: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[dict[str, Any], bool]:
    """Poll ``run`` until it ends or ``timeout`` seconds pass: (the last run object, whether it ended)."""
    start = clock()
    deadline = start + timeout
    interval, next_poll, unreachable_since = POLL_FIRST, start + POLL_FIRST, None
    seen = _progress(run)
    while True:
        display.update(run, clock() - start)
        if run.get("state") in FINAL_STATES:
            return run, True
        now = clock()
        if now >= deadline:
            return run, False
        sleep(max(0.0, min(TICK, next_poll - now, deadline - now)))
        if clock() < next_poll:
            continue
        try:
            run = api.get(f"runs/{run['id']}/")
            unreachable_since = None
        except (ConnectionFailed, ServerError):
            unreachable_since = unreachable_since or clock()
            if clock() - unreachable_since > OUTAGE_SECONDS:
                raise
        progress = _progress(run)
        interval = POLL_FIRST if progress != seen else min(interval * POLL_GROWTH, POLL_MAX)
        seen, next_poll = progress, clock() + interval


def _progress(run: dict[str, Any]) -> tuple[Any, ...]:
    curve = run.get("curve") or []
    return run.get("state"), len(curve), curve[-1].get("step") if curve else None


def wait_timeout(lab: dict[str, Any], requested: float | None) -> float:
    if requested is not None:
        return requested
    return float(lab.get("wall_seconds") or 0) + WAIT_MARGIN


def summary(run: dict[str, Any]) -> dict[str, Any]:
    """The object ``manage.py submit_lab --json`` prints, from the API's run."""
    return {
        "run": run.get("id"),
        "state": run.get("state"),
        "reason": run.get("reason") or None,
        "metric": run.get("metric"),
        "score": run.get("score"),
        "threshold": run.get("threshold"),
        "passed": bool(run.get("passed")),
    }


def summary_text(result: dict[str, Any]) -> str:
    """One line, as ``submit_lab`` prints without ``--json``."""
    score = result.get("score")
    shown = "—" if not isinstance(score, int | float) or not math.isfinite(score) else f"{score:.4f}"
    verdict = "passed" if result["passed"] else "not passed"
    return f"run {result['run']}: {result['state']}, {result['metric']} {shown} ({verdict})"


def exit_status(result: dict[str, Any], *, waited: bool) -> int:
    """0 passed (or queued, without waiting); 1 anything else after waiting."""
    return EXIT_PASSED if result["passed"] or not waited else EXIT_NOT_PASSED
