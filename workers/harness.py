"""The lab harness: the process that runs the learner's code, inside the sandbox.

Started as ``python -I -B -u harness.py --job /job --events-fd N``. Life of one process:

1. warm up: import numpy and torch (``torch.nn``, ``torch.optim``, ``torch.nn.functional``) and
   construct optimizers over an *empty* parameter, which pulls in torch's lazy modules
   (``torch._dynamo`` alone costs ~2 s). No tensor math (a math op starts the OpenMP pool) and
   no CUDA call: CUDA is initialised by the job itself, if it asks for ``cuda``;
2. emit ``{"kind": "ready"}`` and block on stdin for one "go" line (a warm process waits here,
   possibly for minutes, until the supervisor hands it a job);
3. read ``job.json``, seed every RNG, load the dataset into ``data``, then import
   ``solution.py`` and call ``train(data, run)`` and ``predict(model, x_test)`` under
   ``torch.no_grad()``;
4. write the predictions to ``out/predictions.npy``, then keep the trained weights as
   ``out/model.pt`` when the site asked for them (``save_weights``: after the predictions, so
   nothing about the weights can change the run's outcome), and exit 0 — or, on any exception in
   train/predict, print the traceback, emit ``{"kind": "failure", "reason": ...}`` and exit 1.

Trust: from step 3 on, the learner's code runs in this very process and can write anything to
stdout/stderr and to the events fd. That is fine by design: events only feed the live view
(metrics, phase, failure *reason*). The outcome is decided by the supervisor from the exit
status, the cgroup's counters and a predictions file it validates itself; the score is computed
by the site from the predictions. Nothing written here can become a score.

Standard library only at import time (numpy/torch are imported in ``warm_up``): the supervisor
imports this module for its protocol constants without paying for torch.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib.util
import json
import math
import os
import random
import stat
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

# Protocol shared with the supervisor (workers.runner).
PREDICTIONS_PATH = "out/predictions.npy"
WEIGHTS_PATH = "out/model.pt"  # the model's state_dict, when job.json's weights_max_bytes allows one
JOB_FILE = "job.json"
SOLUTION_FILE = "solution.py"
DATASET_FILE = "dataset.npz"
FILES_DIR = "files"  # the lab's [files]: read-only, on sys.path, ``run.files``
FILES_PREFIX = "files/"  # their arrays' names in the dataset .npz (uint8 bytes)
# The "score" task: a custom metric's score.py with the labels and a run's predictions (labs.author_code).
SCORE_PROGRAM_FILE = "score.py"
SCORE_INPUT_FILE = "score_input.npz"
SCORE_META_FILE = "meta.json"
SCORE_RESULT_PATH = "out/score.json"
# The "exercise" task: a lesson's code cell, then the exercise's check in the same namespace (courses.exercises).
EXERCISE_CELL_FILE = "cell.py"
EXERCISE_CHECK_FILE = "check.py"
EXERCISE_RESULT_PATH = "out/exercise.json"
EXERCISE_MESSAGE_CHARS = 1000
EXERCISE_OUTPUT_CHARS = 2000
CELL_NAME, CHECK_NAME = "<cell>", "<check>"  # the code's file names in tracebacks
MAX_PREDICTION_VALUES = 250_000  # numbers in all (rows × class scores); they travel as JSON
MAX_PREDICTION_CHARS = 1_000  # per string
PHASE_USER_CODE = "user_code"  # from this event on, the learner's code is running
EXIT_OK = 0
EXIT_FAILED = 1
MAX_METRIC_POINTS = 5000  # points the harness sends per run (older ones thinned, see MetricThinner)
MAX_METRICS_PER_CALL = 32
MAX_METRIC_NAME = 64
MAX_REASON_CHARS = 500
MAX_JOB_FILES = 100_000  # files in a job folder before it counts as full (a flood of empty files)
# Saving weights must end well before the wall clock does: a second, plus a pessimistic 50 MB/s.
WEIGHTS_SECONDS_BASE = 1.0
WEIGHTS_BYTES_PER_SECOND = 50e6
MIB = 1024 * 1024

_HARNESS_FILE = os.path.abspath(__file__)


class PredictionError(ValueError):
    """``predict`` returned something that is not one number per test row."""


class PlatformError(RuntimeError):
    """The platform (not the learner) failed: missing CUDA, unreadable dataset."""


class EventChannel:
    """JSON lines to the supervisor on an inherited pipe; never raises (a closed pipe is ignored)."""

    def __init__(self, fd: int | None) -> None:
        self._fd = fd
        self._lock = threading.Lock()

    def emit(self, event: dict[str, Any]) -> None:
        if self._fd is None:
            return
        data = (json.dumps(event, separators=(",", ":"), allow_nan=False) + "\n").encode()
        with self._lock:
            try:
                while data:
                    written = os.write(self._fd, data)
                    data = data[written:]
            except OSError:
                self._fd = None  # the learner closed it, or the supervisor is gone


class MetricThinner:
    """Keeps a bounded, evenly thinned history of ``run.log`` calls.

    Level k keeps every 2**k-th call and holds ``cap // 16`` points, so the budget covers
    ``cap/16 * (2**16 - 1)`` calls (~20 million) with ever coarser resolution; after that,
    calls are dropped. A tight ``run.log`` loop costs a counter increment per dropped call.
    """

    LEVELS = 16

    def __init__(self, cap: int = MAX_METRIC_POINTS) -> None:
        self.per_level = max(1, cap // self.LEVELS)
        self.calls = 0
        self.kept = 0
        self.level = 0
        self._level_start_call = 0

    def accept(self) -> bool:
        index = self.calls - self._level_start_call
        self.calls += 1
        if self.level >= self.LEVELS:
            return False
        if index % (1 << self.level):
            return False
        self.kept += 1
        if self.kept >= self.per_level * (self.level + 1):
            self.level += 1
            self._level_start_call = self.calls
        return True


def _as_number(value: Any, what: str) -> float:
    """A real number from int/float/numpy scalar/one-element tensor; TypeError otherwise."""
    if isinstance(value, bool):
        return float(value)
    if hasattr(value, "detach"):  # a tensor: the loss itself is a fine thing to log
        value = value.detach()
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be a number, got {type(value).__name__}") from None
    return number


class Training:
    """``run`` in ``train(data, run)``: what the learner's training code gets to know and to report
    (device, params, seed, ``log`` and ``time_left``). Not the site's ``labs.models.Run``."""

    def __init__(
        self,
        *,
        device: str,
        params: dict[str, Any],
        seed: int,
        deadline: float,
        channel: EventChannel,
        files: Path | None = None,
    ):
        self.device = device
        self.params = params
        self.seed = seed
        self.files = files  # the lab's [files] folder (read-only; also on sys.path), or None
        self._deadline = deadline
        self._started = time.monotonic()
        self._channel = channel
        self._thinner = MetricThinner()
        self._held_back: dict[str, Any] | None = None
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    def time_left(self) -> float:
        """Seconds left before the wall-clock limit kills the run."""
        return max(0.0, self._deadline - time.monotonic())

    def log(self, step: Any, **metrics: Any) -> None:
        """Stream progress, e.g. ``run.log(epoch, loss=0.31, val_accuracy=0.94)``."""
        step_value = _as_number(step, "run.log step")
        if not math.isfinite(step_value):
            raise ValueError(f"run.log step must be a finite number, got {step_value}")
        if not metrics:
            raise TypeError("run.log(step, **metrics) needs at least one metric, e.g. run.log(epoch, loss=0.3)")
        clean: dict[str, float] = {}
        for name, value in list(metrics.items())[:MAX_METRICS_PER_CALL]:
            number = _as_number(value, f"run.log metric {name!r}")
            if math.isfinite(number):
                clean[name[:MAX_METRIC_NAME]] = number
            else:
                self._warn_once(name, f"run.log: dropped non-finite metric {name!r}={number} at step {step_value:g}")
        if not clean:
            return
        event = {"kind": "metrics", "step": step_value, "metrics": clean, "t": self._elapsed()}
        with self._lock:
            if self._thinner.accept():
                self._held_back = None
                self._channel.emit(event)
            else:
                self._held_back = event  # so the last point of a run is never lost

    def _elapsed(self) -> float:
        return round(time.monotonic() - self._started, 4)

    def _warn_once(self, name: str, message: str) -> None:
        if name not in self._warned:
            self._warned.add(name)
            print(message, file=sys.stderr, flush=True)

    def flush(self) -> None:
        with self._lock:
            if self._held_back is not None:
                self._channel.emit(self._held_back)
                self._held_back = None

    def __repr__(self) -> str:
        return f"Training(device={self.device!r}, params={self.params!r}, seed={self.seed})"


