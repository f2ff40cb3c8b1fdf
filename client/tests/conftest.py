"""A stand-in platform for the client's unit tests: a real HTTP server on the loopback, with routes.

The client talks to it over real sockets (urllib), so encoding, headers and error handling are
exercised as against the platform; the journey against the real platform is tests/client/.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

Reply = tuple[int, dict[str, str], bytes]


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


def json_reply(status: int, payload: Any) -> Reply:
    return status, {"Content-Type": "application/json"}, json.dumps(payload).encode()


@dataclass
class FakePlatform:
    url: str
    routes: dict[tuple[str, str], Callable[[Request], Reply]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)

    def route(self, method: str, path: str, reply: Callable[[Request], Reply] | Reply) -> None:
        self.routes[(method, path)] = reply if callable(reply) else (lambda _request, r=reply: r)

    def json(self, method: str, path: str, status: int, payload: Any) -> None:
        self.route(method, path, json_reply(status, payload))


@pytest.fixture
def platform() -> Iterator[FakePlatform]:
    fake = FakePlatform(url="")

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(self.command, self.path, dict(self.headers.items()), self.rfile.read(length))
            fake.requests.append(request)
            route = fake.routes.get((self.command, self.path.split("?")[0]))
            status, headers, body = route(request) if route else json_reply(404, {"detail": "Not found."})
            self.send_response(status)
            for name, value in {"Content-Length": str(len(body)), **headers}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _serve

        def log_message(self, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config path of the test's own; no ACADEMY_* variable from the caller's shell leaks in."""
    path = tmp_path / "home" / ".config" / "academy" / "config.json"
    monkeypatch.setenv("ACADEMY_CONFIG", str(path))
    monkeypatch.delenv("ACADEMY_URL", raising=False)
    monkeypatch.delenv("ACADEMY_TOKEN", raising=False)
    return path


@pytest.fixture
def signed_in(platform: FakePlatform, config_file: Path) -> FakePlatform:
    """The fake platform with a stored token for it."""
    from academy_client.config import config_save

    config_save({"url": platform.url, "token": "t0k3n"}, config_file)
    return platform
