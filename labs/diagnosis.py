"""A coach's reading of a finished run: what its learning curve, log and outcome say went wrong.

``diagnose(reading)`` returns zero or more findings, each a ``code`` and its ``evidence`` (the
metric, the points of the curve that show it, and the numbers the explanation quotes). It is a
pure function of what the run recorded, so the same run always gets the same findings; the site
stores them on the run when it ends (``labs.run_events``) and explains them in the reader's
language (``finding_message``). The rules, and the thresholds they use, are the ones a mentor
applies by eye:

- ``nan_loss``: a loss became NaN or infinite (the sandbox drops such a point from the curve and
  says so in the log, or the learner's own print shows it).
- ``diverging``: the training loss ends well above where it started and above twice its best.
- ``not_learning``: the run did not pass and its training loss is flat from the first point (or
  the second: the first may average a wild first epoch) to the last.
- ``unstable``: over some stretch of the run (of its last third, in a run that passed) the
  training loss keeps jumping up and down, by a large share of its level and of where it started
  (mini-batch noise on a falling loss is not).
- ``overfitting``: a validation metric (smoothed over three points: one lucky evaluation is not a
  best; in a run that passed, a validation loss only) was best before the end and its trend since
  then is clearly worse, while the training loss kept falling.
- ``underfitting``: the run did not pass, and the training loss was still falling at the end
  (neither memorising nor stuck: it needs more capacity or more steps).
- ``time_limit_while_improving``: the wall-clock limit stopped the run (or it stopped itself near
  the limit) while its loss was still falling.
- ``below_threshold_close``: the score missed the pass mark by a few points.

A sealed run (a challenge's, before the reveal) gets no finding that would tell its score.
"""

from __future__ import annotations

import itertools
import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from core.findings import FINDING_CODES
from labs.models import Run
from labs.signals import diagnosis_lessons_signal

CODES = FINDING_CODES  # in the order findings are listed
MIN_POINTS = 4  # fewer logged points say nothing about a trend
DIVERGING_OVER_START = 1.2  # the loss ends 20 % above its start...
DIVERGING_OVER_BEST = 2.0  # ...and at twice its best
FLAT_SHARE = 0.03  # not learning: the loss never moved by more than 3 % of where it started
UNSTABLE_WINDOW = 8  # unstable: over some 8 points in a row...
UNSTABLE_JUMPS = 0.4  # ...at least 40 % of steps turn direction...
UNSTABLE_OVER_LEVEL = 0.25  # ...each jump a quarter of the loss's level...
UNSTABLE_OVER_START = 0.05  # ...and 5 % of where it started (noise on a small loss is fine)
OVERFIT_QUALITY_DROP = 0.02  # a validation accuracy-like metric 2 points below its best
OVERFIT_LOSS_RISE = 0.10  # a validation loss 10 % above its best
OVERFIT_TRAIN_FALL = 0.90  # while the training loss fell 10 % or more since that best
IMPROVING_FALL = 0.95  # still improving: the loss fell 5 % or more over the last quarter
NEAR_LIMIT = 0.85  # a run that stopped after 85 % of its wall-clock limit was stopped by it
CLOSE_ABSOLUTE = 0.05  # a score in [0, 1] within 5 points of the pass mark
CLOSE_RELATIVE = 0.10  # another score within 10 % of it
LOSS_WORDS = ("loss", "error", "mse", "mae", "rmse", "nll", "perplexity")
VALIDATION_PREFIXES = ("val_", "valid_", "validation_", "dev_")
DROPPED_POINT = re.compile(r"run\.log: dropped non-finite metric '([^']+)'=(\S+) at step (\S+)")
PRINTED_NAN = re.compile(r"^.*\bloss\b.{0,40}?\b(nan|inf)\b.*$", re.IGNORECASE | re.MULTILINE)
TIME_LIMIT_REASON = "limit: time"
LESSONS_PER_FINDING = 2


@dataclass(frozen=True)
class Reading:
    """What a finished run recorded, and its lab's pass mark."""

    curve: Sequence[dict[str, Any]]  # [{step, t, metrics: {name: value}}]
    log: str = ""
    state: str = "succeeded"  # labs.models.RunState
    reason: str = ""
    score: float | None = None
    passed: bool | None = None
    sealed: bool = False
    threshold: float = 0.0
    higher_is_better: bool = True
    wall_seconds: float = 0.0


@dataclass(frozen=True)
class Finding:
    code: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "evidence": self.evidence}


