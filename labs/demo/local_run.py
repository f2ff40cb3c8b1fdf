"""In-process "bare run" of a demo lab submission.

Builds the ``data`` and ``run`` objects of the lab contract, executes the
submitted code, calls ``train(data, run)`` then ``predict(model, x_test)`` and
scores the predictions against the lab's test labels. No sandbox, no limits
enforced: this is what a learner does on their own machine, and what the
tests use to check the reference solutions.

    python -m labs.demo.local_run two-spirals my_solution.py
    python -m labs.demo.local_run digits-mlp            # the reference solution
    python -m labs.demo.local_run digits-mlp --starter  # the starter code
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import types
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from labs.demo import DEMO_LAB_SLUGS, load_lab_definition, param_defaults
from labs.demo.builders import build_dataset
from labs.lab_spec import LabSplits
from labs.scoring import passes, score
from workers.harness import LabData  # the very ``data`` object the sandbox gives learner code

DEFAULT_SEED = 0


class LocalRun:
    """The ``run`` argument of ``train``: device, params, seed, logging, clock."""

    def __init__(
        self,
        device: str,
        params: dict[str, int | float],
        seed: int,
        wall_seconds: float,
        echo: bool = False,
    ) -> None:
        self.device = device
        self.params = dict(params)
        self.seed = seed
        self.history: list[dict[str, Any]] = []
        self._deadline = time.monotonic() + wall_seconds
        self._echo = echo

    def log(self, step: int, **metrics: Any) -> None:
        """Record the metrics of one step (epoch); numbers and 0-d tensors become floats."""
        entry: dict[str, Any] = {"step": int(step)}
        for name, value in metrics.items():
            try:
                entry[name] = float(value)
            except (TypeError, ValueError):
                entry[name] = str(value)
        self.history.append(entry)
        if self._echo:
            shown = " ".join(
                f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in entry.items() if k != "step"
            )
            print(f"step {entry['step']:>4}  {shown}", flush=True)

    def time_left(self) -> float:
        """Seconds left before the lab's wall-clock limit."""
        return max(0.0, self._deadline - time.monotonic())


@dataclass
class LocalRunResult:
    slug: str
    metric: str
    threshold: float
    score: float
    passed: bool
    metrics_log: list[dict[str, Any]]
    train_seconds: float
    predict_seconds: float


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def resolve_params(
    definition: dict[str, Any], overrides: dict[str, int | float] | None = None
) -> dict[str, int | float]:
    """Defaults of the lab's params with ``overrides`` applied (checked against min/max)."""
    params = param_defaults(definition)
    for name, value in (overrides or {}).items():
        spec = definition["params"].get(name)
        if spec is None:
            raise ValueError(f"unknown param {name!r}; this lab has {sorted(params)}")
        if spec["type"] == "int":
            if float(value) != int(value):
                raise ValueError(f"param {name} must be an integer, got {value}")
            value = int(value)
        else:
            value = float(value)
        if not spec["min"] <= value <= spec["max"]:
            raise ValueError(f"param {name}={value} outside [{spec['min']}, {spec['max']}]")
        params[name] = value
    return params


def check_device(device: str) -> str:
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' requested but CUDA is not available")
    return device


def make_data(dataset: LabSplits) -> LabData:
    def tensor(array: np.ndarray | None) -> torch.Tensor | None:
        return None if array is None else torch.from_numpy(np.array(array, copy=True))

    return LabData(
        x_train=tensor(dataset.x_train),
        y_train=tensor(dataset.y_train),
        x_val=tensor(dataset.x_val),
        y_val=tensor(dataset.y_val),
        num_classes=dataset.num_classes,
        meta=dict(dataset.meta),
    )


