"""The supervisor's readers of what the sandbox writes never raise, whatever it writes.

Property-based: the real ``EventReader``, ``OutputCapture`` and predictions reader are driven
with arbitrary bytes and with arbitrary *valid* JSON (huge and negative numbers, deep nesting,
long strings, unknown kinds, other runs' ids). Finding 1 of the outside review: a 400-digit
integer in a metrics event raised ``OverflowError`` in the reader and crashed the job task.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workers.progress import MAX_METRIC_NAMES, EventReader, OutputCapture
from workers.runner import read_predictions

HOSTILE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

numbers = st.one_of(
    st.integers(min_value=-(10**600), max_value=10**600),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
)
json_values = st.recursive(
    st.none() | numbers | st.text(max_size=200),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=20), inner, max_size=5),
    max_leaves=30,
)
kinds = st.sampled_from(["metrics", "failure", "phase", "ready", "progress", "finished", "claimed", "bogus", ""])
events = st.fixed_dictionaries(
    {"kind": kinds | json_values},
    optional={
        "step": numbers | json_values,
        "t": numbers | json_values,
        "metrics": st.dictionaries(st.text(max_size=80), numbers | json_values, max_size=40) | json_values,
        "reason": st.text(max_size=2000) | json_values,
        "phase": st.text(max_size=100) | json_values,
        "torch": st.text(max_size=100) | json_values,
        "run_id": st.integers(),
        "token": st.text(max_size=40),
        "result": json_values,
    },
)


def _dumps(event: dict) -> bytes:
    # Python's json writes NaN/Infinity and ints of any size; so can learner code.
    return (json.dumps(event) + "\n").encode()


def _assert_clean(parsed: list[dict]) -> None:
    for event in parsed:
        assert event["kind"] in ("metrics", "failure", "phase", "ready")
        if event["kind"] == "metrics":
            assert math.isfinite(event["step"]) and math.isfinite(event["t"])
            assert 0 < len(event["metrics"]) <= MAX_METRIC_NAMES
            assert all(isinstance(k, str) and math.isfinite(v) for k, v in event["metrics"].items())
        json.dumps(event, allow_nan=False)  # what goes on to the site is plain JSON


@HOSTILE
@given(st.lists(st.binary(max_size=3000), max_size=20))
def test_event_reader_never_raises_on_arbitrary_bytes(chunks: list[bytes]) -> None:
    reader = EventReader()
    for chunk in chunks:
        _assert_clean(reader.feed(chunk))


@HOSTILE
@given(st.lists(events, min_size=1, max_size=10), st.integers(min_value=1, max_value=64))
def test_event_reader_never_raises_on_arbitrary_valid_json(batch: list[dict], cut: int) -> None:
    data = b"".join(_dumps(event) for event in batch)
    reader = EventReader()
    parsed = []
    for start in range(0, len(data), cut):  # any split into reads
        parsed += reader.feed(data[start : start + cut])
    _assert_clean(parsed)
    assert len(parsed) + reader.bad_lines + reader.metrics_dropped == len(batch)


def test_a_huge_integer_is_one_bad_metric_not_a_crash() -> None:
    reader = EventReader()
    line = b'{"kind":"metrics","step":' + b"9" * 400 + b',"metrics":{"loss":' + b"9" * 400 + b"}}\n"
    assert reader.feed(line) == []
    assert reader.bad_lines == 1
    deep = b'{"kind":"metrics","step":1,"metrics":' + b"[" * 5000 + b"]" * 5000 + b"}\n"
    assert reader.feed(deep) == []
    good = b'{"kind":"metrics","step":-3,"metrics":{"loss":0.5,"big":' + b"9" * 400 + b"}}\n"
    assert reader.feed(good) == [{"kind": "metrics", "step": -3.0, "metrics": {"loss": 0.5}, "t": 0.0}]


@HOSTILE
@given(st.lists(st.binary(max_size=5000), max_size=30), st.integers(min_value=1024, max_value=8192))
def test_output_capture_never_raises_and_stays_bounded(chunks: list[bytes], cap: int) -> None:
    capture = OutputCapture(cap)
    streamed = "".join(capture.feed(chunk) for chunk in chunks)
    log = capture.render()
    assert len(log.encode("utf-8", "surrogatepass")) <= cap * 3 + 200
    assert len(streamed.encode("utf-8", "surrogatepass")) <= cap * 3 + 200


@HOSTILE
@given(st.binary(max_size=4000))
def test_predictions_reader_never_raises_on_arbitrary_files(tmp_path_factory, content: bytes) -> None:
    job = tmp_path_factory.mktemp("job")
    (job / "out").mkdir()
    (job / "out" / "predictions.npy").write_bytes(content)
    predictions, problem = read_predictions(job, expected_rows=10)
    assert predictions is None and problem


@HOSTILE
@given(st.binary(max_size=200))
def test_predictions_reader_on_a_crafted_npy_header(tmp_path_factory, tail: bytes) -> None:
    job = tmp_path_factory.mktemp("job")
    (job / "out").mkdir()
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (" + tail + b"), }"
    data = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header
    (job / "out" / "predictions.npy").write_bytes(data)
    predictions, problem = read_predictions(job, expected_rows=3)
    assert predictions is None and problem


def test_predictions_reader_accepts_a_good_file(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    np.save(tmp_path / "out" / "predictions.npy", np.arange(3, dtype=np.float32))
    assert read_predictions(tmp_path, expected_rows=3) == ([0.0, 1.0, 2.0], None)
    np.save(tmp_path / "out" / "predictions.npy", np.eye(3, 2))  # a row of class scores per test row
    assert read_predictions(tmp_path, expected_rows=3) == ([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]], None)
    np.save(tmp_path / "out" / "predictions.npy", np.array(["12", "7", ""]))  # a string per row
    assert read_predictions(tmp_path, expected_rows=3) == (["12", "7", ""], None)


def test_predictions_reader_refuses_objects_cubes_and_nan_rows(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    np.save(tmp_path / "out" / "predictions.npy", np.zeros((3, 2, 2)))
    assert read_predictions(tmp_path, expected_rows=3)[1].startswith("the predictions have shape (3, 2, 2)")
    np.save(tmp_path / "out" / "predictions.npy", np.array([[0.0, np.nan]] * 3))
    assert read_predictions(tmp_path, expected_rows=3) == (None, "the predictions contain NaN or infinite values")
    np.save(tmp_path / "out" / "predictions.npy", np.array([b"a", b"b", b"c"]))  # bytes are not text
    assert read_predictions(tmp_path, expected_rows=3)[0] is None
