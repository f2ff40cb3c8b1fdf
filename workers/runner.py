"""Run one lab job in a sandbox and report what happened: ``execute_job(spec, ...) -> AttemptResult``.

The supervisor (this module, in the worker process) owns every decision about the outcome:

- ``succeeded`` means the harness exited 0 *and* the supervisor itself found a well-formed
  predictions file with one finite number per test row (it counts the rows in its own cached
  copy of the dataset). The score is computed later by the site.
- ``timed_out`` / ``cancelled`` / ``failed`` with ``limit: output`` or ``limit: disk`` come from
  the supervisor's own kills; ``limit: memory`` and ``limit: processes`` from the cgroup's
  counters; ``error: ...`` from the harness's report (learner-writable, so it can only ever
  describe a failure, never turn one into a success).

Progress (metrics and output) reaches ``on_progress`` in batches at most every 0.5 s;
``should_cancel`` is polled about every 0.25 s. The job folder,
``$LAB_JOBS_DIR/<run_id>-<token>`` (default ``<repo>/var/jobs``), is removed at the end.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import io
import json
import logging
import os
import selectors
import signal
import socket
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from workers import gpus, harness, jobdirs, warm
from workers.cgroups import CgroupError
from workers.dataset_cache import (
    LINK_EXPIRED_REASON,
    DatasetError,
    DatasetLinkExpired,
    count_test_rows,
    fetch_dataset,
    lab_files,
    link_into,
)
from workers.events import AttemptResult
from workers.jobspec import JobSpec
from workers.progress import EventReader, OutputCapture, ProgressBatcher
from workers.sandbox import (
    Sandbox,
    SandboxBackend,
    SandboxExit,
    SandboxUnavailable,
    jobs_dir,
    run_gpu,
    select_backend,
)
from workers.uploads import UploadError, upload

logger = logging.getLogger(__name__)

CANCEL_POLL_S = 0.25
DISK_POLL_S = 1.0
DRAIN_S = 2.0  # after the sandbox exits, how long to wait for the last bytes of its pipes
REASON_CANCELLED = "cancelled: by user"
PLATFORM_PREFIX = "platform: "
# What a learner-writable failure report may claim; anything else becomes a plain error.
LEARNER_REASON_PREFIXES = ("error: ", "limit: ")


def startup_timeout() -> float:
    return float(os.environ.get("LAB_STARTUP_TIMEOUT", "120"))


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _installed_torch_version() -> str:
    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _poll_cancel(should_cancel: Callable[[], bool]) -> bool:
    try:
        return bool(should_cancel())
    except Exception:
        logger.exception("should_cancel failed; treating as not cancelled")
        return False


# ------------------------------------------------------------------------------------------
# the job folder
# ------------------------------------------------------------------------------------------
def _write_new_file(directory: Path, name: str, data: bytes) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(directory / name, flags, 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _write_job_files(job_dir: Path, spec: JobSpec, dataset: Path) -> None:
    """What the harness reads after "go". No token, no run id, no test labels."""
    _write_new_file(job_dir, harness.SOLUTION_FILE, spec.code.encode("utf-8", "replace"))
    job = {
        "device": spec.device,
        "params": spec.params,
        "seed": spec.seed,
        # The harness keeps the weights only where the site has a link to send them to.
        "weights_max_bytes": spec.uploads.weights_max_bytes if spec.uploads.weights else 0,
        "disk_bytes": spec.limits.disk_mb * 1024 * 1024,
    }
    _write_new_file(job_dir, harness.JOB_FILE, json.dumps(job).encode())
    link_into(dataset, job_dir / harness.DATASET_FILE)
    files = lab_files(dataset)
    if files:  # the lab's [files]: root's, read-only for the learner's uid
        folder = job_dir / harness.FILES_DIR
        folder.mkdir(mode=0o755)
        for name, payload in files.items():
            if name and name == os.path.basename(name) and not name.startswith("."):
                _write_new_file(folder, name, payload)
                os.chmod(folder / name, 0o444)
        os.chmod(folder, 0o555)  # noqa: S103 - readable by the sandbox uid, writable by none


def prepare_jobs_root() -> Path:
    root = jobs_dir()
    root.mkdir(parents=True, exist_ok=True)
    # Other uids may traverse (their own bind mount) but not list the run folders.
    with contextlib.suppress(PermissionError):
        os.chmod(root, 0o711)  # noqa: S103 - traverse-only, deliberately
    return root


def _start_sandbox(spec: JobSpec, backend: SandboxBackend, dataset: Path) -> tuple[Sandbox, bool]:
    """A warm sandbox from the pool when one fits, else a freshly started one."""
    sandbox = _take_warm_sandbox(spec, backend, dataset)
    if sandbox is not None:
        return sandbox, True
    return _start_fresh_sandbox(spec, backend, dataset), False


def _take_warm_sandbox(spec: JobSpec, backend: SandboxBackend, dataset: Path) -> Sandbox | None:
    pool = warm.get_default_pool(backend)
    # A member still importing torch is worth waiting for: the rest of its start-up is shorter
    # than a fresh sandbox's, and the pool hands out only members that reported ready.
    sandbox = pool.acquire(spec.limits, spec.device, wait=startup_timeout()) if pool is not None else None
    if sandbox is None:
        return None
    try:
        # warm-<random> -> job-<random>: a job folder from now on (nothing names the run).
        sandbox.rename_job_dir(
            sandbox.job_dir.with_name(sandbox.job_dir.name.replace(jobdirs.WARM_PREFIX, jobdirs.JOB_PREFIX, 1))
        )
        _write_job_files(sandbox.job_dir, spec, dataset)
        sandbox.apply_limits(spec.limits)
        return sandbox
    except (OSError, CgroupError) as exc:
        # e.g. the warm process already uses more memory than this job may: start fresh.
        logger.warning("warm sandbox unusable for run %s (%s); starting a fresh one", spec.run_id, exc)
        _discard(sandbox)
        return None


def _start_fresh_sandbox(spec: JobSpec, backend: SandboxBackend, dataset: Path) -> Sandbox:
    job_dir = jobdirs.create(prepare_jobs_root())
    try:
        _write_job_files(job_dir, spec, dataset)
        return backend.start(job_dir=job_dir, limits=spec.limits, device=spec.device, label=job_dir.name)
    except BaseException:
        jobdirs.release(job_dir)
        raise


def _discard(sandbox: Sandbox) -> None:
    """Kill everything of the sandbox first (nothing writes any more), then remove its folder."""
    sandbox.finish()
    jobdirs.release(sandbox.job_dir)


# ------------------------------------------------------------------------------------------
# watching the run
# ------------------------------------------------------------------------------------------
@dataclass
class _Watch:
    """Everything the supervisor learned while the sandbox ran."""

    output: OutputCapture
    events: EventReader
    batcher: ProgressBatcher
    kill_reason: str | None = None
    go_sent: bool = False
    user_code_started: bool = False
    platform_failure: str | None = None
    learner_failure: str | None = None
    torch_version: str | None = None
    notes: list[str] = field(default_factory=list)
    gpu_memory: gpus.MemoryWatch | None = None  # a CUDA run's GPU memory, sampled from NVML

    def on_event(self, event: dict[str, Any]) -> None:
        kind = event["kind"]
        if kind == "metrics":
            self.batcher.add(event)
        elif kind == "phase" and event["phase"] == harness.PHASE_USER_CODE:
            self.user_code_started = True
        elif kind == "failure":
            self._on_failure(event["reason"])

    def _on_failure(self, reason: str) -> None:
        # Before the user_code phase only the harness can write to the pipe, so only then
        # may a report blame the platform (which keeps the run out of the learner's quota).
        if not self.user_code_started:
            self.platform_failure = reason if reason.startswith("platform: ") else f"platform: {reason}"
        elif reason.startswith(LEARNER_REASON_PREFIXES):
            self.learner_failure = reason
        else:
            self.learner_failure = f"error: {reason}"


def _new_watch(spec: JobSpec, on_progress: Callable[[list[dict]], None]) -> _Watch:
    return _Watch(OutputCapture(spec.limits.output_bytes), EventReader(), ProgressBatcher(on_progress))


def _watch(sandbox: Sandbox, spec: JobSpec, watch: _Watch, should_cancel: Callable[[], bool]) -> _Watch:
    dataset = os.stat(sandbox.job_dir / harness.DATASET_FILE)
    dataset_inode = (dataset.st_dev, dataset.st_ino)
    disk_limit = spec.limits.disk_mb * 1024 * 1024
    selector = selectors.DefaultSelector()
    selector.register(sandbox.stdout_fd, selectors.EVENT_READ, "output")
    selector.register(sandbox.events_fd, selectors.EVENT_READ, "events")
    deadline = time.monotonic() + startup_timeout()
    next_cancel_poll = next_disk_poll = time.monotonic()
    exited_at: float | None = None
    try:
        while selector.get_map():
            now = time.monotonic()
            timeout = max(0.0, min(CANCEL_POLL_S, deadline - now, watch.batcher.due_in(now)))
            for key, _ in selector.select(timeout):
                try:
                    data = os.read(key.fd, 65536)
                except OSError:
                    data = b""
                if not data:
                    selector.unregister(key.fd)
                elif key.data == "output":
                    _on_output(watch, sandbox, data)
                else:
                    for event in watch.events.feed(data):
                        if event["kind"] == "ready" and not watch.go_sent:
                            watch.torch_version = event["torch"] or None
                            watch.go_sent = True
                            deadline = time.monotonic() + spec.limits.wall_seconds
                            sandbox.send_go(deadline)
                        watch.on_event(event)
            now = time.monotonic()
            if watch.kill_reason is None:
                reason = None
                if now >= deadline:
                    reason = "limit: time" if watch.go_sent else "platform: the sandbox did not start in time"
                elif now >= next_cancel_poll:
                    next_cancel_poll = now + CANCEL_POLL_S
                    if _poll_cancel(should_cancel):
                        reason = REASON_CANCELLED
                if reason is None and watch.go_sent and now >= next_disk_poll:
                    next_disk_poll = now + DISK_POLL_S
                    if watch.gpu_memory is not None:
                        watch.gpu_memory.sample()
                    if harness.folder_usage(sandbox.job_dir, dataset_inode) > disk_limit:
                        reason = "limit: disk"
                if reason is not None:
                    _kill(watch, sandbox, reason)
            watch.batcher.maybe_flush(now)
            if sandbox.poll() is not None:
                if exited_at is None:
                    exited_at = now
                    sandbox.kill()  # leftovers (dev backend) must not hold the pipes open
                elif now - exited_at > DRAIN_S:
                    break
    finally:
        selector.close()
    watch.batcher.flush()
    return watch


def _warm_sandbox_failed_before_the_job(watch: _Watch) -> bool:
    """The sandbox ended on its own before the learner's code started, and not because of the job.

    A warm member can die after it was handed out (killed, out of memory while narrowed, a
    broken start-up): a fresh sandbox then runs the job. Not retried: a run the supervisor
    stopped (cancel, time), and a failure the harness reported after "go" (it came from the
    job's own files, e.g. no CUDA on this worker, and would repeat).
    """
    if watch.kill_reason is not None or watch.user_code_started:
        return False
    return not (watch.go_sent and watch.platform_failure)


def _on_output(watch: _Watch, sandbox: Sandbox, data: bytes) -> None:
    if not watch.go_sent:
        # Start-up chatter (e.g. library warnings) of a warm process: keep it for diagnosis only.
        watch.notes.append(data[-2000:].decode("utf-8", errors="replace"))
        del watch.notes[:-4]
        return
    text = watch.output.feed(data)
    if text:
        watch.batcher.add({"kind": "output", "text": text})
    if watch.output.flooded and watch.kill_reason is None:
        _kill(watch, sandbox, "limit: output")


def _kill(watch: _Watch, sandbox: Sandbox, reason: str) -> None:
    watch.kill_reason = reason
    sandbox.kill()


# ------------------------------------------------------------------------------------------
# the outcome
# ------------------------------------------------------------------------------------------
def open_job_output(job_dir: Path, name: str, max_bytes: int) -> tuple[BinaryIO | None, str | None]:
    """``out/<name>`` of a job folder, opened defensively: the folder belongs to the sandbox's uid.

    Every path component is opened with O_NOFOLLOW (a symlink planted by learner code must
    not make this root process read a host file), and the file must be a regular one of at most
    ``max_bytes``. ``(file, None)``, to be closed by the caller; ``(None, None)`` when there is no
    such file; ``(None, problem)`` when it is wrong.
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
    what = name.partition(".")[0]  # "predictions", "score", "model"
    fds: list[int] = []
    try:
        fds.append(os.open(job_dir, flags | os.O_DIRECTORY))
        fds.append(os.open("out", flags | os.O_DIRECTORY, dir_fd=fds[-1]))
        fds.append(os.open(name, flags | os.O_NONBLOCK, dir_fd=fds[-1]))
        info = os.fstat(fds[-1])
        if not stat.S_ISREG(info.st_mode):
            return None, f"the {what} file is not a regular file"
        if info.st_size > max_bytes:
            return None, f"the {what} file is larger than the {what} can be"
        return os.fdopen(os.dup(fds[-1]), "rb"), None
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, f"the {what} file cannot be read: {str(exc)[:200] or type(exc).__name__}"
    finally:
        for fd in fds:
            os.close(fd)


def read_job_output(job_dir: Path, name: str, max_bytes: int) -> tuple[bytes | None, str | None]:
    """``out/<name>`` of a job folder, read defensively (``open_job_output``)."""
    handle, problem = open_job_output(job_dir, name, max_bytes)
    if handle is None:
        return None, problem
    with handle:
        try:
            return handle.read(max_bytes + 1), None
        except OSError as exc:
            what = name.partition(".")[0]
            return None, f"the {what} file cannot be read: {str(exc)[:200] or type(exc).__name__}"


def read_predictions(job_dir: Path, expected_rows: int) -> tuple[list[Any] | None, str | None]:
    """The predictions file (``out/predictions.npy``), read defensively (``read_job_output``) and
    checked again here: one finite number, one row of finite numbers or one string per test row."""
    limit = 8 * harness.MAX_PREDICTION_VALUES + 4 * harness.MAX_PREDICTION_CHARS * expected_rows + 64 * 1024
    payload, problem = read_job_output(job_dir, "predictions.npy", limit)
    if payload is None:
        return None, problem
    try:
        array = np.load(io.BytesIO(payload), allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - a crafted .npy header can raise almost anything
        return None, f"the predictions file cannot be read: {str(exc)[:200] or type(exc).__name__}"
    strings = array.ndim == 1 and array.dtype.kind == "U"
    if not strings and (array.ndim not in (1, 2) or array.dtype.kind not in "biuf"):
        return None, f"the predictions have shape {array.shape} and type {array.dtype}; expected numbers or strings"
    if len(array) != expected_rows:
        return None, f"predict returned {len(array)} predictions for {expected_rows} test rows"
    if strings:
        return [str(value) for value in array], None
    if array.size > harness.MAX_PREDICTION_VALUES:
        return None, f"the predictions hold {array.size} numbers; at most {harness.MAX_PREDICTION_VALUES}"
    values = array.astype(np.float64)
    if not np.all(np.isfinite(values)):
        return None, "the predictions contain NaN or infinite values"
    return values.tolist(), None


def _signal_name(exit_code: int) -> str:
    try:
        return signal.Signals(exit_code - 128).name
    except ValueError:
        return f"signal {exit_code - 128}"


def decide(
    watch: _Watch, facts: SandboxExit, predictions_ok: bool, problem: str | None, *, init_protected: bool = False
) -> tuple[str, str | None]:
    """(state, reason) from what the supervisor saw; first matching rule wins.

    ``init_protected``: the harness is pid 1 of its own pid namespace (bwrap), where nothing
    inside can send it SIGKILL; so a SIGKILL the supervisor did not send came from outside
    (an operator, the node's OOM killer): the platform's failure, retried, not counted.
    """
    if watch.kill_reason == REASON_CANCELLED:
        return "cancelled", REASON_CANCELLED
    if watch.kill_reason == "limit: time":
        return "timed_out", "limit: time"
    if watch.kill_reason is not None:
        return "failed", watch.kill_reason
    if facts.exit_code == 0 and predictions_ok:
        return "succeeded", None
    if facts.oom_kills and facts.memory_limit_hits:
        return "failed", "limit: memory"
    if facts.oom_kills and init_protected:
        return "failed", "platform: the node ran out of memory and the kernel killed the run"
    if init_protected and facts.exit_code == 128 + signal.SIGKILL:
        return "failed", "platform: the sandbox was killed from outside (SIGKILL)"
    if facts.oom_kills:
        return "failed", "limit: memory"
    if facts.pids_limit_hits:
        return "failed", "limit: processes"
    if not watch.user_code_started:
        if watch.platform_failure:
            return "failed", watch.platform_failure
        detail = " ".join("".join(watch.notes).split())[-300:]
        return "failed", f"platform: the sandbox exited during start-up (status {facts.exit_code}) {detail}".strip()
    if watch.learner_failure:
        return "failed", watch.learner_failure
    if problem:
        return "failed", f"error: {problem}"
    code = facts.exit_code
    if code is not None and code > 128:
        return "failed", f"error: the program was killed by {_signal_name(code)}"
    return "failed", f"error: the program exited with status {code} before writing predictions"


# What the log tail says at its end about a run the platform stopped (the learner sees why).
_LIMIT_NOTES = {
    "limit: time": "the wall-clock limit of {wall} s was reached",
    "limit: output": "the program wrote far more output than the {output} byte limit",
    "limit: disk": "the program wrote more than the {disk} MB disk limit",
    "limit: memory": "the program ran out of its {memory} MB memory limit",
    "limit: processes": "the program tried to run more than {processes} processes/threads",
    REASON_CANCELLED: "the run was cancelled",
}


def _log_tail(watch: _Watch, spec: JobSpec, reason: str | None) -> str:
    tail = watch.output.render()
    template = _LIMIT_NOTES.get(reason or "")
    if template is None:
        return tail
    limits = spec.limits
    note = template.format(
        wall=limits.wall_seconds,
        output=limits.output_bytes,
        disk=limits.disk_mb,
        memory=limits.memory_mb,
        processes=limits.processes,
    )
    separator = "" if not tail or tail.endswith("\n") else "\n"
    return f"{tail}{separator}[lab runner] {note}\n"


# ------------------------------------------------------------------------------------------
# the run's files
# ------------------------------------------------------------------------------------------
WEIGHTS_FILE = Path(harness.WEIGHTS_PATH).name
LOG_CONTENT_TYPE = "text/plain; charset=utf-8"


def store_artifacts(spec: JobSpec, job_dir: Path, *, state: str, log: str) -> tuple[dict[str, Any], str]:
    """Send this attempt's files to ``spec.uploads``: the weights the harness kept (a run that
    succeeded only), then the log. Returns what was stored (``AttemptResult.artifacts``) and the log,
    with a line for weights that could not be stored. Never raises: a file not stored is reported as
    such (left out), and the run's outcome stays what it was."""
    stored: dict[str, Any] = {}
    uploads = spec.uploads
    if state == "succeeded" and uploads.weights:
        try:
            weights = _upload_weights(job_dir, uploads.weights, uploads.weights_max_bytes)
        except Exception as exc:  # noqa: BLE001 - weights are a courtesy: the run stands without them
            logger.warning("run %s: the weights were not stored: %s", spec.run_id, exc)
            log = _with_note(log, f"the weights could not be stored: {exc}")
        else:
            if weights is not None:
                stored["weights"] = weights
    if uploads.log:
        data = log.encode("utf-8", "replace")
        try:
            stored["log"] = upload(io.BytesIO(data), uploads.log, size=len(data), content_type=LOG_CONTENT_TYPE)
        except Exception as exc:  # noqa: BLE001 - the log's tail still travels in the result
            logger.warning("run %s: the log was not stored: %s", spec.run_id, exc)
    return stored, log


def _upload_weights(job_dir: Path, url: str, max_bytes: int) -> dict[str, Any] | None:
    """``out/model.pt``, opened as any file of the sandbox is (``open_job_output``), sent to ``url``;
    None when the harness kept none (its log line says why)."""
    handle, problem = open_job_output(job_dir, WEIGHTS_FILE, max_bytes)
    if handle is None:
        if problem:
            raise UploadError(problem)
        return None
    with handle:
        size = os.fstat(handle.fileno()).st_size
        return upload(handle, url, size=size, content_type="application/octet-stream")


def _with_note(log: str, note: str) -> str:
    separator = "" if not log or log.endswith("\n") else "\n"
    return f"{log}{separator}[lab runner] {note}\n"


# ------------------------------------------------------------------------------------------
# the entry point
# ------------------------------------------------------------------------------------------
def execute_job(
    spec: JobSpec,
    *,
    on_progress: Callable[[list[dict]], None],
    should_cancel: Callable[[], bool],
    cache_dir: Path | None = None,
) -> AttemptResult:
    """Run ``spec`` in a sandbox; never raises for anything the learner's code does.

    Raises ``SandboxUnavailable`` when ``LAB_SANDBOX=bwrap`` is forced but cannot work.
    """
    started_at, started = _utc_now(), time.monotonic()
    backend = select_backend()
    result = {
        "device": spec.device,
        "sandbox": backend.name,
        "worker_host": socket.gethostname(),
        "torch_version": _installed_torch_version(),
        "started_at": started_at,
    }

    def finish(state: str, reason: str | None, **extra: Any) -> AttemptResult:
        return AttemptResult(
            state=state,
            reason=reason,
            predictions=extra.pop("predictions", None),
            log_tail=extra.pop("log_tail", ""),
            finished_at=_utc_now(),
            duration_s=round(time.monotonic() - started, 3),
            **result,
            **extra,
        )

    if _poll_cancel(should_cancel):
        return finish("cancelled", REASON_CANCELLED)
    try:
        dataset = fetch_dataset(spec.dataset, cache_dir)
        test_rows = count_test_rows(dataset)
    except DatasetLinkExpired as exc:
        return finish("failed", f"{LINK_EXPIRED_REASON}: {exc}")
    except DatasetError as exc:
        return finish("failed", f"platform: dataset unavailable: {exc}")

    sandbox: Sandbox | None = None
    watch = _new_watch(spec, on_progress)
    try:
        sandbox, warm_start = _start_sandbox(spec, backend, dataset)
        watch.gpu_memory = _gpu_memory_watch(spec, sandbox)
        _watch(sandbox, spec, watch, should_cancel)
        facts = sandbox.finish()
        if warm_start and _warm_sandbox_failed_before_the_job(watch):
            # The pool's hiccup, not the learner's: run the job again in a fresh sandbox.
            logger.warning(
                "the warm sandbox of run %s ended (status %s) before the job started; starting a fresh one. %s",
                spec.run_id,
                facts.exit_code,
                " ".join("".join(watch.notes).split())[-500:],
            )
            _discard(sandbox)
            sandbox, warm_start = None, False
            sandbox = _start_fresh_sandbox(spec, backend, dataset)
            watch = _new_watch(spec, on_progress)
            watch.gpu_memory = _gpu_memory_watch(spec, sandbox)
            _watch(sandbox, spec, watch, should_cancel)
            facts = sandbox.finish()
        predictions, problem = read_predictions(sandbox.job_dir, test_rows)
        state, reason = decide(watch, facts, predictions is not None, problem, init_protected=sandbox.init_protected)
        if state == "failed" and reason and watch.gpu_memory is not None:
            reason = _gpu_oom_verdict(watch, reason)
        if watch.torch_version:
            result["torch_version"] = watch.torch_version
        log, artifacts = _log_tail(watch, spec, reason), {}
        if not (reason or "").startswith(PLATFORM_PREFIX):  # a platform failure is tried again: nothing to keep
            artifacts, log = store_artifacts(spec, sandbox.job_dir, state=state, log=log)
        return finish(
            state,
            reason,
            predictions=predictions if state == "succeeded" else None,
            log_tail=log,
            warm_start=warm_start,
            metrics_dropped=watch.events.metrics_dropped,
            artifacts=artifacts,
        )
    except SandboxUnavailable:
        raise
    except Exception as exc:
        # The supervisor itself failed. The run still ends here, once, with an honest reason.
        logger.exception("the supervisor of run %s failed", spec.run_id)
        state, reason = supervisor_failure(watch, exc)
        return finish(state, reason, log_tail=_safe_render(watch))
    finally:
        if sandbox is not None:
            try:
                sandbox.finish()
            except Exception:
                logger.exception("could not stop the sandbox of run %s", spec.run_id)
            jobdirs.release(sandbox.job_dir)


def _gpu_memory_watch(spec: JobSpec, sandbox: Sandbox) -> gpus.MemoryWatch | None:
    """A CUDA run in a sandbox with its own cgroup, on a node with NVML: its GPU memory is watched."""
    cgroup = getattr(sandbox, "cgroup", None)
    gpu = run_gpu() if spec.device == "cuda" else None
    nvml = gpus.load_nvml() if gpu is not None and cgroup is not None else None
    return gpus.MemoryWatch(nvml, gpu, cgroup.pids) if nvml is not None else None


def _gpu_oom_verdict(watch: _Watch, reason: str) -> str:
    memory = watch.gpu_memory
    assert memory is not None
    fraction = float(os.environ.get("LAB_GPU_MEMORY_FRACTION", "1"))
    share = int(memory.gpu.memory_bytes * fraction)
    return gpus.oom_verdict(
        reason, watch.output.render(), peak_bytes=memory.peak_bytes, share_bytes=share, shared=fraction < 1
    )


def supervisor_failure(watch: _Watch, exc: BaseException) -> tuple[str, str]:
    """(state, reason) when the supervisor raised: the learner's outcome once their code ran
    (whatever broke it came from the sandbox), the platform's before."""
    if watch.user_code_started or watch.go_sent:
        return "failed", f"error: the program broke the runner's protocol ({type(exc).__name__})"
    return "failed", f"platform: the lab runner failed: {type(exc).__name__}: {str(exc)[:200]}"


def _safe_render(watch: _Watch) -> str:
    try:
        return watch.output.render()
    except Exception:  # noqa: BLE001 - the log is a courtesy here; the outcome is what matters
        return ""