class LabData:
    """``data`` in ``train(data, run)``: CPU tensors (features float32, labels as stored), or lists of
    str where the lab's data is text (``jsonl``, or strings from ``build.py``)."""

    def __init__(self, **fields: Any) -> None:
        self.x_train = fields["x_train"]
        self.y_train = fields["y_train"]
        self.x_val = fields.get("x_val")
        self.y_val = fields.get("y_val")
        self.num_classes = fields.get("num_classes")
        self.meta = fields.get("meta", {})

    def __repr__(self) -> str:
        def shape(tensor: Any) -> str:
            if isinstance(tensor, list):
                return f"list of {len(tensor)} str"
            return "None" if tensor is None else f"{tuple(tensor.shape)} {str(tensor.dtype).replace('torch.', '')}"

        return (
            f"LabData(x_train={shape(self.x_train)}, y_train={shape(self.y_train)}, x_val={shape(self.x_val)}, "
            f"y_val={shape(self.y_val)}, num_classes={self.num_classes}, meta keys={sorted(self.meta)})"
        )


def warm_up() -> str:
    """Import torch and touch its lazy parts without running any tensor math or CUDA."""
    import numpy  # noqa: F401
    import torch
    import torch.nn
    import torch.nn.functional
    import torch.optim
    import torch.utils.data

    # torch.empty allocates without computing anything; building optimizers imports
    # torch._dynamo and the optimizer machinery that the first real Adam(...) would load.
    parameter = torch.nn.Parameter(torch.empty(1))
    for optimizer in (torch.optim.Adam, torch.optim.AdamW, torch.optim.SGD):
        optimizer([parameter]).zero_grad()
    return str(torch.__version__)