def diagnose(reading: Reading) -> list[Finding]:
    """The findings of a finished run, in the order of ``CODES``."""
    names = {name for point in reading.curve for name in (point.get("metrics") or {})}
    loss_name = training_loss_name(names)
    loss = _series(reading.curve, loss_name) if loss_name else []
    findings = [_nan_loss(reading.log) or _nan_in_curve(reading.curve, names)]
    if len(loss) >= MIN_POINTS and min(v for _s, v in loss) >= 0:
        diverging = _diverging(loss_name, loss)
        flat = None if diverging else _not_learning(loss_name, loss, reading.passed)
        unstable = None if flat or diverging else _unstable(loss_name, loss, reading.passed)  # one cause, one fix
        # An unstable run's validation swings are the instability, not memorising.
        overfitting = (
            None if unstable or diverging else _overfitting(reading.curve, names, loss_name, loss, reading.passed)
        )
        improving = None if diverging or flat or overfitting else _still_improving(loss_name, loss)
        findings += [diverging, flat, unstable, overfitting]
        findings += [_underfitting(reading, improving), _time_limit(reading, improving)]
    findings.append(_close(reading))
    return [finding for finding in findings if finding is not None]


def training_loss_name(names: set[str]) -> str | None:
    """The metric that is the training loss: ``train_loss``, ``loss``, or another loss-like name
    that is not a validation one."""
    for name in ("train_loss", "loss", "training_loss"):
        if name in names:
            return name
    candidates = sorted(n for n in names if lower_is_better(n) and not is_validation(n))
    return candidates[0] if candidates else None


def lower_is_better(name: str) -> bool:
    return any(word in name.lower() for word in LOSS_WORDS)


def is_validation(name: str) -> bool:
    return name.lower().startswith(VALIDATION_PREFIXES)


def _series(curve: Sequence[dict[str, Any]], name: str) -> list[tuple[float, float]]:
    """``name``'s (step, value) points, finite ones only, in step order."""
    points = []
    for point in curve:
        value = (point.get("metrics") or {}).get(name)
        if isinstance(value, int | float) and math.isfinite(value):
            points.append((float(point.get("step", 0)), float(value)))
    return sorted(points, key=lambda p: p[0])


