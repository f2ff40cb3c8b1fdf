"""A real browser: PyPI Playwright driving Debian's chromium (Playwright's own browser
download cannot work on these machines). Screenshots land in test-results/.

The events server (config/live_server.py) runs for the journeys that ask for ``live_events``: their
pages follow their streams; the other journeys' pages poll, as they do when the stream is down.
With E2E_LIVE_EVENTS=1 every journey runs with it."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings as django_settings

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run
# "inside" one unless told it is safe (it is: the loop only drives the browser).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, Page, sync_playwright

from config.live_server import serve_command

# Fixtures the journeys share with the app tests (a lab with data; a cohort with mentors; a rubric).
from tests.challenges.conftest import challenge, phase  # noqa: F401
from tests.labs.conftest import lab  # noqa: F401
from tests.mentorship.conftest import cohort, other_mentor, rubric  # noqa: F401

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
RESULTS = Path(__file__).resolve().parents[2] / "test-results"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test` (it installs Debian's chromium) or set CHROMIUM_PATH")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, live_server: object, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url, locale="en-US", viewport={"width": 1200, "height": 800})
    context.set_default_timeout(15_000)
    page = context.new_page()
    # The Content-Security-Policy (core.middleware) blocks inline script and style: a page that still
    # has some breaks silently, so every journey fails on any violation the browser reports.
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    yield page
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert violations == [], f"Content-Security-Policy violations: {violations}"


@dataclass
class EventsServer:
    """The events server in a process of its own, on the test broker, at ``port`` of 127.0.0.1."""

    process: subprocess.Popen
    port: int

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/events/healthz", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture
def live_events(settings: object, tmp_path: Path) -> Iterator[EventsServer]:
    """The events server, and the pages (``settings.LIVE_EVENTS_PORT``) opening their stream on its port."""
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
        "CELERY_RESULT_BACKEND": django_settings.CELERY_BROKER_URL,
    }
    log = tmp_path / "events-server.log"
    with log.open("w") as out:
        command = [*serve_command(host="127.0.0.1", port=port), "--no-access-log"]
        server = EventsServer(subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT), port)
    try:
        deadline = time.monotonic() + 30
        while not _answers(port):
            assert server.process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        settings.LIVE_EVENTS_PORT = port
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _events_for_every_journey(request: pytest.FixtureRequest) -> None:
    if os.environ.get("E2E_LIVE_EVENTS") == "1":
        request.getfixturevalue("live_events")


def stream_open(page: Page) -> None:
    """Wait until the page's stream is ready (static/js/live.js)."""
    page.wait_for_function("() => window.academyLive && window.academyLive.state() === 'open'")


def login(page: Page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("[data-testid=login-submit]")
    page.wait_for_selector("[data-testid=home-title]")


@pytest.fixture
def open_phase(phase: object) -> object:  # noqa: F811 - the challenges' fixture
    """The challenges' tests' phase, open now, of a published challenge (``/challenges/tiny-cup/``)."""
    phase.challenge.published = True
    phase.challenge.save(update_fields=["published"])
    return phase
