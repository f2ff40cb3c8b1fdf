"""In-process "bare run" of a submission to a demo lab or any lab folder.

Builds the ``data`` and ``run`` objects of the lab contract, executes the
submitted code, calls ``train(data, run)`` then ``predict(model, x_test)`` and
scores the predictions against the lab's test labels. No sandbox, no limits
enforced: this is what a learner does on their own machine, and what the
tests use to check the reference solutions.

    python -m labs.demo.local_run two-spirals my_solution.py
    python -m labs.demo.local_run digits-mlp            # the reference solution
    python -m labs.demo.local_run digits-mlp --starter  # the starter code
    python -m labs.demo.local_run path/to/my-lab        # a lab folder's reference solution
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
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

from labs.demo import DEMO_LAB_SLUGS, demo_lab, param_defaults
from labs.lab_folder import LabFolder, read_lab_folder
from labs.lab_spec import CUSTOM_METRIC, LabSplits
from labs.scoring import passes, score

# The very ``data`` object the sandbox gives learner code, built by the same conversions.
from workers.harness import LabData, feature_tensor, label_tensor, to_predictions

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
        self.files: Path | None = None  # the lab's [files] folder, as in the sandbox
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
    """``data`` as the sandbox's harness builds it (the same conversions: float32 features, text as str)."""
    return LabData(
        x_train=feature_tensor(dataset.x_train),
        y_train=label_tensor(dataset.y_train),
        x_val=None if dataset.x_val is None else feature_tensor(dataset.x_val),
        y_val=None if dataset.y_val is None else label_tensor(dataset.y_val),
        num_classes=dataset.num_classes,
        meta=dict(dataset.meta),
    )


def load_lab(slug_or_folder: str | Path) -> LabFolder:
    """A demo lab by slug, or any lab folder by path."""
    if str(slug_or_folder) in DEMO_LAB_SLUGS:
        return demo_lab(str(slug_or_folder))
    return read_lab_folder(Path(slug_or_folder))


@contextmanager
def lab_files(files: dict[str, bytes]) -> Iterator[Path | None]:
    """The lab's [files] in a temporary folder on ``sys.path`` (as ``/job/files`` in the sandbox)."""
    if not files:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="lab-files-") as tmp:
        for name, payload in files.items():
            (Path(tmp) / name).write_bytes(payload)
        sys.path.insert(0, tmp)
        try:
            yield Path(tmp)
        finally:
            sys.path.remove(tmp)


def local_score(lab: LabFolder, y_true: np.ndarray, predictions: np.ndarray) -> float:
    definition = lab.definition
    if definition["metric"] != CUSTOM_METRIC:
        return score(definition["metric"], y_true, predictions, options=lab.metric_options)
    namespace: dict[str, Any] = {}
    exec(compile(lab.scoring_code, "score.py", "exec"), namespace)  # noqa: S102 - the lab's own program
    return float(namespace["score"](y_true, predictions, dict(lab.data.meta)))


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
    slug: str | Path,
    code: str,
    device: str = "cpu",
    *,
    seed: int = DEFAULT_SEED,
    params: dict[str, int | float] | None = None,
    echo: bool = False,
    filename: str | None = None,
) -> LocalRunResult:
    """Run ``code`` on the lab ``slug`` (a demo lab's slug or a lab folder's path) and score it."""
    lab = load_lab(slug)
    definition, dataset = lab.definition, lab.data
    run = LocalRun(
        device=check_device(device),
        params=resolve_params(definition, params),
        seed=seed,
        wall_seconds=definition["limits"]["wall_seconds"],
        echo=echo,
    )
    data = make_data(dataset)
    x_test = feature_tensor(dataset.x_test)
    with lab_files(lab.files) as files, submission_module(code, filename or f"<{lab.slug} submission>") as module:
        run.files = files
        seed_everything(seed)
        model, train_seconds = _timed(lambda: module.train(data, run))
        with torch.no_grad():
            predictions, predict_seconds = _timed(lambda: module.predict(model, x_test))
    value = local_score(lab, dataset.y_test, to_predictions(predictions, len(dataset.y_test)))
    return LocalRunResult(
        slug=lab.slug,
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
    parser.add_argument("slug", help=f"a demo lab ({', '.join(DEMO_LAB_SLUGS)}) or the path of a lab folder")
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
        lab = load_lab(args.slug)
        code = lab.solution_code if which == "solution" else lab.starter_code
        filename = f"{args.slug}/{which}.py"
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
