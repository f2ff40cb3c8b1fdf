"""``make run``: the whole platform in one command on the embedded default.

Starts the embedded broker (unless CELERY_BROKER_URL points elsewhere), the web
server, the events server (``config.live_server``: the pages' live updates, on the next
port, or LIVE_EVENTS_PORT), the site worker (queue ``default``, with the beat scheduler)
and the lab worker (queues ``cpu`` and ``gpu``). Ctrl-C stops every process it started.

The processes write to ``var/log/<name>.log``, so the terminal shows what a newcomer needs: the
warnings their start-up raised, then the box with the URL and logins, last, once both workers
answer (not buried under the workers' banners and task lines).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from config import embedded_broker
from config.live_server import serve_command
from core.demo_seed import DEMO_USERS
from labs.demo_seed import demo_runs_seed

# Start-up lines worth a newcomer's attention: Python warnings and log records at WARNING and up.
# Not: runserver's "development server" notice (the box says it), this command's own /healthz probes
# answered 503 while a worker starts, and what Celery logs as WARNING because a task printed it (mails).
WARNING_LINE = re.compile(r"(warning|error|critical)\b", re.IGNORECASE)
EXPECTED = re.compile(r"This is a development server|production servers|/healthz|WARNING/ForkPoolWorker")
TIMESTAMP = re.compile(r"^\[?\d{4}-\d\d-\d\d[ T][\d:,.]+:? ?")
WORKERS = ("site@", "lab@")


def startup_warnings(logs: dict[str, Iterable[str]], width: int = 100) -> list[str]:
    """One line per distinct warning in the processes' start-up output, named by process."""
    found: list[str] = []
    for name, lines in logs.items():
        for line in lines:
            if line[:1].isspace() or not WARNING_LINE.search(line) or EXPECTED.search(line):
                continue  # indented: the source line Python prints under a warning
            text = TIMESTAMP.sub("", line.strip())
            text = re.sub(r"^\S+:\d+: ", "", text)  # Python's warnings: "path/file.py:893: SecurityWarning: …"
            shown = f"{name}: {text}"
            shown = shown if len(shown) <= width else shown[: width - 1] + "…"
            if shown not in found:
                found.append(shown)
    return found


def workers_answering(body: bytes) -> bool:
    """Whether /healthz's report names both make-run workers (``"site@host"``, ``"lab@host"``)."""
    return all(f'"{w}'.encode() in body for w in WORKERS)


