"""``make run``: the whole platform in one command on the embedded default.

Starts the embedded broker (unless CELERY_BROKER_URL points elsewhere), the web
server, the site worker (queue ``default``, with the beat scheduler) and the lab
worker (queues ``cpu`` and ``gpu``). Ctrl-C stops every process it started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from config import embedded_broker
from core.demo_seed import DEMO_USERS
from labs.demo_seed import demo_runs_seed


class Command(BaseCommand):
    help = "Run web + site worker + lab worker (and the embedded broker) until Ctrl-C."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-seed", action="store_true", help="skip loading the demo data")

    def handle(self, *args: Any, host: str, port: int, no_seed: bool, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        if not no_seed:
            call_command("seed_demo")
        self.children: list[tuple[str, subprocess.Popen]] = []
        # Explicitly: a shell that starts us in the background (`make run &`) leaves SIGINT ignored.
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        try:
            self._start_all(host, port)
            self._wait_until_up(f"http://{host}:{port}/healthz")
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

    def _start_all(self, host: str, port: int) -> None:
        if embedded_broker.is_embedded(settings.CELERY_BROKER_URL, settings.EMBEDDED_BROKER_DIR):
            broker = embedded_broker.ensure_running(settings.CELERY_BROKER_URL)
            if broker is not None:
                self.children.append(("broker", broker))
        python = sys.executable
        site_worker = [python, "-m", "celery", "-A", "config.celery_app", "worker", "--loglevel", "INFO"]
        # The lab worker runs workers' own Celery app, without Django: it is told only the broker.
        lab_worker = [python, "-m", "celery", "-A", "workers.celery_app", "worker", "--loglevel", "INFO"]
        schedule = settings.VAR_DIR / "celerybeat-schedule"
        self._spawn("web", [python, "manage.py", "runserver", f"{host}:{port}", "--noreload"])
        self._spawn(
            "site-worker", [*site_worker, "-Q", "default", "-n", "site@%h", "-c", "2", "-B", "-s", str(schedule)]
        )
        broker = {
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND,
        }
        self._spawn("lab-worker", [*lab_worker, "-Q", "cpu,gpu", "-n", "lab@%h"], env=broker)

    def _spawn(self, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
        environment = {**os.environ, **(env or {})}
        self.children.append((name, subprocess.Popen(command, cwd=settings.BASE_DIR, env=environment)))

    def _wait_until_up(self, url: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_children()
            try:
                with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own http:// URL
                    return
            except OSError:
                time.sleep(0.3)
        raise SystemExit(f"the web server did not answer {url} within {timeout:.0f}s")

    def _check_children(self) -> None:
        for name, process in self.children:
            if process.poll() is not None:
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
        for name, process in reversed(self.children):
            if process.poll() is None:
                process.send_signal(signal.SIGQUIT if name == "lab-worker" else signal.SIGTERM)
        deadline = time.monotonic() + 15
        for name, process in reversed(self.children):
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
