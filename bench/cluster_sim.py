"""How many GPU nodes does one site tier serve? Runs scored per second, and the site tier's CPU per run.

The real site path with a fake, instant job body: learners submit through ``labs.services``
(``submission_create``, what the API and the web form call), ``labs.dispatch`` sends each run to the
broker, N lab worker processes (``bench.cluster_fake_worker``: the real ``run_lab_job`` with the
sandboxed training replaced by a least-squares fit, one slot each, like a GPU node with one GPU)
take them and send their claimed, progress and finished events back through the broker to one real
site worker (``config.celery_app``, queue ``default``, one pool process, ``--site-concurrency``),
which applies them (``labs.run_events``) and scores each run against the hidden labels.

For each N (``--nodes``, default 1,2,4,8,16) it submits ``--runs`` runs (default 40 per node, at
most 400), each by a learner of its own so that fair share (``LAB_MAX_ACTIVE_PER_LEARNER``) holds
none back, and measures the rate from the first run sent to the last one scored, and the CPU time
used meanwhile (``/proc``) by: the site worker (its main and pool processes), PostgreSQL (the
postmaster, its background processes and the backends of this benchmark's database), Redis
(``redis-server``), the lab workers, and this process's main thread (the submissions: the web's
share). CPU is given as a share of one core (this machine has few) and in ms per scored run; beside
it, what every other process on the machine used meanwhile, and the most messages seen waiting for
the site worker and for the lab workers (a queue that fills shows who the bottleneck is). Each run
sends two progress batches (``--progress-batches``); a last round (``--heavy-batches``, 20) sends
the same nodes runs with more, which prices one progress batch: a real run that logs sends one
every 0.5 s at most (``workers.progress``) for as long as it trains.

Figures: ``CLUSTER_runs_per_s_N<k>``; the site worker's, database's and broker's CPU per run at the
largest N; how many one-slot GPU nodes one site worker serves at 5 and at 30 minutes per run (its
best measured rate × the run's length, for runs that hardly log); the site worker's time per
progress batch; last, as text, the part of the site tier with the most CPU per run (the first to
need a whole core).

Server mode (default when both answer): PostgreSQL at 127.0.0.1:5432 (user postgres, trust), in a
database of its own, ``bench_cluster_sim``, created and dropped here; Redis at 127.0.0.1:6379,
database 14, flushed before and after. If either does not answer, ``--mode auto`` says so and falls
back to the embedded mode (SQLite and the embedded broker in a temporary folder: the database's CPU
is then inside the site worker and this process, and its column reads 0); ``--mode server`` exits.
The environment's ``DATABASE_URL`` and ``CELERY_BROKER_URL`` are ignored. Every process started
here is stopped on the way out, Ctrl-C included.

    .venv/bin/python -m bench.cluster_sim [--nodes 1,2,4] [--runs 40] [--mode auto|server|embedded]
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SLUG = "linear-regression"
SOLUTION = REPO / "labs" / "demo" / SLUG / "solution.py"
NODES = (1, 2, 4, 8, 16)
RUNS_PER_NODE, MAX_RUNS = 40, 400
RUN_MINUTES = (5, 30)  # real GPU run lengths the extrapolation is given for
PROGRESS_EVERY_S = (0.5, 10)  # a logging run's progress batches: the most a worker sends (0.5 s), and sparser
HEAVY_RUNS = 40  # runs of the last round, the same nodes with more progress batches per run
PG_HOST, PG_PORT, PG_USER, PG_DATABASE = "127.0.0.1", 5432, "postgres", "bench_cluster_sim"
REDIS_HOST, REDIS_PORT, REDIS_DB = "127.0.0.1", 6379, 14
PARTS = ("site_worker", "database", "broker")  # the site tier: the candidates for saturating first
GROUPS = (*PARTS, "lab_workers", "submit")
SAMPLE_S = 0.5  # how often processes' CPU times are read (a process that exits keeps its last reading)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Round:
    nodes: int
    runs: int
    batches: int  # progress batches per run
    seconds: float  # first run sent -> last run scored
    wall: float  # the CPU window
    cpu: dict[str, float]  # group (and "machine": every process) -> CPU seconds in the window
    backlog: dict[str, int]  # queue -> the most messages seen waiting in it

    @property
    def rate(self) -> float:
        return self.runs / self.seconds

    def share(self, group: str) -> float:
        return self.cpu[group] / self.wall

    def ms_per_run(self, group: str) -> float:
        return self.cpu[group] / self.runs * 1000

    @property
    def others_share(self) -> float:
        """What the rest of the machine used meanwhile (other people's work, this sampler), of one core."""
        return max(0.0, self.cpu["machine"] - sum(self.cpu[group] for group in GROUPS)) / self.wall


# --- CPU time from /proc ----------------------------------------------------------------------


def _stat(path: str) -> tuple[int, float] | None:
    """(start time, CPU seconds) of a process or thread from its ``stat`` file; None once it is gone."""
    try:
        with open(path) as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[19]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_busy() -> float:
    """CPU seconds every core of this machine has spent busy since it started (``/proc/stat``)."""
    with open("/proc/stat") as handle:
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, handle.readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as handle:
            return handle.read().strip()
    except OSError:
        return ""


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        with contextlib.suppress(OSError):
            todo.extend(int(child) for child in Path(f"/proc/{current}/task/{current}/children").read_text().split())
    return pids


def is_postgres_of(title: str, database: str) -> bool:
    """A PostgreSQL process that works for ``database``: the postmaster, a background process, or a
    backend (``postgres: 15/main: user db host(port) state``) or autovacuum worker of that database."""
    if not title.startswith("postgres:"):
        return True  # the postmaster: /usr/lib/postgresql/15/bin/postgres -D ...
    words = title.split()
    is_backend = len(words) >= 5 and (words[4] == "[local]" or words[4].endswith(")"))
    return not is_backend or words[3] == database


def postgres_pids(database: str) -> list[int]:
    pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    return [pid for pid in pids if _comm(pid) == "postgres" and is_postgres_of(_cmdline(pid), database)]


def redis_server_pids(port: int) -> list[int]:
    pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    return [pid for pid in pids if _comm(pid) == "redis-server" and re.search(rf":{port}\b", _cmdline(pid))]


class CpuSampler:
    """Sums the CPU time of groups of processes, read every ``SAMPLE_S`` in a thread of its own, and
    keeps the longest the broker's queues were meanwhile."""

    def __init__(self, groups: dict[str, Callable[[], list[str]]], queues: Callable[[], dict[str, int]]) -> None:
        self.groups = groups  # group -> the stat files of its processes (or threads) now
        self.queues = queues
        self.last: dict[str, dict[tuple[str, int], float]] = {group: {} for group in groups}
        self.backlog: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="cpu-sampler", daemon=True)

    def __enter__(self) -> CpuSampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            self.sample()

    def sample(self) -> None:
        readings = {group: [(path, _stat(path)) for path in stat_files()] for group, stat_files in self.groups.items()}
        depths = self.queues()
        with self._lock:
            for queue, depth in depths.items():
                self.backlog[queue] = max(self.backlog.get(queue, 0), depth)
            for group, found in readings.items():
                for path, reading in found:
                    if reading is not None:
                        self.last[group][(path, reading[0])] = reading[1]

    def totals(self) -> tuple[dict[str, float], dict[str, int]]:
        """The CPU seconds of each group so far, and the queues' longest since the last call."""
        self.sample()
        with self._lock:
            backlog, self.backlog = self.backlog, {}
            totals = {group: sum(seen.values()) for group, seen in self.last.items()}
            return {**totals, "machine": machine_busy()}, backlog


