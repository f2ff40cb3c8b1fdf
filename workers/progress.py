"""Supervisor-side handling of what a sandbox streams: output, events, batched progress.

All three classes assume the other side is hostile or broken (learner code shares the process
with the harness): sizes are capped, malformed lines are skipped, nothing here can raise on
bad input, and the cost per byte stays small however fast the sandbox writes.
"""

from __future__ import annotations

import codecs
import json
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

MAX_EVENT_LINE = 16 * 1024
MAX_METRIC_EVENTS = 5000
MAX_METRIC_NAMES = 32
MAX_METRIC_NAME = 64
MAX_REASON_CHARS = 500
PROGRESS_INTERVAL_S = 0.5
# Output beyond this many times the cap (and at least 32 MiB) is a flood: the run is killed.
FLOOD_FACTOR = 32
FLOOD_MINIMUM = 32 * 1024 * 1024
_METRICS_PREFIX = b'{"kind":"metrics"'


class OutputCapture:
    """Learner stdout+stderr: a head and a tail within ``cap`` bytes, and a live stream.

    The live stream (for the site's log view) stops after ``cap`` bytes with one marker; the
    final ``log_tail`` keeps the first and the last half of the cap with a marker between.
    """

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.head_cap = cap // 2
        self.tail_cap = cap - self.head_cap
        self.head = bytearray()
        self.tail: deque[bytes] = deque()
        self.tail_bytes = 0
        self.total = 0
        self.streamed = 0
        self._stream_cut = False
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    @property
    def flood_limit(self) -> int:
        return max(FLOOD_FACTOR * self.cap, FLOOD_MINIMUM)

    @property
    def flooded(self) -> bool:
        return self.total > self.flood_limit

    def feed(self, data: bytes) -> str:
        """Record a chunk; returns the text to stream live now ('' when over budget)."""
        self.total += len(data)
        live = self._stream(data)
        room = self.head_cap - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self._add_tail(data)
        return live

    def _add_tail(self, data: bytes) -> None:
        if len(data) >= self.tail_cap:
            self.tail = deque([data[-self.tail_cap :]])
            self.tail_bytes = self.tail_cap
            return
        self.tail.append(data)
        self.tail_bytes += len(data)
        while self.tail_bytes - len(self.tail[0]) >= self.tail_cap:
            self.tail_bytes -= len(self.tail.popleft())

    def _stream(self, data: bytes) -> str:
        if self._stream_cut:
            return ""
        room = self.cap - self.streamed
        if len(data) <= room:
            self.streamed += len(data)
            return self._decoder.decode(data)
        self._stream_cut = True
        self.streamed = self.cap
        text = self._decoder.decode(data[:room], final=True)
        return text + "\n[output truncated here; the end of the output is kept in the run's log]\n"

    def render(self) -> str:
        """The log tail: everything if it fit, else head + marker + tail."""
        tail = b"".join(self.tail)
        if len(tail) > self.tail_cap:
            tail = tail[-self.tail_cap :]
        kept = len(self.head) + len(tail)
        head_text = bytes(self.head).decode("utf-8", errors="replace")
        if kept >= self.total:
            return head_text + tail.decode("utf-8", errors="replace")
        omitted = self.total - kept
        return head_text + f"\n… [{omitted} bytes of output omitted] …\n" + tail.decode("utf-8", errors="replace")