def label_tensor(array: Any) -> Any:
    import numpy as np
    import torch

    if array.dtype.kind in "US":
        return [str(value) for value in array]
    if array.dtype.kind in "iub":
        return torch.from_numpy(np.ascontiguousarray(array, dtype=np.int64))
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))


def feature_tensor(array: Any) -> Any:
    import numpy as np
    import torch

    if array.dtype.kind in "US":
        return [str(value) for value in array]
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))


def load_data(path: Path) -> tuple[LabData, Any]:
    """The lab's dataset as ``data`` plus ``x_test`` (there are never test labels)."""
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files if not name.startswith(FILES_PREFIX)}
    except (OSError, ValueError) as exc:
        raise PlatformError(f"the dataset cannot be read: {exc}") from exc
    missing = [name for name in ("x_train", "y_train", "x_test") if name not in arrays]
    if missing:
        raise PlatformError(f"the dataset has no {', '.join(missing)}")
    fields: dict[str, Any] = {
        "x_train": feature_tensor(arrays["x_train"]),
        "y_train": label_tensor(arrays["y_train"]),
    }
    if "x_val" in arrays:
        fields["x_val"] = feature_tensor(arrays["x_val"])
    if "y_val" in arrays:
        fields["y_val"] = label_tensor(arrays["y_val"])
    if "num_classes" in arrays:
        fields["num_classes"] = int(arrays["num_classes"])
    meta: Any = {}
    if "meta_json" in arrays:
        try:
            meta = json.loads(str(arrays["meta_json"][()]))
        except ValueError as exc:
            raise PlatformError(f"the dataset's meta_json is not JSON: {exc}") from exc
        if not isinstance(meta, dict):
            raise PlatformError("the dataset's meta_json is not a JSON object")
    fields["meta"] = meta
    return LabData(**fields), feature_tensor(arrays["x_test"])


