"""What a lab worker sends back to the site, as plain JSON: the typed twin of ``workers.jobspec``.

A worker reports each attempt at a run as events: ``labs.tasks.run_event(run_id, token, event)``
(``EVENT_TASK``, on the site's queue ``EVENT_QUEUE``), where ``event`` is one of these, as
``to_dict()`` writes it:

==========  =====================================================================================
kind        message
==========  =====================================================================================
claimed     ``{"kind": "claimed", "worker": str, "device": str}`` (plus ``"sandbox": str`` when
            known): a worker took the job and starts it
running     ``{"kind": "running"}``: the learner's code started (no worker sends it today: the
            first progress batch says as much; the site still accepts it)
progress    ``{"kind": "progress", "seq": int | null, "events": [object, ...]}``: a batch of live
            events, ``{"kind": "metrics", "step", "metrics", "t"}`` and ``{"kind": "output",
            "text"}`` (``workers.progress``), numbered from 1 so that the site applies a batch
            delivered twice only once (``null``: an older worker that did not number them)
finished    ``{"kind": "finished", "result": {...}}``: what the attempt came to
            (``AttemptResult``); the last event of an attempt
lost        ``{"kind": "lost", "previous_worker": str | null}``: the job message came back after
            the worker that claimed it died; the site decides whether to try again
==========  =====================================================================================

The site reads them back with ``event_from_dict``, which validates like ``JobSpec.from_dict``
does (see its docstring for exactly what it accepts).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

# The site's task that applies an event, and its queue (the site worker's, with the database).
EVENT_TASK = "labs.tasks.run_event"
EVENT_QUEUE = "default"

# What ``AttemptResult.state`` says when a worker wrote it.
STATES = ("succeeded", "failed", "timed_out", "cancelled")
# The files an attempt may store (``JobSpec.uploads``): the trained weights and the whole log.
ARTIFACTS = ("weights", "log")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


class EventError(ValueError):
    """A message that is not a well-formed event; the message names the offending field."""


class UnknownEvent(EventError):
    """A well-formed message of a kind this code does not know (``kind`` holds it)."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"kind: unknown event kind {kind!r}")
        self.kind = kind


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _check_str(value: Any, name: str, *, nullable: bool = False) -> None:
    if isinstance(value, str) or (nullable and value is None):
        return
    expected = "a string or null" if nullable else "a string"
    raise EventError(f"{name}: must be {expected}, got {_type_name(value)}")


def _check_int(value: Any, name: str, *, nullable: bool = False) -> None:
    # bool is an int subclass; ``True`` as a batch number is a bug, not batch 1.
    if (isinstance(value, int) and not isinstance(value, bool)) or (nullable and value is None):
        return
    expected = "an integer or null" if nullable else "an integer"
    raise EventError(f"{name}: must be {expected}, got {_type_name(value)}")


def _check_number(value: Any, name: str) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise EventError(f"{name}: must be a number, got {_type_name(value)}")


def _check_bool(value: Any, name: str) -> None:
    if not isinstance(value, bool):
        raise EventError(f"{name}: must be true or false, got {_type_name(value)}")


