"""Showing a run as it goes: a status line and a small curve of its metrics.

Three displays of one run object (``state``, ``reason``, ``curve`` = ``[{step, t, metrics}]``):

- ``TerminalDisplay``: a block redrawn in place on a terminal — the status line (state, elapsed
  time, last step and metrics) and a sparkline per metric (loss first, then the lab's metric);
- ``LineDisplay``: plain lines, for logs and pipes — ``[state] reason`` and ``step N: k=v`` as
  ``manage.py submit_lab`` prints them;
- ``NotebookDisplay``: the block in a Jupyter cell output, updated in place.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
from typing import Any, TextIO

BLOCKS = "▁▂▃▄▅▆▇█"
ASCII_LEVELS = "_.-~=*#@"
SPARK_WIDTH = 40
MAX_CURVES = 3
FINAL_STATES = frozenset({"succeeded", "failed", "timed_out", "cancelled"})


def sparkline(values: list[float], width: int = SPARK_WIDTH, levels: str = BLOCKS) -> str:
    """``values`` as one line of at most ``width`` characters (bucket means when there are more)."""
    finite = [v for v in values if isinstance(v, int | float) and math.isfinite(v)]
    if not finite or width < 1:
        return ""
    if len(finite) > width:
        buckets = [finite[i * len(finite) // width : (i + 1) * len(finite) // width] for i in range(width)]
        finite = [sum(bucket) / len(bucket) for bucket in buckets]
    low, high = min(finite), max(finite)
    if high - low <= abs(high) * 1e-12:
        return levels[len(levels) // 2] * len(finite)
    top = len(levels) - 1
    return "".join(levels[round((v - low) / (high - low) * top)] for v in finite)


def number(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, int | float) else str(value)


def curve_names(curve: list[dict[str, Any]], metric: str | None = None) -> list[str]:
    """The metrics worth a curve: losses first, then those named like the lab's metric, then the rest."""
    seen: list[str] = []
    for point in curve:
        for name in point.get("metrics") or {}:
            if name not in seen:
                seen.append(name)

    def rank(name: str) -> int:
        if "loss" in name:
            return 0
        if metric and metric in name:
            return 1
        return 2

    return sorted(seen, key=rank)[:MAX_CURVES]


def elapsed_text(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def status_line(run: dict[str, Any], elapsed: float) -> str:
    label = f"run {run['id']}" if run.get("id") is not None else str(run.get("label") or "local test")
    parts = [label, str(run.get("state", "?")), elapsed_text(elapsed)]
    curve = run.get("curve") or []
    if curve:
        last = curve[-1]
        shown = " ".join(f"{k}={number(v)}" for k, v in (last.get("metrics") or {}).items())
        parts.append(f"step {number(last.get('step'))}: {shown}")
    if run.get("state") in FINAL_STATES:
        if run.get("score") is not None:
            parts.append(f"{run.get('metric', 'score')} {number(run['score'])}")
        if run.get("passed") is not None and run.get("state") == "succeeded":
            parts.append("passed" if run["passed"] else "not passed")
        if run.get("reason"):
            parts.append(str(run["reason"]))
    return " · ".join(parts)


def render_block(run: dict[str, Any], elapsed: float, *, width: int = 80, levels: str = BLOCKS) -> list[str]:
    """The status line and one sparkline per chosen metric, each cut to ``width`` characters."""
    curve = run.get("curve") or []
    names = curve_names(curve, run.get("metric"))
    label_width = max((len(name) for name in names), default=0)
    lines = [status_line(run, elapsed)]
    for name in names:
        values = [p["metrics"][name] for p in curve if name in (p.get("metrics") or {})]
        spark = sparkline(values, min(SPARK_WIDTH, max(8, width - label_width - 16)), levels)
        lines.append(f"  {name:<{label_width}} {spark} {number(values[-1])}")
    return [line if len(line) <= width else line[: width - 1] + "…" for line in lines]


def can_draw(stream: TextIO, text: str = BLOCKS) -> bool:
    try:
        text.encode(stream.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


class LineDisplay:
    """Plain lines: each state once, each new curve point once."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._state: str | None = None
        self._shown = 0

    def note(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def update(self, run: dict[str, Any], elapsed: float) -> None:
        if run.get("state") != self._state:
            self._state = run.get("state")
            reason = f" {run['reason']}" if run.get("reason") else ""
            self.note(f"[{self._state}]{reason}")
        curve = run.get("curve") or []
        if len(curve) < self._shown:  # the platform thinned its curve: go on from its end
            self._shown = len(curve)
        for point in curve[self._shown :]:
            shown = " ".join(f"{k}={number(v)}" for k, v in (point.get("metrics") or {}).items())
            self.note(f"  step {number(point.get('step'))}: {shown}")
        self._shown = len(curve)

    def close(self) -> None:
        """Nothing left on screen to tidy."""


class TerminalDisplay:
    """A block of lines redrawn in place (ANSI: cursor up, erase line); notes scroll above it."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.levels = BLOCKS if can_draw(stream) else ASCII_LEVELS
        self._height = 0
        self._last: tuple[dict[str, Any], float] | None = None

    def _width(self) -> int:
        return max(20, shutil.get_terminal_size((80, 24)).columns - 1)  # a full line would wrap on some terminals

    def _erase(self) -> str:
        return f"\x1b[{self._height}F\x1b[J" if self._height else ""

    def note(self, text: str) -> None:
        self.stream.write(self._erase() + text.rstrip("\n") + "\n")
        self._height = 0
        if self._last is not None:
            self.update(*self._last)
        self.stream.flush()

    def update(self, run: dict[str, Any], elapsed: float) -> None:
        self._last = (run, elapsed)
        lines = render_block(run, elapsed, width=self._width(), levels=self.levels)
        self.stream.write(self._erase() + "".join(f"{line}\n" for line in lines))
        self._height = len(lines)
        self.stream.flush()

    def close(self) -> None:
        self._last = None
        self._height = 0


class NotebookDisplay:
    """The same block as text in a Jupyter cell's output, replaced at each update."""

    def __init__(self) -> None:
        from IPython.display import Pretty, display

        self._pretty = Pretty
        self._handle = display(Pretty(""), display_id=True)
        self._notes: list[str] = []
        self._block: list[str] = []

    def _show(self) -> None:
        self._handle.update(self._pretty("\n".join(self._notes[-20:] + self._block)))

    def note(self, text: str) -> None:
        self._notes.append(text)
        self._show()

    def update(self, run: dict[str, Any], elapsed: float) -> None:
        self._block = render_block(run, elapsed, width=100)
        self._show()

    def close(self) -> None:
        """The cell keeps its last block."""


Display = LineDisplay | TerminalDisplay | NotebookDisplay


def terminal_display(stream: TextIO | None = None) -> LineDisplay | TerminalDisplay:
    """Redrawn in place on a terminal; plain lines into a pipe, a file or a dumb terminal."""
    stream = stream or sys.stderr
    interactive = hasattr(stream, "isatty") and stream.isatty() and os.environ.get("TERM") != "dumb"
    return TerminalDisplay(stream) if interactive else LineDisplay(stream)
