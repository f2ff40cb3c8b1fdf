"""The coach's reading of a run (labs.diagnosis): each finding on real training whose code produces
it — a too-large learning rate, a memorising MLP, a forgotten optimizer.step(), a NaN — trained
here with PyTorch on the demo labs' own data (labs.demo.local_run), and never on a reference
solution (tests/labs/test_demo_labs.py checks those, on every demo lab)."""

from __future__ import annotations

import math

import pytest
from django.utils import translation

from labs.demo import demo_lab
from labs.demo.local_run import execute
from labs.diagnosis import CODES, Reading, curve_from_history, diagnose, finding_message

MEMORISING_MLP = """
import torch
from torch import nn


def train(data, run):
    # A wide MLP on only 40 training images, trained far past the point where it knows them by heart.
    x, y = data.x_train[:40].flatten(1), data.y_train[:40]
    x_val, y_val = data.x_val.flatten(1), data.y_val
    model = nn.Sequential(nn.Linear(x.shape[1], 512), nn.ReLU(), nn.Linear(512, data.num_classes))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.003)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(1, 121):
        model.train()
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        model.eval()
        with torch.no_grad():
            val_loss = loss_fn(model(x_val), y_val).item()
        run.log(epoch, loss=loss.item(), val_loss=val_loss)
    return model


def predict(model, x):
    with torch.no_grad():
        return model(x.flatten(1)).argmax(dim=1)
"""

HAND_WRITTEN_CROSS_ENTROPY = """
import torch
from torch import nn


def train(data, run):
    # Cross-entropy written by hand, with a learning rate far too large: a probability reaches 0,
    # its log is -inf, and from then on every weight is NaN.
    model = nn.Sequential(nn.Linear(2, 64), nn.Tanh(), nn.Linear(64, data.num_classes))
    optimizer = torch.optim.SGD(model.parameters(), lr=50.0)
    x, y = data.x_train, data.y_train
    for epoch in range(1, 31):
        probabilities = torch.softmax(model(x), dim=1)
        loss = -torch.log(probabilities[torch.arange(len(y)), y]).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        run.log(epoch, loss=loss.item())
    return model


def predict(model, x):
    with torch.no_grad():
        return model(x).argmax(dim=1)
"""


def trained(slug: str, code: str | None = None, **params: float) -> tuple[list[str], Reading]:
    """Train ``code`` (default: the lab's reference solution) on a demo lab for real: its findings."""
    lab = demo_lab(slug)
    result = execute(slug, code or lab.solution_code, params=params)
    definition = lab.definition
    reading = Reading(
        curve=curve_from_history(result.metrics_log),
        state="succeeded",
        score=result.score,
        passed=result.passed,
        threshold=definition["threshold"],
        higher_is_better=definition["higher_is_better"],
        wall_seconds=definition["limits"]["wall_seconds"],
    )
    return [finding.code for finding in diagnose(reading)], reading


# --- on real training -----------------------------------------------------------------------


def test_a_learning_rate_far_too_large_diverges() -> None:
    codes, _ = trained("linear-regression", lr=1.0)
    assert codes == ["diverging"]


def test_a_learning_rate_a_little_too_large_is_unstable() -> None:
    codes, _ = trained("two-spirals", lr=0.5)
    assert codes == ["unstable"]


def test_a_forgotten_optimizer_step_does_not_learn() -> None:
    code = demo_lab("digits-mlp").solution_code
    assert code.count("optimizer.step()") == 1
    codes, _ = trained("digits-mlp", code.replace("optimizer.step()", "pass  # optimizer.step() forgotten"), epochs=8)
    assert codes == ["not_learning"]


def test_a_memorising_mlp_overfits() -> None:
    codes, reading = trained("digits-mlp", MEMORISING_MLP)
    assert codes == ["overfitting"]
    evidence = diagnose(reading)[0].evidence
    assert evidence["metric"] == "val_loss" and evidence["train_metric"] == "loss"
    assert evidence["end"] > evidence["best"] and evidence["train_end"] < evidence["train_then"]


def test_too_few_epochs_underfit() -> None:
    codes, _ = trained("two-spirals", epochs=20)
    assert codes == ["underfitting"]


def test_a_log_of_zero_makes_the_loss_nan() -> None:
    codes, _ = trained("two-spirals", HAND_WRITTEN_CROSS_ENTROPY)
    assert codes == ["nan_loss"]


def test_a_score_just_under_the_pass_mark_is_close() -> None:
    codes, reading = trained("digits-mlp", epochs=2)
    assert codes == ["below_threshold_close"]
    assert reading.score is not None and 0 < reading.threshold - reading.score <= 0.05


# --- the rules on drawn curves ------------------------------------------------------------------


def curve(losses: list[float], **series: list[float]) -> list[dict[str, object]]:
    points = []
    for i, loss in enumerate(losses):
        metrics = {"loss": loss} | {name: values[i] for name, values in series.items() if i < len(values)}
        points.append({"step": i + 1, "t": float(i), "metrics": metrics})
    return points


FALLING = [2.3 * 0.8**i for i in range(20)]


def test_a_healthy_run_has_no_finding() -> None:
    assert diagnose(Reading(curve=curve(FALLING), score=0.99, passed=True, threshold=0.9)) == []


def test_too_few_points_say_nothing_about_a_trend() -> None:
    assert diagnose(Reading(curve=curve([1.0, 5.0, 25.0]), score=0.1, passed=False, threshold=0.9)) == []
    assert diagnose(Reading(curve=[], state="failed", reason="error: ValueError: bad shapes")) == []


