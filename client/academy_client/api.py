"""The platform's REST API over the standard library's urllib: JSON, multipart uploads, downloads.

Every failure becomes an ``AcademyError`` with a message a learner can act on: connection refused,
an unknown host, a timeout, an answer that is not JSON (a wrong address), 401 (the token), 400 (the
platform's own error messages), 404, 5xx. The token goes in ``Authorization: Token <key>`` and
only to the platform's own origin: never to another host, and not along a redirect (a weights
download may be redirected to an object store's signed link).
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import socket
import ssl
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from academy_client import __version__
from academy_client.errors import (
    TOKEN_REFUSED,
    AcademyError,
    AuthFailed,
    ConnectionFailed,
    NotFound,
    Rejected,
    ServerError,
    UsageError,
)

API_PREFIX = "/api/v1/"
USER_AGENT = f"academy-client/{__version__}"
DEFAULT_TIMEOUT = 30.0
CHUNK = 1 << 16
MAX_PAGES = 1000


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Message
    body: bytes
    url: str


@dataclass(frozen=True)
class FileUpload:
    field: str
    filename: str
    payload: bytes
    content_type: str = "application/octet-stream"


def _form_quote(text: str) -> str:
    # As browsers encode a form's names: the header value must stay one quoted string.
    return text.replace("\r", "%0D").replace("\n", "%0A").replace('"', "%22")


def multipart_encode(fields: dict[str, str], files: list[FileUpload], boundary: str | None = None) -> tuple[bytes, str]:
    """``multipart/form-data`` (RFC 7578): the body and its Content-Type header."""
    payloads = [value.encode("utf-8") for value in fields.values()] + [upload.payload for upload in files]
    while boundary is None or any(boundary.encode() in payload for payload in payloads):
        boundary = f"academy-{uuid.uuid4().hex}"
    marker = f"--{boundary}\r\n".encode()
    body = bytearray()
    for name, value in fields.items():
        body += marker
        body += f'Content-Disposition: form-data; name="{_form_quote(name)}"\r\n\r\n'.encode()
        body += value.encode("utf-8") + b"\r\n"
    for upload in files:
        body += marker
        body += (
            f'Content-Disposition: form-data; name="{_form_quote(upload.field)}";'
            f' filename="{_form_quote(upload.filename)}"\r\n'
            f"Content-Type: {upload.content_type}\r\n\r\n"
        ).encode()
        body += upload.payload + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return bytes(body), f"multipart/form-data; boundary={boundary}"


def error_messages(body: bytes) -> list[str]:
    """The messages of an error answer: ``{"errors": [...]}``, ``{"detail": ...}`` or DRF's fields."""
    try:
        data = json.loads(body)
    except ValueError:
        return []
    if isinstance(data, list):
        return [str(item) for item in data]
    if not isinstance(data, dict):
        return [str(data)]
    if isinstance(data.get("errors"), list):
        return [str(item) for item in data["errors"]]
    if "detail" in data:
        return [str(data["detail"])]
    messages = []
    for field, value in data.items():
        items = value if isinstance(value, list) else [value]
        prefix = "" if field in ("non_field_errors", "__all__") else f"{field}: "
        messages += [f"{prefix}{item}" for item in items]
    return messages


def _unreachable(url: str, reason: object) -> ConnectionFailed:
    host = urlsplit(url).netloc
    if isinstance(reason, ConnectionRefusedError):
        return ConnectionFailed(f"cannot connect to {host}: connection refused (is the platform running there?)")
    if isinstance(reason, socket.gaierror):
        return ConnectionFailed(f"cannot connect to {host}: unknown host (check the URL)")
    if isinstance(reason, TimeoutError):
        return ConnectionFailed(f"{host} did not answer in time")
    if isinstance(reason, ssl.SSLError):
        return ConnectionFailed(f"cannot connect to {host}: TLS failed ({reason})")
    return ConnectionFailed(f"cannot connect to {host}: {reason}")