def to_predictions(raw: Any, expected_rows: int) -> Any:
    """``predict``'s return value as a numpy array: one number per row (float64, 1-D), one row of
    numbers per row (float64, 2-D: class scores, token ids) or one string per row; else a clear
    PredictionError. Whether that shape suits the lab's metric is checked by the site."""
    import numpy as np
    import torch

    if isinstance(raw, torch.Tensor):
        if raw.is_complex():
            raise PredictionError("predict returned complex numbers; expected real numbers")
        # float64 on the CPU: also covers bfloat16, which numpy cannot represent.
        array = raw.detach().to("cpu", torch.float64).numpy()
    elif isinstance(raw, list | tuple) and any(isinstance(value, str) for value in raw):
        array = _strings(raw)
    elif isinstance(raw, list | tuple) and raw and all(isinstance(value, torch.Tensor) for value in raw):
        try:
            array = torch.stack([value.detach().to("cpu", torch.float64) for value in raw]).numpy()
        except RuntimeError as exc:
            raise PredictionError(f"predict returned tensors of different shapes: {exc}") from None
    elif isinstance(raw, np.ndarray | list | tuple):
        try:
            array = np.asarray(raw)
        except ValueError as exc:
            raise PredictionError(f"predict returned a ragged list: {exc}") from None
        if array.dtype.kind in "US":
            array = _strings(array.tolist())
    else:
        raise PredictionError(f"predict returned {type(raw).__name__}; expected a 1-D tensor, array or list")
    if array.dtype.kind not in "biufU":
        raise PredictionError(f"predict returned values of type {array.dtype}; expected numbers or strings")
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim not in (1, 2) or (array.ndim == 2 and array.dtype.kind == "U"):
        raise PredictionError(
            f"predict returned an array of shape {tuple(array.shape)}; expected one prediction per test row"
            " (a number, a row of class scores, or a string)"
        )
    if len(array) != expected_rows:
        raise PredictionError(f"predict returned {len(array)} predictions for {expected_rows} test rows")
    if array.dtype.kind == "U":
        return array
    if array.size > MAX_PREDICTION_VALUES:
        raise PredictionError(f"predict returned {array.size} numbers; at most {MAX_PREDICTION_VALUES} are kept")
    array = array.astype(np.float64)
    bad = int(np.count_nonzero(~np.isfinite(array)))
    if bad:
        raise PredictionError(f"predict returned {bad} non-finite values (NaN or inf)")
    return array


def _strings(values: list[Any]) -> Any:
    import numpy as np

    if not all(isinstance(value, str) for value in values):
        raise PredictionError("predict returned a mix of strings and other values")
    longest = max((len(value) for value in values), default=0)
    if longest > MAX_PREDICTION_CHARS:
        raise PredictionError(f"predict returned a string of {longest} characters; at most {MAX_PREDICTION_CHARS}")
    return np.asarray(values, dtype=str)


def write_predictions(job_dir: Path, predictions: Any) -> None:
    import numpy as np

    target = job_dir / PREDICTIONS_PATH
    partial = target.with_name("predictions.partial.npy")
    np.save(partial, predictions, allow_pickle=False)
    os.replace(partial, target)


