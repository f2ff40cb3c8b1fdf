"""Sending a run's files to the site's store without a key: ``upload(source, url, ...)`` to a link the
site signed for the attempt (``JobSpec.uploads``).

- ``http(s)``: one PUT of the whole file with its ``Content-Length`` (a pre-signed S3/MinIO PUT takes
  no chunked body), hashed as it streams;
- ``file://`` (the embedded default: the site's disk is this machine's): a copy written under a
  temporary name and renamed into place, so the site never reads half a file.

The link's query (its signature) never goes into an error or a log line (``shown_url``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from workers.dataset_cache import shown_url

CHUNK = 1024 * 1024
UPLOAD_TIMEOUT_S = 60


class UploadError(RuntimeError):
    """The file could not be stored at its link (the message is safe to show: no signature)."""


class _HashingReader:
    """At most ``size`` bytes of ``source``, hashed as they are read (what ``http.client`` sends)."""

    def __init__(self, source: BinaryIO, size: int) -> None:
        self._source = source
        self._left = size
        self.digest = hashlib.sha256()
        self.sent = 0

    def read(self, amount: int = -1) -> bytes:
        amount = self._left if amount is None or amount < 0 else min(amount, self._left)
        chunk = self._source.read(amount) if amount else b""
        self._left -= len(chunk)
        self.sent += len(chunk)
        self.digest.update(chunk)
        return chunk


def upload(source: BinaryIO, url: str, *, size: int, content_type: str) -> dict[str, int | str]:
    """Store ``size`` bytes of ``source`` at ``url``; returns ``{"size", "sha256"}`` of what was stored.
    Raises ``UploadError``."""
    reader = _HashingReader(source, size)
    scheme = urlsplit(url).scheme
    if scheme == "file":
        _copy(reader, Path(unquote(urlsplit(url).path)))
    elif scheme in ("http", "https"):
        _put(reader, url, size=size, content_type=content_type)
    else:
        raise UploadError(f"unsupported upload link scheme {scheme!r}")
    if reader.sent != size:
        raise UploadError(f"the file ended after {reader.sent} of {size} bytes")
    return {"size": size, "sha256": reader.digest.hexdigest()}


def _put(reader: _HashingReader, url: str, *, size: int, content_type: str) -> None:
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above (and by JobSpec)
        url, data=reader, method="PUT", headers={"Content-Length": str(size), "Content-Type": content_type}
    )
    try:
        with urllib.request.urlopen(request, timeout=UPLOAD_TIMEOUT_S) as response:  # noqa: S310
            response.read(4096)
    except urllib.error.HTTPError as exc:
        with exc:
            body = exc.read(4096).decode("utf-8", "replace")
        expired = " (the link expired)" if "expired" in body.lower() else ""
        raise UploadError(f"{shown_url(url)} refused the file: HTTP {exc.code} {exc.reason}{expired}") from None
    except OSError as exc:  # URLError, timeouts, a reset connection
        raise UploadError(f"cannot send the file to {shown_url(url)}: {exc}") from None


def _copy(reader: _HashingReader, target: Path) -> None:
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(partial, "wb") as sink:
            while chunk := reader.read(CHUNK):
                sink.write(chunk)
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(partial, target)
    except OSError as exc:
        raise UploadError(f"cannot write {target}: {exc}") from None
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()
