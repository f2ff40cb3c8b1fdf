"""Whatever text learner code prints or a worker reports (NUL bytes, lone surrogates, 4-byte
characters) and whatever numbers it logs, the events of a run reach the database and the run
ends in the state its result says. Run this module on PostgreSQL too: SQLite stores NUL and
lone surrogates, PostgreSQL refuses both."""

from __future__ import annotations

import math
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.models import User
from core.text import db_text
from labs import run_events, services
from labs.models import Lab, Run, RunState
from tests.labs.conftest import VALID_CODE

PERFECT = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]
DB_FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)

# Any code point, surrogates included (Hypothesis leaves them out unless asked), with the hard ones often.
HARD = ["\x00", "\ud800", "\udfff", "\ud83d", "\ude00", "\ud83d\ude00", "😀", "𠀀", "\n", "\u200b", "é"]
TEXT = st.lists(st.characters(exclude_categories=()) | st.sampled_from(HARD), max_size=40).map("".join)
NUMBERS = st.integers() | st.floats() | st.sampled_from([10**400, -(10**400), 2**63, -(2**63) - 1, 1e308, -0.0])
LOOSE = NUMBERS | TEXT | st.none() | st.booleans()


def storable(text: str) -> bool:
    return "\x00" not in text and not any("\ud800" <= char <= "\udfff" for char in text)


def finite(value: Any) -> bool:
    try:
        return isinstance(value, int | float) and math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


@st.composite
def batches(draw: st.DrawFn) -> list[dict[str, Any]]:
    """One progress batch as a lab worker sends it: output text and metrics points."""
    output = st.builds(lambda text: {"kind": "output", "text": text}, TEXT)
    metrics = st.builds(
        lambda step, t, values: {"kind": "metrics", "step": step, "t": t, "metrics": values},
        LOOSE,
        LOOSE,
        st.dictionaries(TEXT, LOOSE, max_size=3),
    )
    return draw(st.lists(output | metrics, max_size=4))


def apply(run: Run, kind: str, **fields: Any) -> None:
    run_events.run_event_apply(run_id=run.pk, token=run.token, event={"kind": kind, **fields})


def assert_curve_storable(run: Run) -> None:
    for point in run.curve:
        assert point["step"] is None or finite(point["step"])
        assert point["t"] is None or finite(point["t"])
        assert point["metrics"]
        for name, value in point["metrics"].items():
            assert storable(name) and name.isprintable() and 0 < len(name) <= run_events.MAX_METRIC_NAME_CHARS
            assert finite(value)