def load_solution(path: Path) -> tuple[Callable[..., Any], Callable[..., Any]]:
    spec = importlib.util.spec_from_file_location("solution", path)
    if spec is None or spec.loader is None:
        raise PlatformError(f"cannot load {path.name}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["solution"] = module
    spec.loader.exec_module(module)
    functions = []
    for name, signature in (("train", "train(data, run)"), ("predict", "predict(model, x)")):
        function = getattr(module, name, None)
        if not callable(function):
            raise NameError(f"solution.py does not define {signature}")
        functions.append(function)
    return functions[0], functions[1]


def describe_failure(exc: BaseException) -> str:
    """The run's failure reason: ``error: <Type>: <message>`` or ``limit: ...``."""
    if isinstance(exc, PlatformError):
        return _clip(f"platform: {exc}")
    if isinstance(exc, PredictionError):
        return _clip(f"error: {exc}")
    if isinstance(exc, MemoryError):
        return "limit: memory"
    if isinstance(exc, OSError) and exc.errno in (errno.EFBIG, errno.ENOSPC, errno.EDQUOT):
        return "limit: disk"
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return _clip(f"error: {type(exc).__name__}: {message}" if message else f"error: {type(exc).__name__}")


def _clip(text: str) -> str:
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 1] + "…"


def print_learner_traceback(exc: BaseException) -> None:
    """The traceback without the harness's own frames: the learner needs only theirs."""
    report = traceback.TracebackException.from_exception(exc)
    report.stack = traceback.StackSummary.from_list(
        [frame for frame in report.stack if os.path.abspath(frame.filename) != _HARNESS_FILE]
    )
    sys.stderr.write("".join(report.format()))
    sys.stderr.flush()


def seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds CUDA lazily, without initialising it


def folder_usage(path: Path, skip_inode: tuple[int, int] | None = None) -> float:
    """Bytes used under ``path`` (one file, e.g. the dataset's link, left out); symlinks are not followed;
    ``inf`` past ``MAX_JOB_FILES`` entries. The supervisor's disk limit is measured this way."""
    total, entries, stack = 0, 0, [str(path)]
    while stack:
        with contextlib.suppress(OSError), os.scandir(stack.pop()) as iterator:
            for entry in iterator:
                entries += 1
                if entries > MAX_JOB_FILES:
                    return math.inf  # a flood of empty files fills a disk too
                info = entry.stat(follow_symlinks=False)
                if (info.st_dev, info.st_ino) == skip_inode:
                    continue
                total += info.st_blocks * 512
                if stat.S_ISDIR(info.st_mode):
                    stack.append(entry.path)
    return total


def save_weights(job_dir: Path, model: Any, *, max_bytes: int, disk_bytes: int, time_left: float) -> None:
    """Keep ``model.state_dict()`` as ``out/model.pt`` (``torch.save`` of its tensors, on the CPU) when
    the site wants weights (``max_bytes`` > 0) and they fit: within ``max_bytes``, within the job's
    disk limit (``disk_bytes``, with what the folder holds already), and in the time left.

    Never raises: the predictions are written already, and keeping weights or not never changes the
    run's outcome. Each reason for keeping none is one line in the learner's log.
    """
    target = job_dir / WEIGHTS_PATH
    with contextlib.suppress(OSError):
        target.unlink()  # only a file written here is ever kept (learner code may have put one there)
    if max_bytes <= 0:
        return
    try:
        problem = _write_weights(job_dir, model, max_bytes=max_bytes, disk_bytes=disk_bytes, time_left=time_left)
    except BaseException as exc:  # noqa: BLE001 - learner code (state_dict) may raise anything
        problem = f"saving them failed: {type(exc).__name__}: {str(exc)[:200]}"
    if problem:
        print(f"[lab runner] weights not kept: {problem}", file=sys.stderr, flush=True)