def _finite(value: Any) -> float | None:
    """A finite float, or None: also for an int too large for a float (``float(10**400)`` raises)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


class EventReader:
    """Splits the events pipe into validated events; at most ``max_metrics`` metric events."""

    def __init__(self, max_metrics: int = MAX_METRIC_EVENTS) -> None:
        self.max_metrics = max_metrics
        self.metric_events = 0
        self.metrics_dropped = 0
        self.bad_lines = 0
        self._partial = bytearray()
        self._skipping_long_line = False

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        lines = data.split(b"\n")
        for index, piece in enumerate(lines):
            last = index == len(lines) - 1
            if self._skipping_long_line:
                if not last:
                    self._skipping_long_line = False
                continue
            self._partial += piece
            if len(self._partial) > MAX_EVENT_LINE:
                self.bad_lines += 1
                self._partial.clear()
                self._skipping_long_line = last
                continue
            if last:
                break
            line = bytes(self._partial)
            self._partial.clear()
            event = self._parse(line)
            if event is not None:
                events.append(event)
        return events

    def _parse(self, line: bytes) -> dict[str, Any] | None:
        if not line.strip():
            return None
        if line.startswith(_METRICS_PREFIX) and self.metric_events >= self.max_metrics:
            self.metrics_dropped += 1  # over the cap: not even parsed
            return None
        try:
            raw = json.loads(line)
            event = self._validate(raw) if isinstance(raw, dict) else None
        except Exception:  # noqa: BLE001 - whatever a hostile line does, it is one bad line
            event = None
        if event is None:
            self.bad_lines += 1
        return event

    def _validate(self, raw: dict[str, Any]) -> dict[str, Any] | None:
        kind = raw.get("kind")
        if kind == "metrics":
            return self._validate_metrics(raw)
        if kind == "failure" and isinstance(raw.get("reason"), str):
            return {"kind": "failure", "reason": raw["reason"][:MAX_REASON_CHARS]}
        if kind == "phase" and isinstance(raw.get("phase"), str):
            return {"kind": "phase", "phase": raw["phase"][:32]}
        if kind == "ready":
            torch_version = raw.get("torch")
            return {"kind": "ready", "torch": torch_version[:64] if isinstance(torch_version, str) else ""}
        return None

    def _validate_metrics(self, raw: dict[str, Any]) -> dict[str, Any] | None:
        if self.metric_events >= self.max_metrics:
            self.metrics_dropped += 1
            return None
        step, t, metrics = _finite(raw.get("step")), _finite(raw.get("t")), raw.get("metrics")
        if step is None or not isinstance(metrics, dict):
            return None
        clean: dict[str, float] = {}
        for name, value in list(metrics.items())[:MAX_METRIC_NAMES]:
            number = _finite(value)
            if isinstance(name, str) and name and number is not None:
                clean[name[:MAX_METRIC_NAME]] = number
        if not clean:
            return None
        self.metric_events += 1
        return {"kind": "metrics", "step": step, "metrics": clean, "t": max(0.0, t or 0.0)}


class ProgressBatcher:
    """Delivers events through ``on_progress`` in batches, at most every ``interval`` seconds.

    The first batch goes out at once (the site shows "running" without delay). A failing
    callback is logged and never stops the run: live progress is best-effort.
    """

    def __init__(self, on_progress: Callable[[list[dict[str, Any]]], None], interval: float = PROGRESS_INTERVAL_S):
        self.on_progress = on_progress
        self.interval = interval
        self.pending: list[dict[str, Any]] = []
        self.last_sent: float | None = None
        self.batches = 0

    def add(self, event: dict[str, Any]) -> None:
        if event.get("kind") == "output" and self.pending and self.pending[-1].get("kind") == "output":
            self.pending[-1] = {"kind": "output", "text": self.pending[-1]["text"] + event["text"]}
        else:
            self.pending.append(event)

    def due_in(self, now: float) -> float:
        """Seconds until a flush is allowed (inf when there is nothing to send)."""
        if not self.pending:
            return math.inf
        if self.last_sent is None:
            return 0.0
        return max(0.0, self.last_sent + self.interval - now)

    def maybe_flush(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if self.pending and self.due_in(now) <= 0:
            self.flush(now)

    def flush(self, now: float | None = None) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        self.last_sent = time.monotonic() if now is None else now
        self.batches += 1
        try:
            self.on_progress(batch)
        except Exception:
            logger.exception("on_progress failed; the run continues")