class Command(BaseCommand):
    help = "Run web + site worker + lab worker (and the embedded broker) until Ctrl-C."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--events-port",
            type=int,
            default=int(os.environ.get("LIVE_EVENTS_PORT") or 0),
            help="the events server's port (default: the web port + 1)",
        )
        parser.add_argument("--no-seed", action="store_true", help="skip loading the demo data")

    def handle(self, *args: Any, host: str, port: int, events_port: int, no_seed: bool, **options: Any) -> None:
        self.children: list[tuple[str, subprocess.Popen]] = []
        self.log_dir = Path(settings.VAR_DIR) / "log"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.logs: list[TextIO] = []
        # Explicitly: a shell that starts us in the background (`make run &`) leaves SIGINT ignored.
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        try:
            # The broker first: its Redis holds the cache too, and the seed's changes must reach it
            # (core.cache), or pages kept from the last run would show the data as it was then.
            self._start_broker()
            call_command("migrate", interactive=False, verbosity=0)
            if not no_seed:
                call_command("seed_demo")
            events_port = events_port or port + 1
            self._start_all(host, port, events_port)
            self._wait_until_up(f"http://{host}:{port}/healthz", f"http://{host}:{events_port}/events/healthz")
            self._print_warnings()
            self._print_banner(host, port, seeded=not no_seed)
            if not no_seed:  # now that the broker and the lab worker run, the demo runs can go
                demo_runs_seed()
            self._supervise()
        except KeyboardInterrupt:
            self.stdout.write("\nStopping…")
        finally:
            self._stop_all()

    def _on_signal(self, signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    def _start_broker(self) -> None:
        if embedded_broker.is_embedded(settings.CELERY_BROKER_URL, settings.EMBEDDED_BROKER_DIR):
            broker = embedded_broker.ensure_running(settings.CELERY_BROKER_URL)
            if broker is not None:
                self.children.append(("broker", broker))

    def _start_all(self, host: str, port: int, events_port: int) -> None:
        python = sys.executable
        site_worker = [python, "-m", "celery", "-A", "config.celery_app", "worker", "--loglevel", "INFO"]
        # The lab worker runs workers' own Celery app, without Django: it is told only the broker.
        lab_worker = [python, "-m", "celery", "-A", "workers.celery_app", "worker", "--loglevel", "INFO"]
        schedule = settings.VAR_DIR / "celerybeat-schedule"
        # The pages tell browsers where the events server is (LIVE_EVENTS_PORT); it needs no database.
        live = {"LIVE_EVENTS_PORT": str(events_port)}
        self._spawn("web", [python, "manage.py", "runserver", f"{host}:{port}", "--noreload"], env=live)
        self._spawn("events", serve_command(host=host, port=events_port), env=live)
        self._spawn(
            "site-worker", [*site_worker, "-Q", "default", "-n", "site@%h", "-c", "2", "-B", "-s", str(schedule)]
        )
        broker = {
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND,
        }
        self._spawn("lab-worker", [*lab_worker, "-Q", "cpu,gpu", "-n", "lab@%h"], env=broker)

    def _spawn(self, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
        environment = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
        log = (self.log_dir / f"{name}.log").open("w", encoding="utf-8")
        self.logs.append(log)
        output = {"stdout": log, "stderr": subprocess.STDOUT}
        self.children.append((name, subprocess.Popen(command, cwd=settings.BASE_DIR, env=environment, **output)))

    def _wait_until_up(self, url: str, events_url: str, timeout: float = 120.0) -> None:
        """Until the web server answers and both workers are seen (a 503 while a worker starts), and
        the events server answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_children()
            try:
                with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own http:// URL
                    up = workers_answering(response.read())
                with urllib.request.urlopen(events_url, timeout=5) as response:  # noqa: S310 - ours too
                    if up and response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise SystemExit(
            f"no answer from {url} with both workers, or from {events_url}, within {timeout:.0f}s; see {self.log_dir}/"
        )

    def _log_lines(self, name: str) -> list[str]:
        path = self.log_dir / f"{name}.log"
        return path.read_text(encoding="utf-8", errors="replace").splitlines() if path.exists() else []

    def _print_warnings(self) -> None:
        warnings = startup_warnings({name: self._log_lines(name) for name, _ in self.children})
        if warnings:
            self.stdout.write(f"Start-up warnings (the whole output is in {self.log_dir}/):")
            self.stdout.write("\n".join(f"  - {w}" for w in warnings))

    def _check_children(self) -> None:
        for name, process in self.children:
            if process.poll() is not None:
                tail = "\n".join(self._log_lines(name)[-25:])
                self.stderr.write(f"{name} exited with status {process.returncode}; its last output:\n{tail}")
                raise SystemExit(f"{name} exited with status {process.returncode}; stopping everything")

    def _supervise(self) -> None:
        while True:
            self._check_children()
            time.sleep(0.5)

    def _stop_all(self) -> None:
        # Workers first, the broker last. The lab worker stops cold (SIGQUIT): a training run
        # in progress is stopped and its message goes back to the broker, to run again when the
        # platform next starts, rather than holding Ctrl-C up for minutes; the site worker's
        # tasks are short and finish (SIGTERM, a warm shutdown).
        children = list(reversed(self.children))
        self._stop([child for child in children if child[0] != "broker"])
        self._stop([child for child in children if child[0] == "broker"])  # once the workers sent their last events
        for log in self.logs:
            log.close()

    def _stop(self, children: list[tuple[str, subprocess.Popen]]) -> None:
        for name, process in children:
            if process.poll() is None:
                process.send_signal(signal.SIGQUIT if name == "lab-worker" else signal.SIGTERM)
        deadline = time.monotonic() + 15
        for name, process in children:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{name} did not stop in time; killing it")
                process.kill()
                process.wait()

    def _print_banner(self, host: str, port: int, *, seeded: bool) -> None:
        shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host  # noqa: S104 - display only
        lines = [
            "",
            "=" * 64,
            f"  AI Academy is running:  http://{shown}:{port}/",
            f"  health:                 http://{shown}:{port}/healthz",
            f"  logs:                   {self._shown_path(self.log_dir)}/  (web, events, site-worker, lab-worker;"
            " mails too)",
            "  (Django's development server: for trying the platform, not for production)",
            f"  database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}"
            f"   broker: {settings.CELERY_BROKER_URL.split('://')[0]}",
        ]
        if seeded:
            users = ", ".join(username for username, *_ in DEMO_USERS)
            lines += [
                f"  demo logins: {users}",
                f"  password:    {settings.DEMO_PASSWORD}",
                "  demo runs:   the demo learners' submissions train now, on the lab worker (about a minute)",
            ]
        lines += ["  Press Ctrl-C to stop everything.", "=" * 64, ""]
        self.stdout.write("\n".join(lines))

    @staticmethod
    def _shown_path(path: Path) -> str:
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)
