"""P6 and P7: what push costs the site, and how soon a page hears of a change.

The site runs as in production, on the embedded default (SQLite, the bundled Redis) in a temporary
VAR_DIR: gunicorn (``config.wsgi``, WEB_WORKERS sync workers), the events server
(``config.live_server`` under uvicorn) and the site worker with beat (``celery -A config.celery_app
worker -B``). No lab worker: the runs watched do not change, and P7's progress events are sent by
this process exactly as a lab worker sends them (the Celery message ``labs.tasks.run_event``).

P6 = CPU seconds (user + system, psutil) of the site's processes (gunicorn's master and workers, the
     events server, the site worker's processes and beat) over WINDOW seconds with WATCHERS pages
     watching (WATCHERS Server-Sent Event streams, each on a run of its own and the learner's badge;
     an asyncio client in this process, not counted), ÷ the same over WINDOW seconds with nobody
     watching. Goal ≤ 1.2: watchers of things that do not change cost next to nothing.
     Detail ``P6_poll``: the same WATCHERS pages polling ``progress.json`` every second instead (as
     they did before push), for POLL_SECONDS, ÷ nobody watching (both as CPU per second); with the
     requests they managed per second (2 cores: the polling clients compete with the site).
P7 = median ms from a run's progress event sent (the worker's Celery message) to the change showing
     on the run page in a real browser (Chromium through Playwright) watching it, over EVENTS events:
     the site worker stores it and publishes at commit, the events server relays, the page's
     static/js/live.js hears it and run.js fetches progress.json and renders the log. Goal < 250 ms.
     Detail ``P7_sse``: the same events to a bare SSE client (the hint only, no fetch). Without the
     browser side (no ``window.academyLive`` on the page) P7 is the SSE figure, and it says so.

    .venv/bin/python -m bench.live          (BENCH_LIVE_WATCHERS, BENCH_LIVE_WINDOW to change the sizes)
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parent.parent
WATCHERS = int(os.environ.get("BENCH_LIVE_WATCHERS", "500"))
# One period of beat's most frequent task (the sweeper, every 60 s): each window holds one, so the
# site's own periodic work weighs the same in both, and the ratio shows what the watchers add.
WINDOW = float(os.environ.get("BENCH_LIVE_WINDOW", "60"))
POLL_SECONDS = 5.0
EVENTS = 20
WEB_WORKERS = 3  # compose's and Kubernetes' WEB_CONCURRENCY
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"no answer from {url}")


@contextmanager
def site_running(tmp: Path, env: dict[str, str], port: int, events_port: int) -> Iterator[dict[str, subprocess.Popen]]:
    """gunicorn, the events server and the site worker with beat, until the block ends."""
    from config.celery_app import app
    from config.live_server import serve_command

    python = sys.executable
    name = f"bench-site-{uuid.uuid4().hex[:6]}@{socket.gethostname()}"
    celery = [python, "-m", "celery", "-A", "config.celery_app", "worker", "--loglevel", "WARNING"]
    commands = {
        "web": [python, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(WEB_WORKERS)],
        "events": serve_command(host="127.0.0.1", port=events_port),
        "site-worker": [*celery, "-Q", "default", "-n", name, "-c", "2", "-B", "-s", str(tmp / "celerybeat-schedule")],
    }
    processes = {}
    try:
        for label, command in commands.items():
            log = (tmp / f"{label}.log").open("w")
            processes[label] = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        wait_http(f"http://127.0.0.1:{port}/livez")
        wait_http(f"http://127.0.0.1:{events_port}/events/healthz")
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[name], timeout=0.5):
            if time.monotonic() > deadline:
                raise SystemExit(f"the site worker did not answer; see {tmp}/site-worker.log")
        yield processes
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def cpu_seconds(processes: dict[str, subprocess.Popen]) -> dict[tuple[str, int], float]:
    """user + system CPU seconds of each process of the site (the ones started and their children)."""
    seconds = {}
    for label, process in processes.items():
        parent = psutil.Process(process.pid)
        for each in [parent, *parent.children(recursive=True)]:
            try:
                times = each.cpu_times()
            except psutil.NoSuchProcess:
                continue
            seconds[label, each.pid] = times.user + times.system
    return seconds


async def cpu_over(processes: dict[str, subprocess.Popen], seconds: float) -> dict[str, float]:
    """CPU seconds each part of the site uses over the next ``seconds`` (this event loop keeps running)."""
    before = cpu_seconds(processes)
    await asyncio.sleep(seconds)
    used = dict.fromkeys(processes, 0.0)
    for (label, pid), value in cpu_seconds(processes).items():
        used[label] += value - before.get((label, pid), 0.0)
    return used


def shown(used: dict[str, float]) -> str:
    parts = ", ".join(f"{label} {value:.2f}" for label, value in used.items())
    return f"{sum(used.values()):.2f} CPU s ({parts})"


async def watch(port: int, token: str, ready: list[int]) -> None:
    """One page's stream: opened, ready, then read (heartbeats) until cancelled."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /events/?token={token} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    received = b""
    while b"event: ready" not in received:
        chunk = await reader.read(4096)
        if not chunk:
            raise SystemExit(f"a stream ended before it was ready: {received[:300]!r}")
        received += chunk
    ready.append(1)
    try:
        while await reader.read(4096):
            pass
    finally:
        writer.close()


