"""Sparklines, the status block, and the plain lines for pipes (the same as submit_lab's)."""

from __future__ import annotations

import io
import math

from academy_client.progress import (
    ASCII_LEVELS,
    BLOCKS,
    LineDisplay,
    TerminalDisplay,
    curve_names,
    render_block,
    sparkline,
    terminal_display,
)


def point(step: int, **metrics: float) -> dict:
    return {"step": step, "t": step * 0.1, "metrics": metrics}


def test_a_sparkline_spans_the_lowest_to_the_highest_level() -> None:
    line = sparkline([3.0, 2.0, 1.0, 0.0])
    assert line[0] == BLOCKS[-1] and line[-1] == BLOCKS[0]
    assert len(line) == 4


def test_a_long_curve_is_averaged_into_the_width() -> None:
    values = [float(i) for i in range(1000)]
    line = sparkline(values, width=20)
    assert len(line) == 20
    assert line == "".join(sorted(line))  # still rising


def test_a_flat_curve_and_non_finite_values_do_not_break_it() -> None:
    assert sparkline([0.5, 0.5, 0.5]) == BLOCKS[4] * 3
    assert sparkline([1.0, math.nan, math.inf, 2.0]) == BLOCKS[0] + BLOCKS[-1]
    assert sparkline([]) == ""


def test_ascii_levels_for_terminals_that_cannot_draw_blocks() -> None:
    assert set(sparkline([0, 1, 2, 3], levels=ASCII_LEVELS)) <= set(ASCII_LEVELS)
    stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    assert TerminalDisplay(stream).levels == ASCII_LEVELS


def test_the_loss_comes_first_then_the_labs_metric() -> None:
    curve = [point(1, lr=0.1, val_accuracy=0.5, loss=2.0, grad=1.0)]
    assert curve_names(curve, "accuracy") == ["loss", "val_accuracy", "lr"]


def test_the_block_shows_state_time_last_metrics_and_a_curve_per_metric() -> None:
    run = {"id": 7, "state": "running", "metric": "accuracy", "curve": [point(i, loss=1 / i) for i in range(1, 9)]}
    lines = render_block(run, 75, width=100)
    assert lines[0] == "run 7 · running · 1:15 · step 8: loss=0.125"
    assert lines[1].startswith("  loss █") and lines[1].endswith(" 0.125")


def test_the_final_block_says_the_score_and_the_verdict() -> None:
    run = {"id": 7, "state": "succeeded", "metric": "r2", "score": 0.98, "passed": True, "curve": []}
    assert render_block(run, 5)[0] == "run 7 · succeeded · 0:05 · r2 0.98 · passed"


def test_lines_are_cut_to_the_terminal_width() -> None:
    run = {"id": 1, "state": "failed", "reason": "error: " + "x" * 300, "curve": []}
    assert all(len(line) <= 40 for line in render_block(run, 1, width=40))


def test_plain_lines_match_submit_labs_format() -> None:
    out = io.StringIO()
    display = LineDisplay(out)
    display.update({"state": "queued", "curve": []}, 0)
    display.update({"state": "running", "curve": [point(1, loss=0.31234, val_accuracy=0.9)]}, 1)
    display.update({"state": "running", "curve": [point(1, loss=0.31234, val_accuracy=0.9), point(2, loss=0.2)]}, 2)
    display.update({"state": "failed", "reason": "limit: time", "curve": []}, 3)
    assert out.getvalue().splitlines() == [
        "[queued]",
        "[running]",
        "  step 1: loss=0.3123 val_accuracy=0.9",
        "  step 2: loss=0.2",
        "[failed] limit: time",
    ]


def test_a_terminal_block_is_redrawn_in_place() -> None:
    out = io.StringIO()
    display = TerminalDisplay(out)
    display.update({"id": 1, "state": "queued", "curve": []}, 0)
    display.update({"id": 1, "state": "running", "curve": []}, 1)
    assert out.getvalue().count("\x1b[1F\x1b[J") == 1  # up one line and clear, then the new block


def test_pipes_get_plain_lines() -> None:
    assert isinstance(terminal_display(io.StringIO()), LineDisplay)