def _write_weights(job_dir: Path, model: Any, *, max_bytes: int, disk_bytes: int, time_left: float) -> str | None:
    """Write the weights, or say why not."""
    import torch

    if not callable(getattr(model, "state_dict", None)):  # a torch.nn.Module, or anything like one
        return f"train() returned {type(model).__name__}, which has no state_dict()"
    state = model.state_dict()
    if not hasattr(state, "items"):
        return f"state_dict() returned {type(state).__name__}, not a dict of tensors"
    tensors = {key: value for key, value in state.items() if isinstance(key, str) and isinstance(value, torch.Tensor)}
    if not tensors:
        return "state_dict() holds no tensors"
    size = _tensor_bytes(tensors.values())
    if size > max_bytes:
        return f"{size / MIB:.1f} MB, over this lab's limit of {max_bytes / MIB:.0f} MB"
    dataset = os.stat(job_dir / DATASET_FILE, follow_symlinks=False)
    room = disk_bytes - folder_usage(job_dir, (dataset.st_dev, dataset.st_ino)) - MIB
    if size > room:
        return f"{size / MIB:.1f} MB, more than the {max(0.0, room) / MIB:.1f} MB left of the run's disk limit"
    if time_left < WEIGHTS_SECONDS_BASE + size / WEIGHTS_BYTES_PER_SECOND:
        return "too little time was left before the time limit"
    dropped = len(state) - len(tensors)
    if dropped:
        print(f"[lab runner] weights: {dropped} entries of state_dict() that are not tensors left out", file=sys.stderr)
    partial = job_dir / "out" / "model.partial.pt"
    try:
        torch.save({key: _compact_cpu(value) for key, value in tensors.items()}, partial)
        written = os.stat(partial).st_size
        if written > max_bytes:
            return f"{written / MIB:.1f} MB saved, over this lab's limit of {max_bytes / MIB:.0f} MB"
        os.replace(partial, job_dir / WEIGHTS_PATH)
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()  # what did not become model.pt
    return None


def _tensor_bytes(tensors: Any) -> int:
    """What the tensors take, a tensor listed twice (tied weights) counted once."""
    seen: set[tuple[str, int]] = set()
    total = 0
    for tensor in tensors:
        key = (str(tensor.device), tensor.data_ptr())
        if key not in seen:
            seen.add(key)
            total += tensor.numel() * tensor.element_size()
    return total


def _compact_cpu(tensor: Any) -> Any:
    """A CPU copy holding only the tensor's own elements: ``torch.save`` writes a view's whole storage."""
    tensor = tensor.detach().to("cpu")
    if tensor.untyped_storage().nbytes() > tensor.numel() * tensor.element_size():
        tensor = tensor.clone()
    return tensor


def run_job(job_dir: Path, go: dict[str, Any], channel: EventChannel) -> int:
    import torch

    main_pid = os.getpid()
    phase = "setup"
    try:
        job = json.loads((job_dir / JOB_FILE).read_text())
        if job["device"] == "cpu":
            os.environ["CUDA_VISIBLE_DEVICES"] = ""  # a CPU run never touches a GPU by accident
        elif not torch.cuda.is_available():  # the first CUDA call, inside the job
            raise PlatformError("this run needs CUDA, but no CUDA device is available on this worker")
        elif float(os.environ.get("LAB_GPU_MEMORY_FRACTION", "1")) < 1:  # this run's share of a shared GPU
            torch.cuda.set_per_process_memory_fraction(float(os.environ["LAB_GPU_MEMORY_FRACTION"]))
        seed_everything(int(job["seed"]))
        data, x_test = load_data(job_dir / DATASET_FILE)
        files = job_dir / FILES_DIR
        if files.is_dir():
            sys.path.insert(0, str(files))  # `import helper` for the lab's own modules
        run = Training(
            device=job["device"],
            params=job["params"],
            seed=int(job["seed"]),
            deadline=go["deadline"],
            channel=channel,
            files=files if files.is_dir() else None,
        )
        channel.emit({"kind": "phase", "phase": PHASE_USER_CODE})
        phase = PHASE_USER_CODE
        sys.argv = [SOLUTION_FILE]
        train, predict = load_solution(job_dir / SOLUTION_FILE)
        model = train(data, run)
        _stop_if_forked(main_pid)
        run.flush()
        channel.emit({"kind": "phase", "phase": "predict"})
        with torch.no_grad():
            raw = predict(model, x_test)
        _stop_if_forked(main_pid)
        write_predictions(job_dir, to_predictions(raw, len(x_test)))
        save_weights(
            job_dir,
            model,
            max_bytes=int(job.get("weights_max_bytes", 0)),
            disk_bytes=int(job.get("disk_bytes", 0)),
            time_left=run.time_left(),
        )
        _stop_if_forked(main_pid)
        channel.emit({"kind": "phase", "phase": "done"})
        return EXIT_OK
    except BaseException as exc:  # noqa: BLE001 - SystemExit/KeyboardInterrupt from learner code fail the run too
        _stop_if_forked(main_pid)
        if phase != PHASE_USER_CODE and not isinstance(exc, PlatformError):
            exc = PlatformError(f"{type(exc).__name__}: {exc}")
        if isinstance(exc, PredictionError):
            print(f"error: {exc}", file=sys.stderr, flush=True)  # a traceback would add nothing
        else:
            print_learner_traceback(exc)
        channel.emit({"kind": "failure", "reason": describe_failure(exc)})
        return EXIT_FAILED


