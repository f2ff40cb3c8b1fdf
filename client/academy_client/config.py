"""Where the client keeps the platform's address and the learner's token.

One JSON file, ``{"url": ..., "token": ...}``: ``$ACADEMY_CONFIG``, else
``$XDG_CONFIG_HOME/academy/config.json``, else ``~/.config/academy/config.json``. It is created
readable and writable by its owner only (0600, in a 0700 folder the client creates) and
replaced atomically; the mode is checked after every write.

What a command uses: the URL from ``--url``, else ``ACADEMY_URL``, else the file; the token from
``ACADEMY_TOKEN``, else the file's — but the file's token only for the server it was issued by,
so ``--url`` pointed elsewhere never carries it there.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from academy_client.errors import AcademyError, UsageError

PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700
API_SUFFIX = "/api/v1"


@dataclass(frozen=True)
class Settings:
    url: str
    token: str | None


def config_path() -> Path:
    explicit = os.environ.get("ACADEMY_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "academy" / "config.json"


def url_normalise(text: str) -> str:
    """``http(s)://host[:port][/prefix]`` without a trailing slash or ``/api/v1``; UsageError otherwise."""
    url = text.strip().rstrip("/")
    if url.endswith(API_SUFFIX):
        url = url[: -len(API_SUFFIX)]
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise UsageError(f"bad URL {text!r}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"bad URL {text!r}: expected http://host[:port] or https://host")
    if parts.query or parts.fragment:
        raise UsageError(f"bad URL {text!r}: give the platform's address, without ? or #")
    return url


def config_load(path: Path | None = None) -> dict[str, Any]:
    """The stored settings, ``{}`` when there are none."""
    path = path or config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise UsageError(f"{path} is damaged (not a JSON object): delete it and run academy login")
    if os.name == "posix" and stat.S_IMODE(path.stat().st_mode) & 0o077:
        print(f"academy: warning: {path} can be read by others; fix it with: chmod 600 {path}", file=sys.stderr)
    return data


def config_save(data: dict[str, Any], path: Path | None = None) -> Path:
    """Write ``data`` with mode 0600 (a temporary file renamed over the old one)."""
    path = path or config_path()
    folder = path.parent
    if not folder.exists():
        folder.mkdir(parents=True, mode=PRIVATE_FOLDER)
        os.chmod(folder, PRIVATE_FOLDER)  # mkdir's mode is filtered by the umask
    temporary = folder / f".{path.name}.{os.getpid()}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(temporary, flags, PRIVATE_FILE)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            if hasattr(os, "fchmod"):
                os.fchmod(handle.fileno(), PRIVATE_FILE)
            json.dump(data, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    config_check_private(path)
    return path


def config_check_private(path: Path) -> None:
    """AcademyError unless only the owner can read and write ``path`` (POSIX; Windows has ACLs)."""
    if os.name != "posix":
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode != PRIVATE_FILE:
        raise AcademyError(f"{path} has mode {mode:o}, not 600: the token would be readable by others")


def config_remove(path: Path | None = None) -> bool:
    path = path or config_path()
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def settings_resolve(url: str | None = None, *, require_token: bool = True) -> Settings:
    """The platform to talk to and the token for it (see the module docstring for the order)."""
    stored = config_load()
    chosen = url or os.environ.get("ACADEMY_URL") or stored.get("url")
    if not chosen:
        raise UsageError("no platform address: run academy login --url URL (or set ACADEMY_URL)")
    chosen = url_normalise(chosen)
    token = os.environ.get("ACADEMY_TOKEN") or None
    if token is None and stored.get("url") and url_normalise(str(stored["url"])) == chosen:
        token = stored.get("token") or None
    if token is None and require_token:
        raise UsageError(f"not signed in to {chosen}: run academy login --url {chosen}")
    return Settings(url=chosen, token=token)