@contextmanager
def submission_module(code: str, filename: str) -> Iterator[types.ModuleType]:
    """Execute ``code`` as a temporary module (registered in ``sys.modules`` while in use,
    so that dataclasses, pickling and tracebacks behave as for a real file)."""
    name = f"_lab_submission_{uuid.uuid4().hex}"
    module = types.ModuleType(name)
    module.__file__ = filename
    sys.modules[name] = module
    try:
        exec(compile(code, filename, "exec"), module.__dict__)  # noqa: S102 - running the submission is the point
        for entry_point in ("train", "predict"):
            if not callable(getattr(module, entry_point, None)):
                raise ValueError(f"the submission must define a function {entry_point}()")
        yield module
    finally:
        sys.modules.pop(name, None)


def to_numpy(predictions: Any) -> np.ndarray:
    """Predictions as a numpy array (tensors of any device and float dtype, bfloat16 included)."""
    if isinstance(predictions, torch.Tensor):
        tensor = predictions.detach().cpu()
        return (tensor.double() if tensor.is_floating_point() else tensor).numpy()
    return np.asarray(predictions)


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def execute(
    slug: str,
    code: str,
    device: str = "cpu",
    *,
    seed: int = DEFAULT_SEED,
    params: dict[str, int | float] | None = None,
    echo: bool = False,
    filename: str | None = None,
) -> LocalRunResult:
    """Run ``code`` on the lab ``slug`` and score it (full details)."""
    definition = load_lab_definition(slug)
    dataset = build_dataset(slug)
    run = LocalRun(
        device=check_device(device),
        params=resolve_params(definition, params),
        seed=seed,
        wall_seconds=definition["limits"]["wall_seconds"],
        echo=echo,
    )
    data = make_data(dataset)
    x_test = torch.from_numpy(np.array(dataset.x_test, copy=True))
    with submission_module(code, filename or f"<{slug} submission>") as module:
        seed_everything(seed)
        model, train_seconds = _timed(lambda: module.train(data, run))
        predictions, predict_seconds = _timed(lambda: module.predict(model, x_test))
    value = score(definition["metric"], dataset.y_test, to_numpy(predictions))
    return LocalRunResult(
        slug=slug,
        metric=definition["metric"],
        threshold=definition["threshold"],
        score=value,
        passed=passes(value, definition["threshold"], definition["higher_is_better"]),
        metrics_log=run.history,
        train_seconds=train_seconds,
        predict_seconds=predict_seconds,
    )


def run_solution(
    slug: str,
    code: str,
    device: str = "cpu",
    *,
    seed: int = DEFAULT_SEED,
    params: dict[str, int | float] | None = None,
) -> tuple[float, bool, list[dict[str, Any]]]:
    """Run ``code`` on the lab ``slug``: ``(score, passed, metrics_log)``."""
    result = execute(slug, code, device, seed=seed, params=params)
    return result.score, result.passed, result.metrics_log


def _parse_param(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, float(value)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m labs.demo.local_run",
        description="Run a demo lab submission locally and print its score.",
    )
    parser.add_argument("slug", choices=DEMO_LAB_SLUGS)
    parser.add_argument("file", nargs="?", type=Path, help="submission (default: the reference)")
    parser.add_argument("--starter", action="store_true", help="run the lab's starter code")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--param",
        type=_parse_param,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a hyper-parameter",
    )
    parser.add_argument("--quiet", action="store_true", help="do not print the training log")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; exit status 0 when the submission passes, 1 otherwise."""
    args = _parse_args(argv)
    if args.file is not None:
        code, filename = args.file.read_text(encoding="utf-8"), str(args.file)
    else:
        which = "starter" if args.starter else "solution"
        code = load_lab_definition(args.slug)[f"{which}_code"]
        filename = f"labs/demo/{args.slug}/{which}.py"
    result = execute(
        args.slug, code, args.device, seed=args.seed, params=dict(args.param), echo=not args.quiet, filename=filename
    )
    verdict = "PASSED" if result.passed else "not passed"
    print(
        f"{result.slug}: {result.metric} = {result.score:.4f} "
        f"(threshold {result.threshold}) -> {verdict}; "
        f"train {result.train_seconds:.2f} s, predict {result.predict_seconds:.2f} s"
    )
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