def run_score_task(job_dir: Path, channel: EventChannel) -> int:
    """The "score" task: the lab's ``score(y_true, y_pred, meta)`` on the hidden labels and a run's
    predictions (no learner code here), its value written to ``out/score.json``."""
    import numpy as np

    try:
        with np.load(job_dir / SCORE_INPUT_FILE, allow_pickle=False) as arrays:
            y_true, y_pred = arrays["y_true"], arrays["y_pred"]
        meta = json.loads((job_dir / SCORE_META_FILE).read_text())
        spec = importlib.util.spec_from_file_location("score", job_dir / SCORE_PROGRAM_FILE)
        if spec is None or spec.loader is None:
            raise PlatformError("cannot load score.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        if not callable(getattr(module, "score", None)):
            raise NameError("score.py does not define score(y_true, y_pred, meta)")
        value = module.score(y_true, y_pred, meta)
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"score() returned {type(value).__name__}; expected a number")
        (job_dir / "out").mkdir(exist_ok=True)
        (job_dir / SCORE_RESULT_PATH).write_text(json.dumps({"score": float(value)}))
        return EXIT_OK
    except BaseException as exc:  # noqa: BLE001 - the author's code: any failure is reported as theirs
        print_learner_traceback(exc)
        channel.emit({"kind": "failure", "reason": describe_failure(exc)})
        return EXIT_FAILED


class _BoundedText:
    """A stdout for the learner's cell that keeps its first ``limit`` characters."""

    def __init__(self, limit: int) -> None:
        self.limit, self.parts, self.size = limit, [], 0

    def write(self, text: str) -> int:
        if self.size < self.limit:
            self.parts.append(str(text)[: self.limit - self.size])
            self.size += len(self.parts[-1])
        return len(text)

    def flush(self) -> None:
        pass

    def getvalue(self) -> str:
        return "".join(self.parts)


def _cell_error(exc: BaseException) -> dict[str, Any]:
    """What went wrong, for the site to word: ``where`` ("cell" when the learner's code raised it,
    even called from the check, else "check"), ``type``, ``detail``, ``line`` (in that code)."""
    if isinstance(exc, SyntaxError) and exc.filename in (CELL_NAME, CHECK_NAME):
        where, line = exc.filename, exc.lineno
    else:
        frames = traceback.extract_tb(exc.__traceback__)
        lines = {name: [frame.lineno for frame in frames if frame.filename == name] for name in (CELL_NAME, CHECK_NAME)}
        where = CELL_NAME if lines[CELL_NAME] else CHECK_NAME
        line = (lines[where] or [None])[-1]
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, SyntaxError):
        detail = str(exc.msg)
    return {
        "where": "cell" if where == CELL_NAME else "check",
        "type": type(exc).__name__,
        "detail": detail[:EXERCISE_MESSAGE_CHARS],
        "line": line,
    }