def test_the_sandbox_notes_a_dropped_nan_loss_in_the_log() -> None:
    log = "epoch 3\nrun.log: dropped non-finite metric 'loss'=nan at step 4\n"
    (finding,) = diagnose(Reading(curve=curve([0.7, 0.6]), log=log, state="failed", reason="error: predict returned"))
    assert finding.code == "nan_loss" and finding.evidence["step"] == "4" and finding.evidence["metric"] == "loss"
    accuracy_only = "run.log: dropped non-finite metric 'val_accuracy'=nan at step 4\n"
    assert diagnose(Reading(curve=curve([0.7, 0.6]), log=accuracy_only)) == []  # not a loss


def test_the_time_limit_while_improving() -> None:
    reading = Reading(curve=curve(FALLING), state="timed_out", reason="limit: time", wall_seconds=60)
    assert [f.code for f in diagnose(reading)] == ["time_limit_while_improving"]
    # a run that stopped itself close to its limit, still improving and not passing
    near = [dict(point, t=50.0 + point["step"]) for point in curve(FALLING)]
    reading = Reading(curve=near, score=0.5, passed=False, threshold=0.9, wall_seconds=80)
    assert {"underfitting", "time_limit_while_improving"} <= {f.code for f in diagnose(reading)}


def test_a_sealed_run_gets_no_finding_that_tells_its_score() -> None:
    reading = Reading(curve=curve(FALLING), score=None, passed=None, sealed=True, threshold=0.9)
    assert diagnose(reading) == []
    close = Reading(curve=curve(FALLING[:3]), score=0.88, passed=False, threshold=0.9)
    assert [f.code for f in diagnose(close)] == ["below_threshold_close"]
    assert diagnose(Reading(curve=close.curve, score=0.88, passed=False, sealed=True, threshold=0.9)) == []


def test_close_means_a_few_points_for_a_share_and_a_tenth_for_other_scores() -> None:
    def close(score: float, threshold: float, higher: bool = True) -> bool:
        reading = Reading(curve=[], score=score, passed=False, threshold=threshold, higher_is_better=higher)
        return [f.code for f in diagnose(reading)] == ["below_threshold_close"]

    assert close(0.86, 0.9) and not close(0.8, 0.9)
    assert close(0.55, 0.5, higher=False) and not close(0.7, 0.5, higher=False)  # an MSE of 0.55 for ≤ 0.5
    assert close(105.0, 100.0, higher=False) and not close(130.0, 100.0, higher=False)


def test_a_loss_that_bounces_early_and_settles_low_in_a_run_that_passed_is_not_unstable() -> None:
    # finetune-lora's reference, one seed through the platform: fast learning, not instability
    early = [0.55, 0.40, 0.05, 0.20, 0.01, 0.06, 0.0025, 0.02, 0.0015, 0.001, 0.0009, 0.0008]
    calm = early + [0.0007 - 0.00001 * i for i in range(24)]
    assert diagnose(Reading(curve=curve(calm), score=1.0, passed=True, threshold=0.9)) == []
    # the same bouncing in a run that did not pass is worth a word
    assert "unstable" in {f.code for f in diagnose(Reading(curve=curve(early), score=0.5, passed=False, threshold=0.9))}


def test_a_validation_blip_is_not_a_best_to_overfit_from() -> None:
    val = [0.5, 0.5, 0.9, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
    reading = Reading(curve=curve(FALLING[:10], val_accuracy=val), score=0.5, passed=False, threshold=0.9)
    assert "overfitting" not in {f.code for f in diagnose(reading)}


def test_every_message_reads_in_both_languages_with_its_evidence() -> None:
    readings = {
        "nan_loss": Reading(curve=curve([0.7, 0.6]), log="run.log: dropped non-finite metric 'loss'=inf at step 9"),
        "diverging": Reading(curve=curve([1.0 * 1.5**i for i in range(10)])),
        "not_learning": Reading(curve=curve([2.30] * 10), passed=False),
        "unstable": Reading(curve=curve([1.0, 0.4, 1.2, 0.3, 1.1, 0.4, 1.3, 0.3, 1.2, 0.4])),
        "overfitting": Reading(
            curve=curve(FALLING[:12], val_loss=[1.0, 0.8, 0.6, 0.5, 0.55, 0.6, 0.7, 0.8] + [0.9] * 4)
        ),
        "underfitting": Reading(curve=curve(FALLING), score=0.5, passed=False, threshold=0.9),
        "time_limit_while_improving": Reading(curve=curve(FALLING), state="timed_out", reason="limit: time"),
        "below_threshold_close": Reading(curve=[], score=0.88, passed=False, threshold=0.9),
    }
    assert set(readings) == set(CODES)
    for code, reading in readings.items():
        findings = {f.code: f for f in diagnose(reading)}
        assert code in findings, (code, list(findings))
        for language in ("en", "zh-hans"):
            with translation.override(language):
                message = finding_message(code, findings[code].evidence)
            assert "%(" not in message and len(message) > 60, (code, language, message)
        with translation.override("zh-hans"):
            assert any("\u4e00" <= ch <= "\u9fff" for ch in finding_message(code, findings[code].evidence)), code


def test_the_evidence_is_json_and_points_lie_on_the_curve() -> None:
    reading = Reading(curve=curve([1.0 * 1.5**i for i in range(10)]))
    (finding,) = diagnose(reading)
    steps = {point["step"] for point in reading.curve}
    assert all(step in steps for step, _value in finding.evidence["points"])
    assert all(math.isfinite(value) for _step, value in finding.evidence["points"])


@pytest.mark.parametrize("negative", [[-1.0 * i for i in range(10)]])
def test_a_loss_below_zero_is_not_read_by_ratios(negative: list[float]) -> None:
    assert diagnose(Reading(curve=curve(negative), score=0.99, passed=True, threshold=0.9)) == []