def _object(data: Any, name: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise EventError(f"{name}: must be a JSON object, got {_type_name(data)}")
    return data


# ------------------------------------------------------------------------------------------
# the result of an attempt
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AttemptResult:
    """What one attempt at a run came to on a worker, as the site stores it (``to_dict()`` is plain JSON).

    ``state``: succeeded | failed | timed_out | cancelled ("succeeded": predictions were made
    and are ready to be scored by the site); None only when the message named none (the site
    treats that as failed). ``reason``: None, or ``limit: <what>``, ``error: <what>``,
    ``cancelled: by user``, ``platform: <what>`` (the platform's fault: not counted against the
    learner, tried again). ``predictions``: one number, one list of numbers (class scores, token ids)
    or one string per test row, only when succeeded.
    ``log_tail``: the learner's stdout+stderr, head and tail within ``limits.output_bytes``, plus
    a ``[lab runner]`` line when the platform stopped the run. ``sandbox``: the backend;
    ``"dev-fallback (no isolation)"`` deserves a warning on the site. ``warm_start``: the run got
    a pre-started sandbox. ``metrics_dropped``: metric events over the cap (the harness thins
    them before that, so this is normally 0). Times are ISO 8601 UTC strings. ``artifacts``: the
    files this attempt stored at its ``JobSpec.uploads`` links, ``{"weights" | "log": {"size": int,
    "sha256": str}}``; a file that was not wanted, not made or not stored is left out.

    Every field has a default (a message may leave any of them out, see ``event_from_dict``);
    the worker's runner always fills them all.
    """

    state: str | None = None
    reason: str | None = None
    predictions: list[Any] | None = None
    log_tail: str = ""
    torch_version: str = ""
    device: str = ""
    sandbox: str = ""
    worker_host: str = ""
    started_at: str = ""
    finished_at: str = ""
    duration_s: float = 0.0
    warm_start: bool = False
    metrics_dropped: int = 0
    artifacts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_str(self.state, "result.state", nullable=True)
        _check_str(self.reason, "result.reason", nullable=True)
        if self.predictions is not None:
            if not isinstance(self.predictions, list):
                raise EventError(f"result.predictions: must be a list or null, got {_type_name(self.predictions)}")
            _check_predictions(self.predictions)
        for name in ("log_tail", "torch_version", "device", "sandbox", "worker_host", "started_at", "finished_at"):
            _check_str(getattr(self, name), f"result.{name}")
        _check_number(self.duration_s, "result.duration_s")
        _check_bool(self.warm_start, "result.warm_start")
        _check_int(self.metrics_dropped, "result.metrics_dropped")
        _check_artifacts(self.artifacts)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        if self.predictions is not None:
            data["predictions"] = list(self.predictions)
        return data

    @classmethod
    def from_dict(cls, data: Any) -> AttemptResult:
        """Missing keys take their defaults; unknown keys are ignored; a wrong type is an ``EventError``."""
        data = _object(data, "result")
        values = {key: data[key] for key in _RESULT_FIELDS if key in data}
        if isinstance(values.get("predictions"), list):
            values["predictions"] = list(values["predictions"])  # not shared with the message
        if isinstance(values.get("artifacts"), dict):
            values["artifacts"] = {
                name: dict(stored) if isinstance(stored, dict) else stored
                for name, stored in values["artifacts"].items()
            }
        return cls(**values)


_RESULT_FIELDS = tuple(f.name for f in dataclasses.fields(AttemptResult))


def _check_artifacts(artifacts: Any) -> None:
    """``{name: {"size": int >= 0, "sha256": 64 lowercase hex digits}}`` (names are not judged: the site
    keeps those of ``ARTIFACTS`` it asked for)."""
    if not isinstance(artifacts, dict):
        raise EventError(f"result.artifacts: must be a JSON object, got {_type_name(artifacts)}")
    for name, stored in artifacts.items():
        _check_str(name, "result.artifacts: a name")
        where = f"result.artifacts.{name}"
        stored = _object(stored, where)
        _check_int(stored.get("size"), f"{where}.size")
        if stored["size"] < 0:
            raise EventError(f"{where}.size: must not be negative, got {stored['size']}")
        _check_str(stored.get("sha256"), f"{where}.sha256")
        if not _SHA256_RE.match(stored["sha256"]):
            raise EventError(f"{where}.sha256: must be 64 lowercase hex digits")


def _check_predictions(predictions: list[Any]) -> None:
    """One number (null: a missing value, scored as wrong) per row, one list of numbers per row (class
    scores, token ids) or one string per row: never a mix."""
    kinds = {"string" if isinstance(v, str) else "list" if isinstance(v, list) else "number" for v in predictions}
    if len(kinds) > 1:
        raise EventError(f"result.predictions: mixes {' and '.join(kind + 's' for kind in sorted(kinds))}")
    for index, value in enumerate(predictions):
        if isinstance(value, list):
            for inner, item in enumerate(value):
                if item is not None:
                    _check_number(item, f"result.predictions[{index}][{inner}]")
        elif value is not None and not isinstance(value, str):
            _check_number(value, f"result.predictions[{index}]")


# ------------------------------------------------------------------------------------------
# the events
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Claimed:
    """A worker took the job: who, on which device, in which sandbox (when it knows already)."""

    kind: ClassVar[str] = "claimed"
    worker: str
    device: str
    sandbox: str = ""

    def __post_init__(self) -> None:
        _check_str(self.worker, "worker")
        _check_str(self.device, "device")
        _check_str(self.sandbox, "sandbox")

    def to_dict(self) -> dict[str, Any]:
        data = {"kind": self.kind, "worker": self.worker, "device": self.device}
        if self.sandbox:
            data["sandbox"] = self.sandbox
        return data

    @classmethod
    def _read(cls, data: dict[str, Any]) -> Claimed:
        return cls(worker=data.get("worker", ""), device=data.get("device", ""), sandbox=data.get("sandbox", ""))


@dataclass(frozen=True)
class Running:
    """The learner's code started. Accepted from older workers; today's send a progress batch instead."""

    kind: ClassVar[str] = "running"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind}

    @classmethod
    def _read(cls, data: dict[str, Any]) -> Running:
        return cls()