async def poll(port: int, path: str, cookie: str, until: float, done: list[int]) -> None:
    """One page polling ``path`` every second (a new connection each time, as gunicorn's sync workers close them)."""
    await asyncio.sleep(random.random())
    while time.monotonic() < until:
        started = time.monotonic()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
        writer.write(request.encode())
        response = await reader.read()
        writer.close()
        if not response.startswith(b"HTTP/1.1 200"):
            raise SystemExit(f"{path}: {response[:200]!r}")
        done.append(1)
        await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - started)))


async def p6(processes: dict[str, subprocess.Popen], events_port: int, web_port: int, **page: Any) -> list[str]:
    from core.live import live_token, run_topic, user_topic

    used = await cpu_over(processes, WINDOW)
    idle = sum(used.values())
    print(f"  nobody watching: {shown(used)} in {WINDOW:.0f} s", flush=True)
    ready: list[int] = []
    badge = user_topic(page["user_id"])
    tokens = [live_token(topics=[run_topic(10_000_000 + index), badge]) for index in range(WATCHERS)]
    streams = [asyncio.create_task(watch(events_port, token, ready)) for token in tokens]
    deadline = time.monotonic() + 60
    while len(ready) < WATCHERS:
        if time.monotonic() > deadline or any(task.done() for task in streams):
            raise SystemExit(f"only {len(ready)} of {WATCHERS} streams ready")
        await asyncio.sleep(0.1)
    await asyncio.sleep(2)  # their opening is not what is measured
    used = await cpu_over(processes, WINDOW)
    watched = sum(used.values())
    print(f"  {WATCHERS} streams open:  {shown(used)} in {WINDOW:.0f} s", flush=True)
    for task in streams:
        task.cancel()
    await asyncio.gather(*streams, return_exceptions=True)
    await asyncio.sleep(2)
    done: list[int] = []
    until = time.monotonic() + POLL_SECONDS
    pollers = [asyncio.create_task(poll(web_port, page["progress"], page["cookie"], until, done)) for _ in tokens]
    used = await cpu_over(processes, POLL_SECONDS)
    polled = sum(used.values())
    await asyncio.gather(*pollers)
    rate = len(done) / POLL_SECONDS
    print(
        f"  {WATCHERS} pages polling progress.json every second instead: {shown(used)} in {POLL_SECONDS:.0f} s"
        f" ({rate:.0f} requests/s answered of {WATCHERS} asked)",
        flush=True,
    )
    idle_rate = max(idle / WINDOW, 1e-6)
    return [
        f"P6_idle_cpu_per_s {idle / WINDOW:.4f}",
        f"P6_poll {polled / POLL_SECONDS / idle_rate:.1f}",
        f"P6_poll_answered_per_s {rate:.0f}",
        f"P6 {watched / max(idle, 1e-6):.3f}",
    ]


class SseClock(threading.Thread):
    """A bare SSE client of one topic: when each message arrived (time.time())."""

    def __init__(self, port: int, token: str) -> None:
        super().__init__(daemon=True)
        self.connection = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.connection.sendall(f"GET /events/?token={token} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        self.ready = threading.Event()
        self.arrivals: list[float] = []

    def run(self) -> None:
        pending = b""
        while chunk := self.connection.recv(65536):
            now = time.time()
            pending += chunk
            while b"\n\n" in pending:
                block, pending = pending.split(b"\n\n", 1)
                if b"event: ready" in block:
                    self.ready.set()
                elif b"data: " in block and self.ready.is_set():
                    self.arrivals.append(now)


def p7(web_port: int, events_port: int, page: dict[str, Any]) -> list[str]:
    from playwright.sync_api import sync_playwright

    from config.celery_app import app
    from core.live import live_token, run_topic
    from workers.events import EVENT_QUEUE, EVENT_TASK, ProgressBatch

    clock = SseClock(events_port, live_token(topics=[run_topic(page["run_id"])]))
    clock.start()
    clock.ready.wait(10)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=f"http://127.0.0.1:{web_port}")
        name, value = page["cookie"].split("=", 1)
        context.add_cookies([{"name": name, "value": value, "url": f"http://127.0.0.1:{web_port}"}])
        tab = context.new_page()
        tab.goto(page["path"])
        in_browser = tab.evaluate("() => !!window.academyLive")
        if in_browser:
            tab.wait_for_function("() => window.academyLive.state() === 'open'", timeout=15_000)
            tab.evaluate(SEEN_SCRIPT)
        sent, seen = [], []
        for index in range(1, EVENTS + 1):
            batch = ProgressBatch(seq=index, events=[{"kind": "output", "text": f"p7-{index}\n"}])
            sent.append(time.time())
            app.send_task(EVENT_TASK, args=[page["run_id"], page["token"], batch.to_dict()], queue=EVENT_QUEUE)
            if in_browser:
                tab.wait_for_function(f"() => 'p7-{index}' in window.__seen", timeout=10_000)
                seen.append(tab.evaluate(f"() => window.__seen['p7-{index}']") / 1000)
            time.sleep(0.5)  # one change at a time: each is measured on its own
        browser.close()
    sse = [(arrived - start) * 1000 for start, arrived in zip(sent, clock.arrivals, strict=False)]
    if len(sse) < EVENTS:
        raise SystemExit(f"the SSE client heard {len(sse)} of {EVENTS} events")
    print(f"  to an SSE client: median {statistics.median(sse):.0f} ms, worst {max(sse):.0f} ms", flush=True)
    lines = [f"P7_sse {statistics.median(sse):.0f}"]
    if not in_browser:
        print("  the run page has no window.academyLive (static/js/live.js): P7 is measured to the SSE client")
        return [*lines, f"P7 {statistics.median(sse):.0f}"]
    shown = [(seen_at - start) * 1000 for start, seen_at in zip(sent, seen, strict=True)]
    print(f"  to the run page in Chromium: median {statistics.median(shown):.0f} ms, worst {max(shown):.0f} ms")
    return [*lines, f"P7 {statistics.median(shown):.0f}"]