class Api:
    """The platform at ``url`` (``http(s)://host[:port]``), as ``token``'s owner."""

    def __init__(self, url: str, token: str | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        origin = urlsplit(self.url)
        self._origin = (origin.scheme, origin.netloc)

    def absolute(self, path: str) -> str:
        """``runs/4/`` → the API's URL; ``/labs/x/`` → the site's; a full URL stays as it is."""
        if "://" in path:
            return path
        if path.startswith("/"):
            return urljoin(self.url + "/", path.lstrip("/"))
        return self.url + API_PREFIX + path

    def _request(
        self, method: str, path: str, *, body: bytes | None, headers: dict[str, str]
    ) -> urllib.request.Request:
        url = self.absolute(path)
        request = urllib.request.Request(url, data=body, method=method)  # noqa: S310 - http(s) only (url_normalise)
        request.add_header("User-Agent", USER_AGENT)
        for name, value in headers.items():
            request.add_header(name, value)
        target = urlsplit(url)
        if self.token and (target.scheme, target.netloc) == self._origin:
            request.add_unredirected_header("Authorization", f"Token {self.token}")
        return request

    @contextlib.contextmanager
    def _open(self, request: urllib.request.Request) -> Iterator[Any]:
        """The open response, 2xx or an error status alike; connection problems as ConnectionFailed."""
        try:
            response = urllib.request.urlopen(request, timeout=self.timeout)  # noqa: S310
        except urllib.error.HTTPError as error:
            response = error
        except urllib.error.URLError as exc:
            raise _unreachable(request.full_url, exc.reason) from None
        except (http.client.HTTPException, OSError) as exc:
            raise _unreachable(request.full_url, exc) from None
        except ValueError as exc:
            raise UsageError(f"bad URL {request.full_url!r}: {exc}") from None
        with response:
            yield response

    def send(
        self, method: str, path: str, *, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Answer:
        """One request; raises for every status but 2xx (see ``check``)."""
        request = self._request(method, path, body=body, headers=headers or {})
        with self._open(request) as response:
            try:
                data = response.read()
            except (OSError, http.client.HTTPException) as exc:
                raise _unreachable(request.full_url, exc) from None
            answer = Answer(response.status, response.headers, data, request.full_url)
        self.check(answer, method)
        return answer

    def check(self, answer: Answer, method: str) -> None:
        status = answer.status
        if 200 <= status < 300:
            return
        messages = error_messages(answer.body)
        where = f"{method} {urlsplit(answer.url).path}"
        if status == 401:
            raise AuthFailed(TOKEN_REFUSED if self.token else "not signed in: run academy login")
        if status == 403:
            detail = " ".join(messages)
            if "token" in detail.lower() or "credentials" in detail.lower():  # DRF's 403 for a bad token
                raise AuthFailed(TOKEN_REFUSED if self.token else "not signed in: run academy login")
            raise AcademyError(f"not allowed: {detail or where}")
        if status == 404:
            raise NotFound(f"not found: {where}")
        if status in (400, 409, 413, 429):
            raise Rejected(messages or [f"HTTP {status} from {where}"])
        if status >= 500:
            raise ServerError(f"the platform failed (HTTP {status}) on {where}; try again later")
        raise ServerError(f"unexpected HTTP {status} from {where}" + (f": {' '.join(messages)}" if messages else ""))

    def json(self, method: str, path: str, payload: Any = None, *, query: dict[str, Any] | None = None) -> Any:
        if query:
            path = f"{path}?{urlencode(query)}"
        body = None if payload is None else json.dumps(payload).encode()
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        return self.decode(self.send(method, path, body=body, headers=headers))

    def decode(self, answer: Answer) -> Any:
        kind = answer.headers.get_content_type()
        try:
            return json.loads(answer.body)
        except ValueError:
            raise ServerError(
                f"{self.url} answered {urlsplit(answer.url).path} with {kind}, not JSON: is it the platform's address?"
            ) from None

    def get(self, path: str, *, query: dict[str, Any] | None = None) -> Any:
        return self.json("GET", path, query=query)

    def post_multipart(self, path: str, fields: dict[str, str], files: list[FileUpload]) -> Any:
        body, content_type = multipart_encode(fields, files)
        return self.decode(
            self.send("POST", path, body=body, headers={"Content-Type": content_type, "Accept": "application/json"})
        )

    def text(self, path: str) -> str:
        return self.send("GET", path).body.decode("utf-8", errors="replace")

    def items(self, path: str) -> Iterator[dict[str, Any]]:
        """Every item of a paginated list (``{"results", "next"}``; a plain list too)."""
        for page in range(1, MAX_PAGES + 1):
            data = self.get(path, query={"page": page})
            if isinstance(data, list):
                yield from data
                return
            yield from data.get("results") or []
            if not data.get("next"):
                return

    @staticmethod
    def _chunk(response: Any, url: str) -> bytes:
        try:
            return response.read(CHUNK)
        except (OSError, http.client.HTTPException) as exc:
            raise _unreachable(url, exc) from None

    def download(self, path: str, target: Path, *, digest_header: str | None = None) -> tuple[str, Message]:
        """Stream the answer into ``target``, written whole or not at all: (sha256 hex, headers).

        With ``digest_header``, a sha256 the answer carries in that header must match the bytes."""
        request = self._request("GET", path, body=None, headers={})
        partial = target.with_name(f".{target.name}.{os.getpid()}.part")
        digest = hashlib.sha256()
        with self._open(request) as response:
            if not 200 <= response.status < 300:
                self.check(Answer(response.status, response.headers, response.read(), request.full_url), "GET")
            try:
                with partial.open("wb") as handle:
                    while chunk := self._chunk(response, request.full_url):
                        digest.update(chunk)
                        handle.write(chunk)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
            headers = response.headers
        expected = headers.get(digest_header, "").strip().lower() if digest_header else ""
        if expected and expected != digest.hexdigest():
            partial.unlink(missing_ok=True)
            raise ServerError(f"{target.name} arrived damaged (its sha256 is not the {digest_header} sent): try again")
        os.replace(partial, target)
        return digest.hexdigest(), headers