@dataclass(frozen=True)
class ProgressBatch:
    """Live events of a running attempt (metrics points, output), batch number ``seq`` (from 1).

    ``seq`` None: a batch from a worker that does not number them (the site cannot tell a
    second delivery of it). The items are passed on as they came: the site keeps what it
    understands of each (``{"kind": "metrics", ...}``, ``{"kind": "output", "text": ...}``).
    """

    kind: ClassVar[str] = "progress"
    seq: int | None
    events: list[dict[str, Any]]

    def __post_init__(self) -> None:
        _check_int(self.seq, "seq", nullable=True)
        if not isinstance(self.events, list):
            raise EventError(f"events: must be a list, got {_type_name(self.events)}")
        for index, item in enumerate(self.events):
            _object(item, f"events[{index}]")

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "seq": self.seq, "events": list(self.events)}

    @classmethod
    def _read(cls, data: dict[str, Any]) -> ProgressBatch:
        events = data.get("events", [])
        return cls(seq=data.get("seq"), events=list(events) if isinstance(events, list) else events)


@dataclass(frozen=True)
class Finished:
    """The attempt's result: the last event of an attempt."""

    kind: ClassVar[str] = "finished"
    result: AttemptResult

    def __post_init__(self) -> None:
        if not isinstance(self.result, AttemptResult):
            raise EventError(f"result: must be an AttemptResult, got {_type_name(self.result)}")

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "result": self.result.to_dict()}

    @classmethod
    def _read(cls, data: dict[str, Any]) -> Finished:
        result = data.get("result")
        return cls(result=AttemptResult() if result is None else AttemptResult.from_dict(result))


@dataclass(frozen=True)
class Lost:
    """The job message came back after the worker that claimed it (``previous_worker``) died."""

    kind: ClassVar[str] = "lost"
    previous_worker: str | None

    def __post_init__(self) -> None:
        _check_str(self.previous_worker, "previous_worker", nullable=True)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "previous_worker": self.previous_worker}

    @classmethod
    def _read(cls, data: dict[str, Any]) -> Lost:
        return cls(previous_worker=data.get("previous_worker"))


Event = Claimed | Running | ProgressBatch | Finished | Lost
EVENT_KINDS: dict[str, type[Event]] = {cls.kind: cls for cls in (Claimed, Running, ProgressBatch, Finished, Lost)}


def event_from_dict(data: Any) -> Event:
    """The event a worker sent, validated; raises ``EventError`` (a ``ValueError``) naming the field.

    For messages from workers of any version, honest or not, so it never raises anything but
    ``EventError`` whatever ``data`` is:

    - ``data`` must be a JSON object with a string ``kind``; else ``EventError``.
    - A ``kind`` other than claimed, running, progress, finished, lost raises ``UnknownEvent``
      (a subclass of ``EventError``, its ``.kind`` holds it): a newer worker's event, which a
      site may ignore.
    - Missing keys take defaults, as the site always allowed: ``worker``, ``device`` and
      ``sandbox`` ``""``; ``seq`` None (an unnumbered batch); ``events`` ``[]``;
      ``previous_worker`` None; ``result`` missing or null is an empty ``AttemptResult()``, and
      each missing key of a result takes the default of its field (``state`` None,
      ``reason`` None, ``predictions`` None, strings ``""``, ``duration_s`` 0.0, ``warm_start``
      False, ``metrics_dropped`` 0, ``artifacts`` ``{}``).
    - Unknown keys, at the top and in ``result``, are ignored: a newer worker may add some.
    - Types are strict: a string field must be a string (null only for ``result.state``,
      ``result.reason`` and ``previous_worker``); ``seq`` an integer or null, never a bool;
      ``events`` a list of JSON objects (their content is not checked: the site keeps what it
      understands of each); ``result`` a JSON object; ``result.predictions`` null or a list of
      numbers or nulls (int or float, never bool; NaN and null are let through, the site scores
      them as wrong), of lists of such numbers, or of strings, never mixed;
      ``duration_s`` a number, ``warm_start`` a bool, ``metrics_dropped`` an integer;
      ``artifacts`` an object of objects, each with an integer ``size`` (not negative) and a
      ``sha256`` of 64 lowercase hex digits.
    - Values are not judged: ``result.state`` may be any string (the site treats anything but
      succeeded, timed_out and cancelled as failed), and nothing is cut to length (the site
      bounds what it stores).

    ``event_from_dict(event.to_dict()) == event`` for every event.
    """
    data = _object(data, "event")
    if "kind" not in data:
        raise EventError("kind: missing")
    kind = data["kind"]
    _check_str(kind, "kind")
    cls = EVENT_KINDS.get(kind)
    if cls is None:
        raise UnknownEvent(kind)
    return cls._read(data)
