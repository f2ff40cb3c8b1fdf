"""Output capture, event parsing and progress batching: bounded whatever the sandbox writes."""

from __future__ import annotations

import itertools
import json
import time

from workers.harness import MetricThinner
from workers.progress import EventReader, OutputCapture, ProgressBatcher


def test_output_keeps_head_and_tail_within_the_cap() -> None:
    capture = OutputCapture(cap=100)
    live = "".join(capture.feed(f"line {i:04d}\n".encode()) for i in range(1000))
    log = capture.render()
    assert log.startswith("line 0000\nline 0001\n")
    assert log.endswith("line 0999\n")
    assert "bytes of output omitted" in log
    assert len(log.encode()) < 100 + 60
    # The live stream stops at the cap with one marker.
    assert live.startswith("line 0000") and live.count("[output truncated here") == 1
    assert len(live) < 100 + 100


def test_small_output_is_kept_verbatim_and_utf8_split_across_chunks() -> None:
    capture = OutputCapture(cap=4096)
    data = "héllo wörld ✓\n".encode()
    live = capture.feed(data[:2]) + capture.feed(data[2:])
    assert live == capture.render() == "héllo wörld ✓\n"


def test_flood_is_detected() -> None:
    capture = OutputCapture(cap=1024)
    chunk = b"x" * 65536
    while not capture.flooded:
        capture.feed(chunk)
    assert capture.total > 32 * 1024 * 1024


def event(kind: str, **fields: object) -> bytes:
    return (json.dumps({"kind": kind, **fields}) + "\n").encode()


def test_events_are_validated_and_split_across_reads() -> None:
    reader = EventReader()
    data = (
        event("metrics", step=1, metrics={"loss": 0.5, "acc": True, "bad": "x", "nan": float("nan")}, t=0.1)
        + b"garbage\n"
        + event("result", score=1.0)  # there is no such event: ignored
        + event("failure", reason="error: ValueError: x")
        + event("metrics", step="nope", metrics={"a": 1})
    )
    events = reader.feed(data[:17]) + reader.feed(data[17:])
    assert events == [
        {"kind": "metrics", "step": 1.0, "metrics": {"loss": 0.5}, "t": 0.1},
        {"kind": "failure", "reason": "error: ValueError: x"},
    ]
    assert reader.bad_lines == 3


def test_metric_events_are_capped_and_long_lines_skipped() -> None:
    reader = EventReader(max_metrics=10)
    lines = b"".join(event("metrics", step=i, metrics={"loss": 1.0}, t=0) for i in range(50))
    long_line = b'{"kind": "failure", "reason": "' + b"x" * 100_000 + b'"}\n'
    events = reader.feed(lines + long_line + event("phase", phase="predict"))
    assert [e["step"] for e in events if e["kind"] == "metrics"] == list(range(10))
    assert events[-1] == {"kind": "phase", "phase": "predict"}
    assert reader.metrics_dropped == 40


def test_batcher_sends_first_batch_at_once_then_at_most_every_interval() -> None:
    sent: list[tuple[float, list]] = []
    batcher = ProgressBatcher(lambda batch: sent.append((time.monotonic(), batch)), interval=0.2)
    start = time.monotonic()
    while time.monotonic() - start < 1.0:
        batcher.add({"kind": "output", "text": "a"})
        batcher.maybe_flush()
        time.sleep(0.005)
    batcher.flush()
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(sent[:-1])]
    assert sent[0][0] - start < 0.05
    assert all(gap >= 0.19 for gap in gaps)
    assert 4 <= len(sent) <= 7
    # Consecutive output events are merged into one.
    assert all(len(batch) == 1 for _, batch in sent)
    assert sum(len(batch[0]["text"]) for _, batch in sent) > 100


def test_a_failing_callback_does_not_stop_anything() -> None:
    def broken(_batch: list) -> None:
        raise ConnectionError("broker down")

    batcher = ProgressBatcher(broken)
    batcher.add({"kind": "output", "text": "x"})
    batcher.flush()
    assert batcher.batches == 1


def test_metric_thinner_bounds_points_and_spreads_them() -> None:
    thinner = MetricThinner(cap=5000)
    kept = [i for i in range(2_000_000) if thinner.accept()]
    assert len(kept) <= 5000
    assert kept[:5] == [0, 1, 2, 3, 4]
    assert kept[-1] > 1_000_000  # late steps are still represented