@DB_FUZZ
@given(
    worker=TEXT,
    device=TEXT,
    sandbox=TEXT,
    progress=st.lists(batches(), max_size=3),
    state=st.sampled_from(["succeeded", "failed", "timed_out", "cancelled"]) | TEXT,
    reason=TEXT,
    log_tail=TEXT,
    torch_version=TEXT,
    predictions=st.just(PERFECT) | st.lists(NUMBERS | st.none(), min_size=10, max_size=10),
)
@example(
    worker="lab\x00host",
    device="cpu",
    sandbox="bwrap",
    progress=[[{"kind": "output", "text": "\x00\x01binary\x00"}]],
    state="succeeded",
    reason="",
    log_tail="tail \x00 \ud800 😀 𠀀",
    torch_version="2.13.0",
    predictions=[10**400, math.nan, -math.inf, *PERFECT[3:]],
)
@example(
    worker="w",
    device="cpu",
    sandbox="",
    progress=[[{"kind": "metrics", "step": 10**400, "t": math.inf, "metrics": {"lo\x00ss": 10**400, "\ud800": 1}}]],
    state="failed",
    reason="error: \x00",
    log_tail="",
    torch_version="",
    predictions=PERFECT,
)
def test_any_text_from_a_run_is_stored_and_the_run_ends(
    lab: Lab,
    learner: User,
    caplog: pytest.LogCaptureFixture,
    worker: str,
    device: str,
    sandbox: str,
    progress: list[list[dict[str, Any]]],
    state: str,
    reason: str,
    log_tail: str,
    torch_version: str,
    predictions: list[Any],
) -> None:
    caplog.clear()
    with transaction.atomic():  # each example starts from the same world
        run = services.submission_create(learner=learner, lab=lab, source="api", code=VALID_CODE)
        apply(run, "claimed", worker=worker, device=device, sandbox=sandbox)
        run.refresh_from_db()
        assert run.state == RunState.PREPARING
        assert (run.worker_host, run.device, run.sandbox) == (
            db_text(worker)[:200],
            db_text(device)[:20],
            db_text(sandbox)[:80],
        )
        printed = ""
        for seq, batch in enumerate(progress):
            apply(run, "progress", seq=seq, events=batch)
            printed += db_text("".join(e["text"] for e in batch if e["kind"] == "output"))
            run.refresh_from_db()
            assert (run.state, run.log) == (RunState.RUNNING, printed[-run_events.MAX_LOG_CHARS :])
            assert_curve_storable(run)
        result = {
            "state": state,
            "reason": reason,
            "log_tail": log_tail,
            "device": device,
            "torch_version": torch_version,
            "sandbox": sandbox,
            "predictions": predictions,
        }
        apply(run, "finished", result=result)
        run.refresh_from_db()
        expected_state = {
            "succeeded": RunState.SUCCEEDED,
            "timed_out": RunState.TIMED_OUT,
            "cancelled": RunState.CANCELLED,
        }.get(state, RunState.FAILED)
        assert run.state == expected_state
        assert run.log == (db_text(log_tail) if db_text(log_tail) else printed)[-run_events.MAX_LOG_CHARS :]
        assert run.torch_version == db_text(torch_version)[:40]
        if expected_state == RunState.SUCCEEDED:  # scored on the site, whatever the numbers
            assert run.reason == "" and finite(run.score)
            assert run.score == 1.0 if predictions == PERFECT else run.score <= 1.0
        else:
            assert run.reason == (db_text(reason) or "error: the run ended without a result")[:500]
        transaction.set_rollback(True)
    assert not [r for r in caplog.records if r.name == "labs.services"]  # every event applied as it came


@pytest.mark.django_db
def test_a_finished_event_the_database_refuses_stores_a_minimal_result(
    lab: Lab, learner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = services.submission_create(learner=learner, lab=lab, source="api", code=VALID_CODE)
    apply(run, "claimed", worker="lab@test", device="cpu")
    real_move = run_events._move

    def move(*args: Any, **fields: Any) -> bool:
        if "tail" in fields.get("log", ""):  # as if the log tail held text this database cannot take
            raise ValueError("A string literal cannot contain NUL (0x00) characters.")
        return real_move(*args, **fields)

    monkeypatch.setattr(run_events, "_move", move)
    apply(run, "finished", result={"state": "failed", "reason": "error: boom", "log_tail": "tail"})
    run.refresh_from_db()
    assert (run.state, run.reason, run.log) == (RunState.FAILED, "error: boom", "")


@pytest.mark.django_db
def test_a_result_that_cannot_be_stored_at_all_ends_the_run_once_as_a_platform_failure(
    lab: Lab, learner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = services.submission_create(learner=learner, lab=lab, source="api", code=VALID_CODE)
    apply(run, "running")
    ended = []
    monkeypatch.setattr(run_events, "predictions_to_json", lambda values: 1 / 0)
    monkeypatch.setattr(run_events, "run_ended", lambda *, run_id: ended.append(run_id))
    apply(run, "finished", result={"state": "succeeded", "predictions": PERFECT})
    apply(run, "finished", result={"state": "succeeded", "predictions": PERFECT})  # delivered again
    run.refresh_from_db()
    assert (run.state, run.reason) == (RunState.FAILED, run_events.UNSTORABLE_RESULT_REASON)
    assert run.finished_at is not None and ended == [run.pk]


@pytest.mark.django_db
def test_a_progress_batch_the_database_refuses_still_shows_the_run_running(
    lab: Lab, learner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = services.submission_create(learner=learner, lab=lab, source="api", code=VALID_CODE)
    apply(run, "claimed", worker="lab@test")

    def refuse(*args: Any) -> None:
        raise ValueError("A string literal cannot contain NUL (0x00) characters.")

    monkeypatch.setattr(run_events, "_progress_apply", refuse)
    apply(run, "progress", seq=0, events=[{"kind": "output", "text": "epoch 1\n"}])
    run.refresh_from_db()
    assert (run.state, run.log) == (RunState.RUNNING, "")