def run_exercise_task(job_dir: Path, channel: EventChannel) -> int:
    """The "exercise" task: the learner's cell, then the exercise's check (the author's asserts) in
    the same namespace; ``{"passed", "message", "error", "output"}`` written to
    ``out/exercise.json``: ``message`` is a failed assert's own text, ``error`` any other exception
    (``_cell_error``), ``output`` what the cell printed. What the cell does wrong is the learner's
    answer (``passed: false`` and why), not a failure of the task."""
    main_pid = os.getpid()
    try:
        cell = (job_dir / EXERCISE_CELL_FILE).read_text(encoding="utf-8")
        check = (job_dir / EXERCISE_CHECK_FILE).read_text(encoding="utf-8")
        (job_dir / "out").mkdir(exist_ok=True)
    except (OSError, UnicodeDecodeError) as exc:
        channel.emit({"kind": "failure", "reason": describe_failure(PlatformError(str(exc)))})
        return EXIT_FAILED
    channel.emit({"kind": "phase", "phase": PHASE_USER_CODE})
    namespace: dict[str, Any] = {"__name__": "__main__"}
    output = _BoundedText(EXERCISE_OUTPUT_CHARS)
    result: dict[str, Any] = {"passed": False, "message": "", "error": None}
    with contextlib.redirect_stdout(output):  # type: ignore[type-var]
        try:
            exec(compile(cell, CELL_NAME, "exec"), namespace)  # noqa: S102 - the sandbox is the boundary
            exec(compile(check, CHECK_NAME, "exec"), namespace)  # noqa: S102
            result["passed"] = True
        except AssertionError as exc:
            if any(frame.filename == CHECK_NAME for frame in traceback.extract_tb(exc.__traceback__)[-1:]):
                result["message"] = str(exc).strip()[:EXERCISE_MESSAGE_CHARS]  # the check's own assert
            else:
                result["error"] = _cell_error(exc)
        except BaseException as exc:  # noqa: BLE001 - whatever the cell raises is its answer
            result["error"] = _cell_error(exc)
    _stop_if_forked(main_pid)
    result["output"] = output.getvalue()
    (job_dir / EXERCISE_RESULT_PATH).write_text(json.dumps(result))
    return EXIT_OK


def _stop_if_forked(main_pid: int) -> None:
    # A process the learner forked must not go on to predict, write files or report.
    if os.getpid() != main_pid:
        os._exit(EXIT_OK)


def _exit(code: int) -> NoReturn:
    # os._exit: learner atexit hooks and non-daemon threads must not keep the run alive.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def lower_rlimits(limits: dict[str, int]) -> None:
    """Apply the job's resource limits to this process (a warm one started with wider ones).

    Only ever lowers (an unprivileged process cannot raise a hard limit), soft = hard so the
    learner's code cannot raise them back either.
    """
    import resource

    for name, value in limits.items():
        kind = getattr(resource, name, None)
        if not isinstance(kind, int) or not isinstance(value, int):
            continue
        _, hard = resource.getrlimit(kind)
        target = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(kind, (target, target))


def read_go() -> dict[str, Any] | None:
    line = sys.stdin.readline()
    if not line:
        return None  # the supervisor closed stdin: a warm process that is no longer needed
    go = json.loads(line)
    # The learner's code must not read the supervisor's pipe (input() gets EOF instead).
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    return go


def main(argv: list[str] | None = None) -> NoReturn:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--job", type=Path, default=Path("/job"))
    parser.add_argument("--events-fd", type=int, default=None)
    parser.add_argument("--site-packages", default=None, help="the lab runtime's packages (torch, numpy)")
    args = parser.parse_args(argv)
    if args.site_packages:
        import site

        site.addsitedir(args.site_packages)
    channel = EventChannel(args.events_fd)
    try:
        torch_version = warm_up()
    except BaseException as exc:  # noqa: BLE001
        traceback.print_exc()
        channel.emit({"kind": "failure", "reason": _clip(f"platform: torch failed to load: {exc}")})
        _exit(EXIT_FAILED)
    channel.emit({"kind": "ready", "torch": torch_version})
    go = read_go()
    if go is None:
        _exit(EXIT_OK)
    lower_rlimits(go.get("rlimits") or {})
    job_dir = Path(go.get("job") or args.job)
    os.chdir(job_dir)
    task = go.get("task")
    if task == "score":
        _exit(run_score_task(job_dir, channel))
    if task == "exercise":
        _exit(run_exercise_task(job_dir, channel))
    _exit(run_job(job_dir, go, channel))


if __name__ == "__main__":
    main()
