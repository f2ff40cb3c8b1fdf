"""``academy test``: the platform's own harness, on this machine, scored on the validation split.

What runs is the code the platform runs, not a copy (``academy_client._platform``: the very files
``workers/contract.py``, ``workers/harness.py`` and ``labs/scoring.py``, shipped in the package):

1. the contract check the site makes before queueing (``contract.check_source``; a notebook is
   turned into Python by ``contract.notebook_to_source``, magics dropped and listed);
2. a job folder as a lab worker writes it (``solution.py``, ``job.json``, ``dataset.npz``, the
   lab's ``files/``) and the harness in a fresh process of its own: it imports torch, waits for
   "go", seeds every generator, builds ``data`` and ``run``, calls ``train`` then ``predict``
   and checks the predictions (``to_predictions``); its events carry the live metrics;
3. the site's scoring of the predictions (``predictions_to_json``, ``score_predictions``,
   ``passes``) with the lab's metric, options and threshold.

The difference: ``predict`` gets the validation features instead of the hidden test ones, and
the score is against the validation labels (without a validation split, a held-out fifth of the
training data, which ``train`` then does not see). Not enforced here: the sandbox, the memory,
process, output and disk limits. The wall-clock limit is (on this machine's speed).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from academy_client._platform import contract, harness, scoring
from academy_client.errors import AcademyError, Rejected, UsageError
from academy_client.progress import Display

HOLDOUT_FRACTION = 0.2
HOLDOUT_SEED = 0
STARTUP_SECONDS = 300.0  # importing torch the first time on a cold laptop can take a while
OUTPUT_TAIL_LINES = 40
CUSTOM_METRIC = "custom"
# Run the harness file as __main__ (as the sandbox does), without importing this package in the child.
BOOTSTRAP = "import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"


@dataclass
class LocalData:
    """The job's dataset (``x_test`` = the rows scored here), their labels, the lab's files."""

    arrays: dict[str, np.ndarray]
    y_true: np.ndarray
    files: dict[str, bytes]
    split: str  # "validation" or "holdout"


@dataclass
class LocalOutcome:
    state: str  # succeeded | failed | timed_out
    reason: str | None = None
    score: float | None = None
    passed: bool | None = None
    curve: list[dict[str, Any]] = field(default_factory=list)
    output_tail: list[str] = field(default_factory=list)
    seconds: float = 0.0


def source_prepare(raw: bytes, filename: str) -> tuple[str, list[str]]:
    """The Python source the platform would queue, and its notes; Rejected as the platform would."""
    notes: list[str] = []
    if filename.lower().endswith(".ipynb"):
        try:
            code, notes = contract.notebook_to_source(raw)
        except contract.ContractError as exc:
            raise Rejected([f"The notebook cannot be read: {exc}"]) from None
    else:
        try:
            code = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Rejected([f"The file is not UTF-8 text (byte {exc.start}). Save it as UTF-8."]) from None
    if not code.strip():
        raise Rejected(["The submission is empty."])
    problems = contract.check_source(code)
    if problems:
        raise Rejected([str(problem) for problem in problems])
    return code, notes


def params_resolve(spec: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """The lab's defaults with ``overrides``, each a number of the declared type within its bounds."""
    errors = [f"Unknown parameter “{name}”." for name in overrides if name not in spec]
    params: dict[str, Any] = {}
    for name, rule in spec.items():
        value = overrides.get(name, rule.get("default"))
        kind = int if rule.get("type") == "int" else float
        try:
            number = kind(value)
            if kind is int and float(value) != number:
                raise ValueError
        except (TypeError, ValueError, OverflowError):
            errors.append(f"Parameter “{name}” must be a {rule.get('type')}.")
            continue
        if not rule.get("min", number) <= number <= rule.get("max", number):
            errors.append(f"Parameter “{name}” must be between {rule.get('min')} and {rule.get('max')}.")
        params[name] = number
    if errors:
        raise Rejected(errors)
    return params