def _window(n: int) -> int:
    return max(1, min(3, n // 5))


def _start(points: list[tuple[float, float]]) -> float:
    return statistics.median(v for _s, v in points[: _window(len(points))])


def _end(points: list[tuple[float, float]]) -> float:
    return statistics.median(v for _s, v in points[-_window(len(points)) :])


def _pt(point: tuple[float, float]) -> list[float]:
    return [_num(point[0]), _num(point[1])]


def _num(value: float) -> float:
    return float(f"{value:.4g}")


def _nan_loss(log: str) -> Finding | None:
    for name, value, step in DROPPED_POINT.findall(log or ""):
        if lower_is_better(name):
            return Finding("nan_loss", {"metric": name, "value": value, "step": step, "line": _line(log, name)})
    printed = PRINTED_NAN.search(log or "")
    if printed:
        return Finding(
            "nan_loss", {"metric": "loss", "value": printed.group(1).lower(), "line": printed.group(0)[:200]}
        )
    return None


def _nan_in_curve(curve: Sequence[dict[str, Any]], names: set[str]) -> Finding | None:
    """A non-finite loss kept in the curve (a curve recorded elsewhere: the sandbox drops them)."""
    for point in curve:
        for name, value in (point.get("metrics") or {}).items():
            if lower_is_better(name) and isinstance(value, float) and not math.isfinite(value):
                return Finding("nan_loss", {"metric": name, "value": str(value), "step": _g(point.get("step", 0))})
    return None


def curve_from_history(history: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """A curve in the site's shape from ``[{step, name: value, ...}]`` (``labs.demo.local_run``)."""
    return [
        {"step": entry["step"], "metrics": {k: v for k, v in entry.items() if k != "step" and isinstance(v, float)}}
        for entry in history
    ]


def _line(log: str, name: str) -> str:
    for line in log.splitlines():
        if f"metric '{name}'" in line:
            return line[:200]
    return ""


def _diverging(name: str, loss: list[tuple[float, float]]) -> Finding | None:
    start, end = _start(loss), _end(loss)
    best = min(loss, key=lambda p: p[1])
    if end > DIVERGING_OVER_START * start and end > DIVERGING_OVER_BEST * best[1] and end > 0:
        first, last = loss[0], loss[-1]
        points = [_pt(first), _pt(best), _pt(last)] if best not in (first, last) else [_pt(first), _pt(last)]
        return Finding("diverging", {"metric": name, "points": points, "start": _num(first[1]), "end": _num(end)})
    return None


def _not_learning(name: str, loss: list[tuple[float, float]], passed: bool | None) -> Finding | None:
    """Flat from the first point, or from the second (the first may average a wild first epoch),
    in a run that did not pass."""
    if passed:
        return None
    for flat in (loss, loss[1:]):
        start = _start(flat)
        values = [v for _s, v in flat]
        if len(flat) >= MIN_POINTS and start > 0 and max(values) - min(values) <= FLAT_SHARE * start:
            return Finding(
                "not_learning", {"metric": name, "points": [_pt(flat[0]), _pt(flat[-1])], "start": _num(start)}
            )
    return None


def _unstable(name: str, loss: list[tuple[float, float]], passed: bool | None) -> Finding | None:
    """The loss turns up and down by large jumps over some stretch of ``UNSTABLE_WINDOW`` points
    (after the first point, which may average a wild start). In a run that passed, only a stretch
    in its last third counts: a loss that bounces early and then settles low is learning fast."""
    rest, start = (loss[(2 * len(loss)) // 3 :] if passed else loss[1:]), _start(loss)
    width = min(UNSTABLE_WINDOW, len(rest))
    if width < MIN_POINTS:
        return None
    for first in range(len(rest) - width + 1):
        window = rest[first : first + width]
        values = [v for _s, v in window]
        jumps = [b - a for a, b in itertools.pairwise(values)]
        turns = sum(1 for a, b in itertools.pairwise(jumps) if a * b < 0) / max(1, len(jumps) - 1)
        size = statistics.median(abs(j) for j in jumps)
        level = statistics.median(values)
        if turns >= UNSTABLE_JUMPS and size >= UNSTABLE_OVER_LEVEL * level and size >= UNSTABLE_OVER_START * start:
            low, high = min(window, key=lambda p: p[1]), max(window, key=lambda p: p[1])
            return Finding(
                "unstable",
                {
                    "metric": name,
                    "points": [_pt(p) for p in sorted([low, high], key=lambda p: p[0])],
                    "low": _num(low[1]),
                    "high": _num(high[1]),
                },
            )
    return None


def _overfitting(
    curve: Sequence[dict[str, Any]],
    names: set[str],
    loss_name: str,
    loss: list[tuple[float, float]],
    passed: bool | None,
) -> Finding | None:
    """In a run that passed, only a validation loss counts (an accuracy's few points of noise at the
    top are not memorising)."""
    train = _smoothed(loss)
    for name in sorted(n for n in names if is_validation(n) and (lower_is_better(n) or not passed)):
        val = _smoothed(_series(curve, name))  # one lucky evaluation is not a best
        if len(val) < MIN_POINTS:
            continue
        lower = lower_is_better(name)
        best = (min if lower else max)(val, key=lambda p: p[1])
        after = [p for p in val if p[0] >= best[0]]
        if best is val[0] or len(after) < MIN_POINTS - 1:  # never better than at first: not learning
            continue  # best at (or near) the end: still improving
        change = _trend(after)  # how much the metric moved after its best, along its trend line
        if lower:
            worse = change >= OVERFIT_LOSS_RISE * abs(best[1]) and _end(val) > best[1]
        else:
            worse = -change >= OVERFIT_QUALITY_DROP * max(1.0, abs(best[1]))
        train_then = _at(train, best[0])
        train_after = [p for p in train if p[0] >= best[0]]
        falling = train_then is not None and _trend(train_after) < 0 and _end(train) <= OVERFIT_TRAIN_FALL * train_then
        if worse and falling:
            return Finding(
                "overfitting",
                {
                    "metric": name,
                    "points": [_pt(best), _pt(val[-1])],
                    "best_step": _num(best[0]),
                    "best": _num(best[1]),
                    "end": _num(_end(val)),
                    "train_metric": loss_name,
                    "train_then": _num(train_then),
                    "train_end": _num(_end(train)),
                },
            )
    return None


def _trend(points: list[tuple[float, float]]) -> float:
    """The change from the first step to the last along the least-squares line through ``points``."""
    if len(points) < 2:
        return 0.0
    steps = [s for s, _v in points]
    values = [v for _s, v in points]
    mean_s, mean_v = statistics.fmean(steps), statistics.fmean(values)
    spread = sum((s - mean_s) ** 2 for s in steps)
    if spread == 0:
        return 0.0
    slope = sum((s - mean_s) * (v - mean_v) for s, v in points) / spread
    return slope * (steps[-1] - steps[0])


def _smoothed(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Each point's value the median of it and its two neighbours."""
    if len(points) < 3:
        return points
    values = [v for _s, v in points]
    middle = [statistics.median(values[i - 1 : i + 2]) for i in range(1, len(values) - 1)]
    return [(step, value) for (step, _v), value in zip(points, [values[0], *middle, values[-1]], strict=True)]


def _at(points: list[tuple[float, float]], step: float) -> float | None:
    """The value at the point nearest ``step``."""
    if not points:
        return None
    return min(points, key=lambda p: abs(p[0] - step))[1]


def _still_improving(name: str, loss: list[tuple[float, float]]) -> dict[str, Any] | None:
    """The loss fell over the last quarter of the run: the evidence, or None."""
    quarter = loss[(3 * len(loss)) // 4 - 1]
    if quarter is loss[-1]:
        return None
    end = _end(loss)
    if end <= IMPROVING_FALL * quarter[1]:
        return {"metric": name, "points": [_pt(quarter), _pt(loss[-1])], "then": _num(quarter[1]), "end": _num(end)}
    return None


def _underfitting(reading: Reading, improving: dict[str, Any] | None) -> Finding | None:
    if improving and reading.state == "succeeded" and reading.passed is False and not reading.sealed:
        return Finding("underfitting", improving)
    return None


def _time_limit(reading: Reading, improving: dict[str, Any] | None) -> Finding | None:
    if not improving or reading.passed:
        return None
    stopped = reading.state == "timed_out" and TIME_LIMIT_REASON in reading.reason
    last_t = max((float(p.get("t") or 0) for p in reading.curve), default=0.0)
    near = reading.wall_seconds > 0 and last_t >= NEAR_LIMIT * reading.wall_seconds
    if stopped or (near and reading.state == "succeeded" and not reading.sealed):
        return Finding("time_limit_while_improving", {**improving, "wall_seconds": _num(reading.wall_seconds)})
    return None


def _close(reading: Reading) -> Finding | None:
    score = reading.score
    if reading.sealed or reading.state != "succeeded" or reading.passed is not False or score is None:
        return None
    gap = abs(score - reading.threshold)
    bounded = 0 <= reading.threshold <= 1 and -1 <= score <= 1
    if gap <= (CLOSE_ABSOLUTE if bounded else CLOSE_RELATIVE * abs(reading.threshold)) + 1e-9:
        return Finding(
            "below_threshold_close", {"score": _num(score), "threshold": reading.threshold, "gap": _num(gap)}
        )
    return None


def run_reading(run: Run) -> Reading:
    """What ``run`` recorded (its lab fetched with it: ``select_related("submission__lab")``)."""
    lab = run.submission.lab
    return Reading(
        curve=run.curve or [],
        log=run.log or "",
        state=run.state,
        reason=run.reason or "",
        score=run.score,
        passed=run.passed,
        sealed=run.sealed,
        threshold=lab.threshold,
        higher_is_better=lab.higher_is_better,
        wall_seconds=lab.wall_seconds,
    )


def run_diagnose(run: Run) -> list[dict[str, Any]]:
    """Read ``run`` now and keep its findings on it (an UPDATE, inside the caller's transaction);
    a run that has not ended keeps none (null)."""
    run.diagnosis = [finding.as_json() for finding in diagnose(run_reading(run))] if run.is_final else None
    Run.objects.filter(pk=run.pk).update(diagnosis=run.diagnosis)
    return run.diagnosis or []


def run_findings(run: Run) -> list[dict[str, Any]]:
    """``run``'s findings: those kept when it ended, or (a run that ended before the coach read
    runs) read now."""
    if run.diagnosis is not None:
        return run.diagnosis
    if not run.is_final:
        return []
    return [finding.as_json() for finding in diagnose(run_reading(run))]


def finding_title(code: str) -> str:
    """A finding's name in a few words, in the active language."""
    titles = {
        "nan_loss": _("The loss became NaN"),
        "diverging": _("The loss grew"),
        "not_learning": _("The model did not learn"),
        "unstable": _("The loss jumps around"),
        "overfitting": _("Memorising the training data"),
        "underfitting": _("Still learning when training stopped"),
        "time_limit_while_improving": _("Stopped by the time limit while improving"),
        "below_threshold_close": _("Close to the pass mark"),
    }
    return titles.get(code, code)


@dataclass(frozen=True)
class Explained:
    """A finding as the pages and the API show it, in the active language."""

    code: str
    title: str
    message: str
    evidence: dict[str, Any]
    lessons: list[tuple[str, str]]  # (title, url)

    def as_api(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "evidence": self.evidence,
            "lessons": [url for _title, url in self.lessons],
        }


def run_findings_explained(run: Run) -> list[Explained]:
    """``run``'s findings with their explanations and the lessons that teach the fix."""
    findings = run_findings(run)
    if not findings:
        return []
    codes = [finding["code"] for finding in findings]
    lessons: dict[str, list[tuple[str, str]]] = {}
    for _receiver, answer in diagnosis_lessons_signal.send(sender=Run, codes=codes):
        for code, found in (answer or {}).items():
            lessons.setdefault(code, []).extend(found)
    return [
        Explained(
            code=finding["code"],
            title=finding_title(finding["code"]),
            message=finding_message(finding["code"], finding["evidence"]),
            evidence=finding["evidence"],
            lessons=lessons.get(finding["code"], [])[:LESSONS_PER_FINDING],
        )
        for finding in findings
    ]


def finding_message(code: str, evidence: dict[str, Any]) -> str:
    """The explanation of a finding in the active language, in the learner's terms."""
    e = {key: value for key, value in evidence.items() if not isinstance(value, list | dict)}
    e.setdefault("metric", "loss")
    points = evidence.get("points") or []
    if points:
        e |= {"first_step": _g(points[0][0]), "last_step": _g(points[-1][0])}
    e = {key: _g(value) if isinstance(value, float) else value for key, value in e.items()}
    if code == "nan_loss":
        return (
            _(
                "Your %(metric)s became %(value)s (not a number) during training: from then on the weights are "
                "meaningless and training cannot recover. The usual causes are a learning rate that is too large, "
                "the log of zero or a division by zero in your loss, or gradients that explode. Lower the learning "
                "rate, clip the gradients (torch.nn.utils.clip_grad_norm_), or use the built-in loss functions, which "
                "are written to stay finite."
            )
            % e
        )
    if code == "diverging":
        return (
            _(
                "Your %(metric)s grew instead of falling: it started near %(start)s and ended near %(end)s (steps "
                "%(first_step)s to %(last_step)s). Each update overshoots the minimum and lands higher up the other "
                "side. Lower the learning rate, ten times is a good first try."
            )
            % e
        )
    if code == "not_learning":
        return (
            _(
                "Your %(metric)s stayed flat near %(start)s from the first step to the last: the model did not learn "
                "at all. Check that every step calls optimizer.zero_grad(), loss.backward() and optimizer.step() on "
                "the model's own parameters, that the learning rate is not tiny, and that the labels match the inputs."
            )
            % e
        )
    if code == "unstable":
        return (
            _(
                "Your %(metric)s keeps jumping up and down, between %(low)s and %(high)s, instead of settling: "
                "the step size is too large for this problem. Lower the learning rate, or use larger batches "
                "so each step's gradient is less noisy."
            )
            % e
        )
    if code == "overfitting":
        return (
            _(
                "The model is memorising the training data: %(metric)s was best (%(best)s) at step %(best_step)s and "
                "then got worse (%(end)s at the end), while the training %(train_metric)s kept falling (%(train_then)s "
                "to %(train_end)s). Stop at the best step (early stopping), add weight decay or dropout, or use a "
                "smaller model."
            )
            % e
        )
    if code == "underfitting":
        return (
            _(
                "The model did not pass, and its %(metric)s was still falling when training ended (%(then)s at step "
                "%(first_step)s, %(end)s at the end): it had not finished learning. Train for more steps, raise the "
                "learning rate a little, or give the model more capacity (wider or deeper layers)."
            )
            % e
        )
    if code == "time_limit_while_improving":
        return (
            _(
                "The run reached its time limit (%(wall_seconds)s s) while the %(metric)s was still falling (%(then)s "
                "at step %(first_step)s, %(end)s at the end). Make each step cheaper (larger batches, fewer "
                "evaluations, a smaller model) or converge faster (a better optimiser or learning rate), and stop "
                "early when run.time_left() runs low."
            )
            % e
        )
    if code == "below_threshold_close":
        return (
            _(
                "So close: your score is %(score)s, %(gap)s short of the pass mark %(threshold)s. Small changes "
                "usually close such a gap: a few more epochs, a tuned learning rate, or a little regularisation."
            )
            % e
        )
    return code


def _g(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