# --- Processes --------------------------------------------------------------------------------


def _stop_with_parent() -> None:
    """In the child before exec: SIGTERM when this benchmark exits, however it exits (Linux)."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Processes:
    """The worker processes started here, each in a process group of its own; all stopped at the end."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[subprocess.Popen] = []

    def worker(self, *, app: str, queues: str, name: str, concurrency: int, env: dict[str, str]) -> subprocess.Popen:
        log = self.log_dir / f"{name}.log"
        command = [sys.executable, "-m", "celery", "-A", app, "worker", "-Q", queues, "-c", str(concurrency)]
        with open(log, "w") as out:
            process = subprocess.Popen(
                [*command, "-n", f"{name}@{socket.gethostname()}", "--loglevel", "INFO"],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches this process only; it stops them in order
                preexec_fn=_stop_with_parent,
            )
        process.log = log  # type: ignore[attr-defined]
        self.started.append(process)
        return process

    def wait_answering(self, processes: list[subprocess.Popen], names: list[str], timeout: float = 120) -> None:
        """Return once every named worker answers a ping."""
        from config.celery_app import app

        waiting = {f"{name}@{socket.gethostname()}" for name in names}
        deadline = time.monotonic() + timeout
        while waiting:
            for process in processes:
                if process.poll() is not None:
                    raise RuntimeError(f"a worker exited with {process.returncode}:\n{process.log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"workers did not answer within {timeout:.0f} s: {sorted(waiting)}")
            for reply in app.control.ping(destination=sorted(waiting), timeout=1.0):
                waiting -= set(reply)

    def stop_all(self) -> None:
        for process in self.started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process in self.started:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # the group: a pool process left behind too
            process.wait()


# --- The site tier: server or embedded --------------------------------------------------------


def server_problem() -> str | None:
    """Why the server mode cannot run here (PostgreSQL or Redis not answering), or None."""
    import psycopg2
    import redis

    try:
        psycopg2.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", connect_timeout=3).close()
    except psycopg2.Error as exc:
        return f"PostgreSQL at {PG_HOST}:{PG_PORT} does not answer ({str(exc).strip()})"
    try:
        redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB, socket_timeout=3).ping()
    except redis.RedisError as exc:
        return f"Redis at {REDIS_HOST}:{REDIS_PORT} does not answer ({exc})"
    return None


