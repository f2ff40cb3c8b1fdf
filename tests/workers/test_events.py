"""The events a lab worker sends to the site: wire format, round trip, and reading hostile input."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workers.events import (
    EVENT_KINDS,
    EVENT_TASK,
    STATES,
    AttemptResult,
    Claimed,
    Event,
    EventError,
    Finished,
    Lost,
    ProgressBatch,
    Running,
    UnknownEvent,
    event_from_dict,
)

FULL_RESULT = AttemptResult(
    state="succeeded",
    reason=None,
    predictions=[0.0, 1.0, 0.25],
    log_tail="epoch 1 loss 0.3\n",
    torch_version="2.13.0+cpu",
    device="cpu",
    sandbox="bwrap",
    worker_host="node-1",
    started_at="2026-01-01T00:00:00.000Z",
    finished_at="2026-01-01T00:00:02.500Z",
    duration_s=2.5,
    warm_start=True,
    metrics_dropped=0,
    artifacts={"log": {"size": 17, "sha256": "ab" * 32}},
)


def test_the_site_task_is_named_once() -> None:
    assert EVENT_TASK == "labs.tasks.run_event"
    assert set(EVENT_KINDS) == {"claimed", "running", "progress", "finished", "lost"}


# --- the wire format: what the site's reader has always received ---------------------------


def test_claimed_wire_format() -> None:
    assert Claimed(worker="cpu@node-1", device="cpu").to_dict() == {
        "kind": "claimed",
        "worker": "cpu@node-1",
        "device": "cpu",
    }
    assert Claimed(worker="w", device="cuda", sandbox="bwrap").to_dict() == {
        "kind": "claimed",
        "worker": "w",
        "device": "cuda",
        "sandbox": "bwrap",
    }


def test_progress_wire_format() -> None:
    events = [{"kind": "metrics", "step": 1.0, "metrics": {"loss": 0.5}, "t": 0.1}, {"kind": "output", "text": "hi\n"}]
    assert ProgressBatch(seq=3, events=events).to_dict() == {"kind": "progress", "seq": 3, "events": events}


def test_finished_wire_format_is_every_result_field() -> None:
    data = Finished(FULL_RESULT).to_dict()
    assert data["kind"] == "finished"
    assert data["result"] == {
        "state": "succeeded",
        "reason": None,
        "predictions": [0.0, 1.0, 0.25],
        "log_tail": "epoch 1 loss 0.3\n",
        "torch_version": "2.13.0+cpu",
        "device": "cpu",
        "sandbox": "bwrap",
        "worker_host": "node-1",
        "started_at": "2026-01-01T00:00:00.000Z",
        "finished_at": "2026-01-01T00:00:02.500Z",
        "duration_s": 2.5,
        "warm_start": True,
        "metrics_dropped": 0,
        "artifacts": {"log": {"size": 17, "sha256": "ab" * 32}},
    }
    assert json.loads(json.dumps(data)) == data  # plain JSON


def test_lost_and_running_wire_format() -> None:
    assert Lost(previous_worker="gpu@node-2").to_dict() == {"kind": "lost", "previous_worker": "gpu@node-2"}
    assert Lost(previous_worker=None).to_dict() == {"kind": "lost", "previous_worker": None}
    assert Running().to_dict() == {"kind": "running"}


# --- reading: lenient where the site always was, strict on types ---------------------------


def test_missing_optional_keys_take_defaults() -> None:
    assert event_from_dict({"kind": "claimed"}) == Claimed(worker="", device="", sandbox="")
    assert event_from_dict({"kind": "progress", "events": []}) == ProgressBatch(seq=None, events=[])
    assert event_from_dict({"kind": "progress"}) == ProgressBatch(seq=None, events=[])
    assert event_from_dict({"kind": "lost"}) == Lost(previous_worker=None)
    assert event_from_dict({"kind": "finished"}) == Finished(AttemptResult())
    assert event_from_dict({"kind": "finished", "result": None}) == Finished(AttemptResult())


def test_a_partial_result_from_an_older_worker_is_read() -> None:
    # What workers sent for a job message they could not read: state and reason only.
    event = event_from_dict({"kind": "finished", "result": {"state": "failed", "reason": "platform: invalid"}})
    assert event == Finished(AttemptResult(state="failed", reason="platform: invalid"))
    assert event.result.log_tail == "" and event.result.predictions is None and event.result.device == ""


def test_unknown_keys_are_ignored() -> None:
    event = event_from_dict({"kind": "claimed", "worker": "w", "device": "cpu", "gpu_model": "H100"})
    assert event == Claimed(worker="w", device="cpu")
    result = event_from_dict({"kind": "finished", "result": {"state": "failed", "new_field": [1, 2]}})
    assert result == Finished(AttemptResult(state="failed"))


def test_result_values_are_not_judged() -> None:
    # The site treats any state but succeeded/timed_out/cancelled as failed, and bounds every text.
    event = event_from_dict({"kind": "finished", "result": {"state": "exploded", "log_tail": "x" * 10_000}})
    assert isinstance(event, Finished) and event.result.state == "exploded"
    nan = event_from_dict({"kind": "finished", "result": {"predictions": [1, float("nan")]}})
    assert isinstance(nan, Finished) and math.isnan(nan.result.predictions[1])
    missing = event_from_dict({"kind": "finished", "result": {"predictions": [1, None]}})  # scored as wrong
    assert isinstance(missing, Finished) and missing.result.predictions == [1, None]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ([], "event"),
        (None, "event"),
        ({}, "kind"),
        ({"kind": 3}, "kind"),
        ({"kind": "claimed", "worker": 7}, "worker"),
        ({"kind": "claimed", "device": None}, "device"),
        ({"kind": "claimed", "sandbox": ["bwrap"]}, "sandbox"),
        ({"kind": "progress", "seq": True, "events": []}, "seq"),
        ({"kind": "progress", "seq": "3", "events": []}, "seq"),
        ({"kind": "progress", "seq": 1.0, "events": []}, "seq"),
        ({"kind": "progress", "seq": 1, "events": {"kind": "output"}}, "events"),
        ({"kind": "progress", "seq": 1, "events": [{"kind": "output"}, "text"]}, "events[1]"),
        ({"kind": "finished", "result": "failed"}, "result"),
        ({"kind": "finished", "result": []}, "result"),
        ({"kind": "finished", "result": {"state": 1}}, "result.state"),
        ({"kind": "finished", "result": {"predictions": "0,1"}}, "result.predictions"),
        ({"kind": "finished", "result": {"predictions": [0.5, True]}}, "result.predictions[1]"),
        (
            {"kind": "finished", "result": {"predictions": [0.5, "1"]}},
            "result.predictions",
        ),  # mixes numbers and strings
        ({"kind": "finished", "result": {"predictions": [[0.5, "1"]]}}, "result.predictions[0][1]"),
        ({"kind": "finished", "result": {"predictions": [[0.5], 1]}}, "result.predictions"),  # mixes lists and numbers
        ({"kind": "finished", "result": {"log_tail": None}}, "result.log_tail"),
        ({"kind": "finished", "result": {"duration_s": "2"}}, "result.duration_s"),
        ({"kind": "finished", "result": {"warm_start": 1}}, "result.warm_start"),
        ({"kind": "finished", "result": {"metrics_dropped": False}}, "result.metrics_dropped"),
        ({"kind": "finished", "result": {"artifacts": []}}, "result.artifacts"),
        ({"kind": "finished", "result": {"artifacts": {"log": "x"}}}, "result.artifacts.log"),
        ({"kind": "finished", "result": {"artifacts": {"log": {"sha256": "ab" * 32}}}}, "result.artifacts.log.size"),
        (
            {"kind": "finished", "result": {"artifacts": {"log": {"size": -1, "sha256": "ab" * 32}}}},
            "result.artifacts.log.size",
        ),
        (
            {"kind": "finished", "result": {"artifacts": {"weights": {"size": 1, "sha256": "AB" * 32}}}},
            "result.artifacts.weights.sha256",
        ),
        ({"kind": "lost", "previous_worker": 5}, "previous_worker"),
    ],
)
def test_a_malformed_event_names_its_field(data: Any, field: str) -> None:
    with pytest.raises(EventError) as raised:
        event_from_dict(data)
    assert str(raised.value).startswith(f"{field}:")
    assert not isinstance(raised.value, UnknownEvent)


def test_an_unknown_kind_is_its_own_error() -> None:
    with pytest.raises(UnknownEvent) as raised:
        event_from_dict({"kind": "barrier"})
    assert raised.value.kind == "barrier"
    assert isinstance(raised.value, EventError) and isinstance(raised.value, ValueError)


def test_constructors_validate_too() -> None:
    with pytest.raises(EventError, match=r"^seq:"):
        ProgressBatch(seq=True, events=[])
    with pytest.raises(EventError, match=r"^result:"):
        Finished({"state": "failed"})  # type: ignore[arg-type]
    with pytest.raises(EventError, match=r"^result.predictions\[0\]:"):
        AttemptResult(predictions=[True])
    with pytest.raises(EventError, match=r"^result.predictions: mixes"):
        AttemptResult(predictions=["1", 2])
    # One number, one row of numbers or one string per test row: all three are results.
    assert AttemptResult(predictions=["579", "1002"]).predictions == ["579", "1002"]
    assert AttemptResult(predictions=[[0.1, 0.9], [None, 1.0]]).to_dict()["predictions"] == [[0.1, 0.9], [None, 1.0]]


def test_reading_does_not_share_lists_with_the_message() -> None:
    message = {"kind": "progress", "seq": 1, "events": [{"kind": "output", "text": "a"}]}
    event = event_from_dict(message)
    message["events"].append({"kind": "output", "text": "b"})
    assert isinstance(event, ProgressBatch) and len(event.events) == 1


# --- properties --------------------------------------------------------------------------

TEXT = st.text(max_size=20)
JSON_LEAVES = st.none() | st.booleans() | st.integers() | st.floats() | TEXT
JSON = st.recursive(
    JSON_LEAVES, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4), max_leaves=12
)
JSON_OBJECT = st.dictionaries(TEXT, JSON, max_size=4)
# For round trips: NaN is never equal to itself, so a batch holding one cannot compare equal after it.
ROUND_TRIP_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
ROUND_TRIP_OBJECT = st.dictionaries(TEXT, ROUND_TRIP_JSON, max_size=4)
FINITE = st.floats(allow_nan=False, allow_infinity=False) | st.integers(min_value=-(2**53), max_value=2**53)

RESULTS = st.builds(
    AttemptResult,
    state=st.none() | st.sampled_from(STATES),
    reason=st.none() | TEXT,
    predictions=st.none() | st.lists(FINITE, max_size=5),
    log_tail=TEXT,
    torch_version=TEXT,
    device=TEXT,
    sandbox=TEXT,
    worker_host=TEXT,
    started_at=TEXT,
    finished_at=TEXT,
    duration_s=FINITE,
    warm_start=st.booleans(),
    metrics_dropped=st.integers(min_value=0),
    artifacts=st.dictionaries(
        st.sampled_from(["weights", "log"]),
        st.fixed_dictionaries(
            {"size": st.integers(min_value=0), "sha256": st.text("0123456789abcdef", min_size=64, max_size=64)}
        ),
    ),
)
EVENTS: st.SearchStrategy[Event] = st.one_of(
    st.builds(Claimed, worker=TEXT, device=TEXT, sandbox=TEXT),
    st.just(Running()),
    st.builds(ProgressBatch, seq=st.none() | st.integers(), events=st.lists(ROUND_TRIP_OBJECT, max_size=3)),
    st.builds(Finished, result=RESULTS),
    st.builds(Lost, previous_worker=st.none() | TEXT),
)


@settings(deadline=None)
@given(EVENTS)
def test_round_trip(event: Event) -> None:
    assert event_from_dict(event.to_dict()) == event
    assert event_from_dict(json.loads(json.dumps(event.to_dict()))) == event


def _mutated(data: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    if key.startswith("result.") and isinstance(data.get("result"), dict):
        return {**data, "result": {**data["result"], key.removeprefix("result."): value}}
    return {**data, key: value}


MUTATED_EVENTS = st.builds(
    _mutated,
    EVENTS.map(lambda event: event.to_dict()),
    st.sampled_from(
        ["kind", "worker", "device", "sandbox", "seq", "events", "result", "previous_worker"]
        + [f"result.{name}" for name in ("state", "reason", "predictions", "log_tail", "duration_s", "warm_start")]
        + ["result.metrics_dropped", "result.started_at", "result.artifacts"]
    ),
    JSON,
)


@settings(deadline=None, max_examples=300)
@given(st.one_of(JSON, JSON_OBJECT, JSON_OBJECT.map(lambda d: {**d, "kind": "finished"}), MUTATED_EVENTS))
def test_any_input_is_an_event_or_an_event_error(data: Any) -> None:
    try:
        event = event_from_dict(data)
    except EventError:
        return
    assert isinstance(event, Claimed | Running | ProgressBatch | Finished | Lost)
    # The same objects come back (NaN included: equality starts with identity).
    assert event_from_dict(event.to_dict()) == event