# When each marker first shows in the run page's log (Date.now(): this machine's clock, as time.time()).
SEEN_SCRIPT = """() => {
  window.__seen = {};
  const log = document.getElementById('run-log');
  new MutationObserver(() => {
    for (const marker of log.textContent.match(/p7-\\d+/g) || []) {
      if (!(marker in window.__seen)) window.__seen[marker] = Date.now();
    }
  }).observe(log, {childList: true, characterData: true, subtree: true});
}"""


def prepare(tmp: Path) -> dict[str, Any]:
    """Migrate, a learner with one running run (claimed, as by a lab worker), signed in."""
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from core.broker import redis_client
    from core.services import user_create
    from labs import services
    from labs.demo_seed import demo_lab_seed
    from labs.models import Run, RunState
    from workers import control

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    lab = demo_lab_seed("linear-regression")
    learner = user_create(username="bench-live", password=os.urandom(12).hex(), role="learner")
    code = "def train(data, run):\n    return None\n\ndef predict(model, x):\n    return [0.0] * len(x)\n"
    run = services.submission_create(learner=learner, lab=lab, source="api", code=code)
    Run.objects.filter(pk=run.pk).update(state=RunState.RUNNING, started_at=timezone.now())
    run.refresh_from_db()
    control.claim(redis_client(), run_id=run.pk, token=run.token, worker="bench")  # as a lab worker does
    client = Client()
    client.force_login(learner)
    return {
        "user_id": learner.pk,
        "run_id": run.pk,
        "token": run.token,
        "path": f"/labs/runs/{run.pk}/",
        "progress": f"/labs/runs/{run.pk}/progress.json",
        "cookie": f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}",
    }


@contextmanager
def keep_running(page: dict[str, Any]) -> Iterator[None]:
    """P7's run stays alive as a lab worker keeps it (its heartbeat), or the sweeper would retry it."""
    from core.broker import redis_client
    from workers import control

    with control.KeepAlive(redis_client(), run_id=page["run_id"], token=page["token"], worker="bench"):
        yield


def main() -> list[str]:
    print(f"live updates: {WATCHERS} watchers, {WINDOW:.0f} s windows, {EVENTS} progress events")
    with tempfile.TemporaryDirectory(prefix="bench-live-") as tmp_name:
        tmp = Path(tmp_name)
        broker_dir = Path(tempfile.mkdtemp(prefix="broker-"))  # a unix socket's path must stay short
        web_port, events_port = free_port(), free_port()
        os.environ.update(
            {
                "DJANGO_SETTINGS_MODULE": "config.settings.base",
                "DJANGO_ALLOW_ASYNC_UNSAFE": "true",  # Playwright's sync API runs a loop in this thread
                "VAR_DIR": tmp_name,
                "DEBUG": "0",
                "STATIC_ROOT": str(tmp / "static"),
                "LIVE_EVENTS_PORT": str(events_port),
            }
        )
        from config import embedded_broker

        url = embedded_broker.url_for(broker_dir)
        os.environ["CELERY_BROKER_URL"] = os.environ["CELERY_RESULT_BACKEND"] = url
        broker = embedded_broker.start(url)
        try:
            page = prepare(tmp)
            with (
                site_running(tmp, {**os.environ}, web_port, events_port) as processes,
                keep_running(page),
            ):
                time.sleep(5)  # start-up done: the figures are of a site at rest
                lines = asyncio.run(p6(processes, events_port, web_port, **page))
                lines = p7(web_port, events_port, page) + lines
        finally:
            broker.terminate()
            broker.wait(timeout=10)
    return lines


if __name__ == "__main__":
    for line in main():
        print(line)