def _pg_admin(statement: str) -> None:
    import psycopg2

    connection = psycopg2.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", connect_timeout=10)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


@contextlib.contextmanager
def server_tier() -> Iterator[dict[str, Callable[[], list[str]]]]:
    """A fresh PostgreSQL database and Redis database for this benchmark; the stat files of both."""
    import redis

    broker = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB)
    broker.flushdb()
    _pg_admin(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
    _pg_admin(f'CREATE DATABASE "{PG_DATABASE}"')
    url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}"
    os.environ.update(
        DATABASE_URL=f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{PG_DATABASE}",
        CELERY_BROKER_URL=url,
        CELERY_RESULT_BACKEND=url,
    )
    try:
        yield {
            "database": lambda: [f"/proc/{pid}/stat" for pid in postgres_pids(PG_DATABASE)],
            "broker": lambda: [f"/proc/{pid}/stat" for pid in redis_server_pids(REDIS_PORT)],
        }
    finally:
        from django.db import connections

        connections.close_all()
        _pg_admin(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
        broker.flushdb()


@contextlib.contextmanager
def embedded_tier() -> Iterator[dict[str, Callable[[], list[str]]]]:
    """SQLite in VAR_DIR and the embedded broker (a redis-server of our own) in a short temporary folder."""
    from config import embedded_broker

    with tempfile.TemporaryDirectory(prefix="broker-") as broker_dir:  # a unix socket path must stay short
        url = embedded_broker.url_for(Path(broker_dir))
        os.environ.pop("DATABASE_URL", None)
        os.environ.update(CELERY_BROKER_URL=url, CELERY_RESULT_BACKEND=url)
        broker = embedded_broker.start(url)
        try:
            yield {"database": list, "broker": lambda: [f"/proc/{broker.pid}/stat"]}
        finally:
            broker.terminate()
            broker.wait(timeout=30)


# --- One round --------------------------------------------------------------------------------


def learners_create(count: int) -> list[Any]:
    from core.services import user_create

    return [user_create(username=f"cluster-{n}", password=None, role="learner") for n in range(count)]


def round_measure(*, nodes: int, batches: int, lab: Any, learners: list[Any], sampler: CpuSampler) -> Round:
    """Submit one run per learner and wait until all are final; every one must be scored. The fake job
    sends a progress batch per ten epochs (``bench.cluster_fake_worker``)."""
    from django.db.models import Max, Min

    from labs import services
    from labs.models import FINAL_STATES, Run, RunState

    code, params = SOLUTION.read_text(), {"epochs": batches * 10}
    timeout = 60 + len(learners) * (1 + batches / 10)
    (before, _), started = sampler.totals(), time.monotonic()
    ids = [services.submission_create(learner=u, lab=lab, source="api", code=code, params=params).pk for u in learners]
    deadline = started + timeout
    while Run.objects.filter(pk__in=ids).exclude(state__in=FINAL_STATES).exists():
        if time.monotonic() > deadline:
            states = Counter(Run.objects.filter(pk__in=ids).values_list("state", flat=True))
            raise SystemExit(f"N={nodes}: runs not final after {timeout:.0f} s: {dict(states)}")
        time.sleep(0.25)
    (after, backlog), wall = sampler.totals(), time.monotonic() - started
    runs = Run.objects.filter(pk__in=ids)
    scored = runs.filter(state=RunState.SUCCEEDED, score__isnull=False).count()
    print(f"  N={nodes}, {batches} progress batches per run: scored {scored} of {len(ids)} runs", flush=True)
    if scored != len(ids):
        bad = runs.exclude(state=RunState.SUCCEEDED, score__isnull=False).first()
        raise SystemExit(f"run {bad.pk} {bad.state}: {bad.reason}\n{bad.log[-2000:]}")
    window = runs.aggregate(first=Min("sent_at"), last=Max("updated_at"))
    seconds = (window["last"] - window["first"]).total_seconds()
    cpu = {group: after[group] - before[group] for group in (*GROUPS, "machine")}
    return Round(nodes, len(ids), batches, seconds, wall, cpu, backlog)


# --- The benchmark ----------------------------------------------------------------------------


def main(
    *, nodes: list[int], runs: int | None, mode: str, site_concurrency: int, batches: int, heavy_batches: int
) -> list[str]:
    if mode != "embedded":
        problem = server_problem()
        if problem and mode == "server":
            raise SystemExit(f"cluster_sim: {problem}; --mode auto falls back to the embedded mode")
        if problem:
            print(f"cluster_sim: {problem}: falling back to the embedded mode (SQLite, embedded broker)")
        mode = "embedded" if problem else "server"
    counts = {n: runs or min(RUNS_PER_NODE * n, MAX_RUNS) for n in nodes}
    print(
        f"cluster_sim ({mode} mode): N = {', '.join(map(str, nodes))} one-slot lab workers, fake instant jobs "
        f"({batches} progress batches each), one site worker (-c {site_concurrency}), {os.cpu_count()} cores",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        var = Path(tmp)
        os.environ.update(
            DJANGO_SETTINGS_MODULE="config.settings.base",
            VAR_DIR=tmp,
            DATASET_STORAGE_DIR=str(var / "datasets"),
            MEDIA_ROOT=str(var / "media"),
            LAB_MAX_ACTIVE_PER_LEARNER="1",
        )
        tier = server_tier() if mode == "server" else embedded_tier()
        processes = Processes(var)
        with tier as stat_files:
            try:
                rounds = _measure(var, processes, stat_files, counts, site_concurrency, batches, heavy_batches)
            finally:
                processes.stop_all()
    return report(rounds)


def _measure(
    var: Path,
    processes: Processes,
    stat_files: dict[str, Callable[[], list[str]]],
    counts: dict[int, int],
    site_concurrency: int,
    batches: int,
    heavy_batches: int,
) -> list[Round]:
    import django

    django.setup()
    from django.core.management import call_command

    from core.broker import redis_client
    from labs.demo_seed import demo_lab_seed

    call_command("migrate", verbosity=0)
    lab = demo_lab_seed(SLUG)
    lab.submissions_per_day = 1_000_000
    lab.save(update_fields=["submissions_per_day"])
    learners = learners_create(max(counts.values()))
    site = processes.worker(
        app="config.celery_app", queues="default", name="bench-site", concurrency=site_concurrency, env={**os.environ}
    )
    processes.wait_answering([site], ["bench-site"])
    # A GPU node has the broker and the datasets, never the database or Django's settings.
    node_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    node_env.update(LAB_CACHE_DIR=str(var / "cache"), LAB_JOBS_DIR=str(var / "jobs"))
    lab_workers: list[subprocess.Popen] = []
    groups = {
        "site_worker": lambda: [f"/proc/{pid}/stat" for pid in process_tree(site.pid)],
        **stat_files,
        "lab_workers": lambda: [f"/proc/{pid}/stat" for w in lab_workers for pid in process_tree(w.pid)],
        "submit": lambda: [f"/proc/{os.getpid()}/task/{threading.main_thread().native_id}/stat"],
    }
    broker = redis_client()

    def queues() -> dict[str, int]:
        with contextlib.suppress(Exception):  # a reading missed is no reason to stop
            return {"site": broker.llen("default"), "lab": broker.llen("cpu")}
        return {}

    rounds = []
    with CpuSampler(groups, queues) as sampler:
        for nodes, runs in counts.items():
            new = [f"bench-node{k}" for k in range(len(lab_workers) + 1, nodes + 1)]
            started = [
                processes.worker(app="bench.cluster_fake_worker", queues="cpu,gpu", name=n, concurrency=1, env=node_env)
                for n in new
            ]
            lab_workers.extend(started)
            processes.wait_answering(started, new)
            time.sleep(2)  # their start-up settles outside the window
            light = learners[:runs]
            rounds.append(round_measure(nodes=nodes, batches=batches, lab=lab, learners=light, sampler=sampler))
        if heavy_batches:  # the same nodes again, runs that log more: what one progress batch costs
            heavy = learners[: min(runs, HEAVY_RUNS)]
            rounds.append(round_measure(nodes=nodes, batches=heavy_batches, lab=lab, learners=heavy, sampler=sampler))
    return rounds


def report(rounds: list[Round]) -> list[str]:
    light = [r for r in rounds if r.batches == rounds[0].batches]
    top, best = light[-1], max(light, key=lambda r: r.rate)
    _table(rounds)
    print(f"\n  at N={top.nodes}, the rate at which each part of the site tier would need one whole core:")
    for part in PARTS:
        ms = top.ms_per_run(part)
        at = f"{1000 / ms:.0f} runs/s" if ms > 0 else "never (its CPU is inside the others: SQLite)"
        print(f"    {part:<12} {ms:7.1f} ms per run, {top.share(part):4.2f} of a core now -> {at}")
    first = max(PARTS, key=top.ms_per_run)
    site_ms = top.ms_per_run("site_worker")
    waits_for = "the site worker" if top.backlog.get("site") else "the nodes"
    print(
        f"  the site worker's queue held up to {top.backlog.get('site', 0)} events, the lab queue up to "
        f"{top.backlog.get('lab', 0)} runs: work waits for {waits_for}"
    )
    print(
        f"\n  one site worker: best measured {best.rate:.1f} runs/s (N={best.nodes}, "
        f"{best.share('site_worker'):.2f} of a core); its CPU alone would allow {1000 / site_ms:.1f} runs/s per core"
    )
    lines = [f"CLUSTER_runs_per_s_N{r.nodes} {r.rate:.2f}" for r in light]
    lines += [
        f"CLUSTER_site_worker_cpu_per_run_ms {site_ms:.2f}",
        f"CLUSTER_db_cpu_per_run_ms {top.ms_per_run('database'):.2f}",
        f"CLUSTER_broker_cpu_per_run_ms {top.ms_per_run('broker'):.2f}",
    ]
    for minutes in RUN_MINUTES:
        nodes = best.rate * minutes * 60
        print(f"  at {minutes} min per GPU run: {best.rate:.1f} runs/s x {minutes * 60} s = {nodes:.0f} one-slot nodes")
        lines.append(f"CLUSTER_nodes_per_site_worker_{minutes}min {nodes:.0f}")
    heavy = [r for r in rounds if r.batches != top.batches]
    if heavy:
        lines += _progress_cost(top, heavy[0])
    print(f"  saturates first: {first} (the most CPU per scored run at N={top.nodes})")
    return [*lines, f"CLUSTER_saturates_first {first}"]


def _table(rounds: list[Round]) -> None:
    names = "".join(f"{group:>12}" for group in GROUPS)
    print(f"\n  {'':54}{'CPU, share of one core':^72}{'CPU ms per scored run':^60}")
    head = f"{'nodes':>6}{'batches':>8}{'runs':>6}{'window s':>10}{'runs/s':>8}{'siteQ':>8}{'labQ':>8}"
    print(f"  {head}{names}{'others':>12}{names}")
    for r in rounds:
        shares = "".join(f"{r.share(group):>12.2f}" for group in GROUPS) + f"{r.others_share:>12.2f}"
        per_run = "".join(f"{r.ms_per_run(group):>12.1f}" for group in GROUPS)
        queued = f"{r.backlog.get('site', 0):>8}{r.backlog.get('lab', 0):>8}"
        print(f"  {r.nodes:>6}{r.batches:>8}{r.runs:>6}{r.seconds:>10.2f}{r.rate:>8.1f}{queued}{shares}{per_run}")
    print("  (siteQ, labQ: the most messages seen waiting for the site worker, for the lab workers;")
    print("   others: every other process on this machine meanwhile, of one core)")


def _progress_cost(light: Round, heavy: Round) -> list[str]:
    """What one progress batch costs the site worker, from two rounds that differ only in batches per
    run, and what that makes of real runs that log all along. Assumes the site worker is the
    bottleneck in both (its queue not empty): then 1 / rate is its time per run."""
    extra = heavy.batches - light.batches
    batch_s = (1 / heavy.rate - 1 / light.rate) / extra
    batch_cpu_ms = (heavy.ms_per_run("site_worker") - light.ms_per_run("site_worker")) / extra
    base_s = 1 / light.rate - light.batches * batch_s
    print(
        f"\n  one progress batch costs the site worker {batch_s * 1000:.1f} ms ({batch_cpu_ms:.1f} ms CPU); "
        f"a run's other events {base_s * 1000:.1f} ms (N={light.nodes}: {light.batches} vs {heavy.batches} batches)"
    )
    if batch_s <= 0:
        print("  (no measurable difference: the site worker was not the bottleneck)")
        return []
    for minutes in RUN_MINUTES:
        for every in PROGRESS_EVERY_S:
            per_run = base_s + minutes * 60 / every * batch_s
            print(
                f"  at {minutes} min per run, a progress batch every {every:g} s: "
                f"{minutes * 60 / per_run:.0f} one-slot nodes per site worker"
            )
    return [f"CLUSTER_site_worker_ms_per_progress_batch {batch_s * 1000:.2f}"]


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through the finally blocks that stop the workers


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", default=",".join(map(str, NODES)), help="lab worker counts, e.g. 1,2,4")
    parser.add_argument("--runs", type=int, help=f"runs per N (default {RUNS_PER_NODE} per node, at most {MAX_RUNS})")
    parser.add_argument("--mode", choices=("auto", "server", "embedded"), default="auto")
    parser.add_argument("--site-concurrency", type=int, default=1, help="the site worker's pool processes")
    parser.add_argument("--progress-batches", type=int, default=2, help="progress batches per run (1 to 50)")
    parser.add_argument("--heavy-batches", type=int, default=20, help="the last round's batches per run (0: none)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    for line in main(
        nodes=sorted({int(n) for n in args.nodes.split(",")}),
        runs=args.runs,
        mode=args.mode,
        site_concurrency=args.site_concurrency,
        batches=args.progress_batches,
        heavy_batches=args.heavy_batches,
    ):
        print(line)