def data_load(path: Path) -> LocalData:
    """The pulled ``data.npz`` as a job dataset scored on its validation split (else a held-out slice)."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path} is not a lab dataset (.npz): {exc}") from None
    files = {
        name[len(harness.FILES_PREFIX) :]: array.tobytes()
        for name, array in arrays.items()
        if name.startswith(harness.FILES_PREFIX)
    }
    public = {name: array for name, array in arrays.items() if not name.startswith(harness.FILES_PREFIX)}
    missing = [name for name in ("x_train", "y_train") if name not in public]
    if missing:
        raise UsageError(f"{path} is not a lab dataset: it has no {', '.join(missing)}")
    if "x_val" in public and "y_val" in public and len(public["y_val"]):
        return LocalData({**public, "x_test": public["x_val"]}, public["y_val"], files, "validation")
    rows = len(public["y_train"])
    if rows < 2:
        raise UsageError(f"{path} has no validation split and too little training data to hold some out")
    order = np.random.default_rng(HOLDOUT_SEED).permutation(rows)
    held = order[: max(1, round(rows * HOLDOUT_FRACTION))]
    kept = np.sort(order[len(held) :])
    job = {
        **{k: v for k, v in public.items() if k not in ("x_val", "y_val")},
        "x_train": public["x_train"][kept],
        "y_train": public["y_train"][kept],
        "x_test": public["x_train"][held],
    }
    return LocalData(job, public["y_train"][held], files, "holdout")


def torch_check() -> None:
    if importlib.util.find_spec("torch") is None:
        raise UsageError(
            "academy test runs your code with PyTorch, which is not installed for this Python"
            f" ({sys.executable}): install it, e.g. `{sys.executable} -m pip install torch`"
            " (academy submit does not need it)"
        )


def device_choose(lab: dict[str, Any], requested: str) -> tuple[str, str | None]:
    """("cuda" or "cpu", a note for the learner or None)."""
    if requested != "auto":
        return requested, None
    if lab.get("device_class") != "gpu":
        return "cpu", None
    import torch  # only for a GPU lab: the question costs an import

    if torch.cuda.is_available():
        return "cuda", None
    return "cpu", "this lab runs on a GPU on the platform; no CUDA device here, so the test runs on the CPU"


def job_write(folder: Path, *, code: str, data: LocalData, device: str, seed: int, params: dict[str, Any]) -> None:
    """The job folder as a lab worker writes it (``workers.runner``), with ``x_test`` = the scored rows."""
    (folder / harness.SOLUTION_FILE).write_text(code, encoding="utf-8")
    job = {"device": device, "params": params, "seed": seed}
    (folder / harness.JOB_FILE).write_text(json.dumps(job), encoding="utf-8")
    np.savez(folder / harness.DATASET_FILE, **data.arrays)
    (folder / "out").mkdir()
    if data.files:
        files = folder / harness.FILES_DIR
        files.mkdir()
        for name, payload in data.files.items():
            if name and name == os.path.basename(name) and not name.startswith("."):
                (files / name).write_bytes(payload)


class HarnessProcess:
    """The harness in a process of its own; its output lines and events arrive on one queue."""

    def __init__(self, job_dir: Path) -> None:
        self.messages: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.use_events = os.name == "posix"  # an inherited descriptor; elsewhere, output only
        command = [sys.executable, "-B", "-u", "-c", BOOTSTRAP, harness.__file__, "--job", str(job_dir)]
        read_end = write_end = None
        if self.use_events:
            read_end, write_end = os.pipe()
            command += ["--events-fd", str(write_end)]
        self.process = subprocess.Popen(
            command,
            cwd=job_dir,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(write_end,) if write_end is not None else (),
            start_new_session=os.name == "posix",  # its own process group: all of it is stopped at the end
        )
        if write_end is not None:
            os.close(write_end)
        self._readers = [threading.Thread(target=self._lines, args=(self.process.stdout, "output"), daemon=True)]
        if read_end is not None:
            self._readers.append(
                threading.Thread(target=self._lines, args=(os.fdopen(read_end, "rb"), "event"), daemon=True)
            )
        for reader in self._readers:
            reader.start()

    def _lines(self, stream: Any, kind: str) -> None:
        with stream:
            for raw in stream:
                text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                if kind == "output":
                    self.messages.put(("output", text))
                    continue
                try:
                    self.messages.put(("event", json.loads(text)))
                except ValueError:
                    continue  # the learner's code can write anything there

    def go(self, deadline: float) -> None:
        """Start the job (the harness reads one line from stdin, then never again)."""
        stdin = self.process.stdin
        if stdin is None:
            return
        with contextlib.suppress(OSError):
            stdin.write((json.dumps({"deadline": deadline}) + "\n").encode())
            stdin.flush()
            stdin.close()

    def stop(self) -> None:
        """Kill the harness and whatever it started (as the platform kills the cgroup); read what is left."""
        if os.name == "posix":
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        for reader in self._readers:
            reader.join(timeout=5)


@dataclass
class _Watch:
    """What the supervisor knows of a local job while it runs."""

    outcome: LocalOutcome
    run: dict[str, Any]
    display: Display
    tail: deque[str]
    wall_seconds: float
    rename: tuple[str, str]  # the job's solution.py → the learner's own file, in tracebacks
    deadline: float | None = None

    def take(self, kind: str, item: Any, process: HarnessProcess) -> None:
        if kind == "output":
            item = item.replace(*self.rename)
            self.tail.append(item)
            self.display.note(item)
            return
        if kind != "event" or not isinstance(item, dict):
            return
        event = item.get("kind")
        if event == "ready" and self.deadline is None:
            self.deadline = time.monotonic() + self.wall_seconds
            process.go(self.deadline)
            self.run["state"] = "running"
        elif event == "metrics" and isinstance(item.get("metrics"), dict):
            self.outcome.curve.append({"step": item.get("step"), "t": item.get("t"), "metrics": item["metrics"]})
        elif event == "failure" and isinstance(item.get("reason"), str):
            self.outcome.reason = item["reason"]


def harness_run(
    job_dir: Path, *, wall_seconds: float, display: Display, label: str, source_name: str = harness.SOLUTION_FILE
) -> LocalOutcome:
    """Run the job, showing its progress: the outcome the supervisor would decide, before scoring."""
    started = time.monotonic()
    outcome = LocalOutcome(state="preparing")
    watch = _Watch(
        outcome,
        {"label": label, "state": "preparing", "curve": outcome.curve},
        display,
        deque(maxlen=OUTPUT_TAIL_LINES),
        wall_seconds,
        (str(job_dir / harness.SOLUTION_FILE), source_name),
    )
    process = HarnessProcess(job_dir)
    if not process.use_events:  # no "ready" event will come
        watch.deadline = time.monotonic() + wall_seconds
        process.go(watch.deadline)
    ended = None
    try:
        while ended is None:
            with contextlib.suppress(queue.Empty):
                watch.take(*process.messages.get(timeout=0.25), process)
            now = time.monotonic()
            display.update(watch.run, now - started)
            if process.process.poll() is not None:
                ended = "exit"
            elif watch.deadline is not None and now > watch.deadline:
                ended = "time"
            elif watch.deadline is None and now - started > STARTUP_SECONDS:
                ended = "startup"
    finally:
        process.stop()
    while not process.messages.empty():
        watch.take(*process.messages.get_nowait(), process)
    outcome.output_tail = list(watch.tail)
    outcome.seconds = time.monotonic() - started
    code = process.process.returncode
    if ended == "time":
        outcome.state, outcome.reason = "timed_out", "limit: time"
    elif ended == "startup":
        outcome.state, outcome.reason = "failed", f"the harness did not start within {STARTUP_SECONDS:.0f}s"
    elif code == harness.EXIT_OK and (job_dir / harness.PREDICTIONS_PATH).is_file():
        outcome.state, outcome.reason = "scoring", None
    else:
        outcome.state, outcome.reason = "failed", outcome.reason or _exit_reason(code)
    return outcome


def _exit_reason(code: int | None) -> str:
    if code is not None and code < 0:
        name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
        return f"error: the program was killed by {name}" + (" (out of memory?)" if name == "SIGKILL" else "")
    return f"error: the program exited with status {code} before writing predictions"


def predictions_score(job_dir: Path, lab: dict[str, Any], y_true: np.ndarray, outcome: LocalOutcome) -> None:
    """The site's scoring (``labs.scoring``) of the harness's predictions, into ``outcome``."""
    try:
        values = np.load(job_dir / harness.PREDICTIONS_PATH, allow_pickle=False)
    except (OSError, ValueError) as exc:
        outcome.state, outcome.reason = "failed", f"error: the predictions file cannot be read: {exc}"
        return
    stored = scoring.predictions_to_json(values.tolist())  # as the site stores them (JSON, NaN as null)
    metric = lab.get("metric")
    if metric == CUSTOM_METRIC:
        # The lab's score.py stays on the platform: the predictions' form is all that can be checked.
        outcome.state = "succeeded"
        outcome.reason = "not scored here: this lab's metric is its own score.py, which only the platform runs"
        return
    result = scoring.score_predictions(str(metric), y_true, stored, options=lab.get("metric_options") or None)
    if result.error:
        outcome.state, outcome.reason = "failed", result.error
        return
    outcome.state, outcome.score = "succeeded", result.score
    outcome.passed = scoring.passes(result.score, float(lab["threshold"]), bool(lab.get("higher_is_better", True)))


def local_test(
    *,
    code: str,
    lab: dict[str, Any],
    data: LocalData,
    device: str,
    seed: int,
    params: dict[str, Any],
    display: Display,
    wall_seconds: float | None = None,
    source_name: str = harness.SOLUTION_FILE,
) -> LocalOutcome:
    """Run ``code`` through the platform's harness on ``data`` and score it as the site would."""
    torch_check()
    limit = float(wall_seconds if wall_seconds is not None else lab.get("wall_seconds") or 600)
    with tempfile.TemporaryDirectory(prefix="academy-test-") as folder:
        job_dir = Path(folder)
        job_write(
            job_dir,
            code=code,
            data=data,
            device=device,
            seed=seed,
            params=params,
        )
        label = f"local test of {lab['slug']}"
        outcome = harness_run(job_dir, wall_seconds=limit, display=display, label=label, source_name=source_name)
        if outcome.state == "scoring":
            predictions_score(job_dir, lab, data.y_true, outcome)
    if outcome.state not in ("succeeded", "failed", "timed_out"):
        raise AcademyError(f"the local test ended in state {outcome.state}")
    final = {"label": label, "state": outcome.state, "reason": outcome.reason, "curve": outcome.curve}
    display.update(
        {**final, "metric": lab.get("metric"), "score": outcome.score, "passed": outcome.passed}, outcome.seconds
    )
    return outcome
