"""What the site sends to a lab worker: one run to execute (``JobSpec``), as plain JSON.

The site builds a ``JobSpec``, sends ``spec.to_dict()`` through the broker (task ``RUN_TASK``),
and the worker rebuilds it with ``JobSpec.from_dict()``; what the worker sends back is in
``workers.events``. Every constructor validates every field, so a malformed message fails
with a ``JobSpecError`` naming the field before anything is downloaded or started.

Unknown keys are ignored (not rejected): a site deployed before its workers can then add a
field without making every older worker refuse every run.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

# The lab worker's task that runs one job (``workers.tasks.run_lab_job``): the site sends
# ``spec.to_dict()`` to it by this name, on the queue of the lab's device class (cpu or gpu).
RUN_TASK = "workers.tasks.run_lab_job"

DEVICES = ("cpu", "cuda")
# The token ends up in a folder name on the worker: letters, digits, '-' and '_' only.
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
MAX_CODE_BYTES = 2 * 1024 * 1024
MAX_SEED = 2**32 - 1  # numpy's legacy seeding accepts 0 .. 2**32-1
MAX_WEIGHTS_BYTES = 1024**4  # no more than the largest disk limit (limits.disk_mb) could hold

# field -> (minimum, maximum). Below ~64 MB not even the interpreter starts.
_LIMIT_BOUNDS: dict[str, tuple[int, int]] = {
    "wall_seconds": (1, 7 * 24 * 3600),
    "memory_mb": (64, 4 * 1024 * 1024),
    "processes": (1, 100_000),
    "output_bytes": (1024, 1024**3),
    "disk_mb": (1, 1024 * 1024),
}


class JobSpecError(ValueError):
    """A job message that cannot be run as it is; the message names the offending field."""


def _check_int(value: Any, name: str, minimum: int, maximum: int) -> None:
    # bool is an int subclass; ``True`` as a memory limit is a bug, not a 1 MB limit.
    if not isinstance(value, int) or isinstance(value, bool):
        raise JobSpecError(f"{name}: must be an integer, got {value!r}")
    if not minimum <= value <= maximum:
        raise JobSpecError(f"{name}: must be between {minimum} and {maximum}, got {value}")


def _check_str(value: Any, name: str) -> None:
    if not isinstance(value, str):
        raise JobSpecError(f"{name}: must be a string, got {type(value).__name__}")


def _object(data: Any, name: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise JobSpecError(f"{name}: must be a JSON object, got {type(data).__name__}")
    return data


def _pick(data: dict[str, Any], keys: tuple[str, ...], prefix: str) -> dict[str, Any]:
    missing = [key for key in keys if key not in data]
    if missing:
        raise JobSpecError(f"{prefix}{missing[0]}: missing")
    return {key: data[key] for key in keys}


def _check_json_value(value: Any, name: str, depth: int = 0) -> None:
    """``params`` must survive a JSON round trip unchanged (no NaN, no tuples, string keys)."""
    if depth > 20:
        raise JobSpecError(f"{name}: nested too deeply")
    if value is None or isinstance(value, bool | int | str):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise JobSpecError(f"{name}: must be a finite number, got {value!r}")
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_json_value(item, f"{name}[{index}]", depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise JobSpecError(f"{name}: keys must be strings, got {key!r}")
            _check_json_value(item, f"{name}.{key}", depth + 1)
        return
    raise JobSpecError(f"{name}: {type(value).__name__} is not a JSON value")


@dataclass(frozen=True)
class Limits:
    """Resource limits of one run; the sandbox enforces every one of them."""

    wall_seconds: int
    memory_mb: int
    processes: int
    output_bytes: int
    disk_mb: int

    def __post_init__(self) -> None:
        for name, (minimum, maximum) in _LIMIT_BOUNDS.items():
            _check_int(getattr(self, name), f"limits.{name}", minimum, maximum)

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> Limits:
        return cls(**_pick(_object(data, "limits"), tuple(_LIMIT_BOUNDS), "limits."))


@dataclass(frozen=True)
class DatasetRef:
    """Where the lab's dataset lives, and the SHA-256 it must have (also its cache key)."""

    sha256: str
    url: str

    def __post_init__(self) -> None:
        _check_str(self.sha256, "dataset.sha256")
        if not _SHA256_RE.match(self.sha256):
            raise JobSpecError(f"dataset.sha256: must be 64 lowercase hex digits, got {self.sha256!r}")
        _check_str(self.url, "dataset.url")
        _check_link(self.url, "dataset.url", "file:///absolute/path.npz")

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> DatasetRef:
        return cls(**_pick(_object(data, "dataset"), ("sha256", "url"), "dataset."))


def _check_link(url: str, name: str, example: str) -> None:
    """A link a worker reads or writes: ``file://`` on the one machine of the embedded default, else
    ``http(s)`` (an object store's pre-signed link); nothing else."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or not PurePosixPath(parts.path).is_absolute():
            raise JobSpecError(f"{name}: a file URL must look like {example}, got {url!r}")
    elif parts.scheme in ("http", "https"):
        if not parts.hostname:
            raise JobSpecError(f"{name}: no host in {url!r}")
    else:
        raise JobSpecError(f"{name}: the scheme must be file, http or https, got {url!r}")


@dataclass(frozen=True)
class Uploads:
    """Where the worker sends this attempt's files when the run ends (``workers.uploads``): links the
    site signed for this attempt alone, so a worker holds no key of the store — a pre-signed PUT, or a
    ``file://`` path on the one machine of the embedded default. ``""``: that file is not wanted.

    ``weights``: the trained model's ``state_dict`` (``model.pt``), at most ``weights_max_bytes``
    (0 with no ``weights`` link: the lab keeps no weights, or the learner opted out). ``log``: the
    run's whole output log (within ``limits.output_bytes``).
    """

    weights: str = ""
    log: str = ""
    weights_max_bytes: int = 0

    def __post_init__(self) -> None:
        for name in ("weights", "log"):
            link = getattr(self, name)
            _check_str(link, f"uploads.{name}")
            if link:
                _check_link(link, f"uploads.{name}", "file:///absolute/path")
        _check_int(self.weights_max_bytes, "uploads.weights_max_bytes", 0, MAX_WEIGHTS_BYTES)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> Uploads:
        return cls(**_pick(_object(data, "uploads"), ("weights", "log", "weights_max_bytes"), "uploads."))


@dataclass(frozen=True)
class JobSpec:
    """One lab run for a worker: the learner's code, the lab's parameters, limits and data, and where
    its files go when it ends (``uploads``; a message without them, from an older site, uploads none)."""

    run_id: int
    token: str
    code: str
    params: dict[str, Any]
    seed: int
    device: str
    limits: Limits
    dataset: DatasetRef
    uploads: Uploads = Uploads()

    def __post_init__(self) -> None:
        _check_int(self.run_id, "run_id", 1, 2**63 - 1)
        _check_str(self.token, "token")
        if not _TOKEN_RE.match(self.token):
            raise JobSpecError("token: must be 1-128 characters from A-Z a-z 0-9 - _")
        _check_str(self.code, "code")
        if len(self.code.encode("utf-8", "surrogatepass")) > MAX_CODE_BYTES:
            raise JobSpecError(f"code: larger than {MAX_CODE_BYTES // 1024} KiB")
        if not isinstance(self.params, dict):
            raise JobSpecError(f"params: must be a JSON object, got {type(self.params).__name__}")
        _check_json_value(self.params, "params")
        _check_int(self.seed, "seed", 0, MAX_SEED)
        _check_str(self.device, "device")
        if self.device not in DEVICES:
            raise JobSpecError(f"device: must be one of {', '.join(DEVICES)}, got {self.device!r}")
        if not isinstance(self.limits, Limits):
            raise JobSpecError("limits: must be a Limits")
        if not isinstance(self.dataset, DatasetRef):
            raise JobSpecError("dataset: must be a DatasetRef")
        if not isinstance(self.uploads, Uploads):
            raise JobSpecError("uploads: must be an Uploads")

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "token": self.token,
            "code": self.code,
            "params": self.params,
            "seed": self.seed,
            "device": self.device,
            "limits": self.limits.to_dict(),
            "dataset": self.dataset.to_dict(),
            "uploads": self.uploads.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Any) -> JobSpec:
        keys = ("run_id", "token", "code", "params", "seed", "device", "limits", "dataset")
        values = _pick(_object(data, "job"), keys, "")
        values["limits"] = Limits.from_dict(values["limits"])
        values["dataset"] = DatasetRef.from_dict(values["dataset"])
        if "uploads" in data:
            values["uploads"] = Uploads.from_dict(data["uploads"])
        return cls(**values)
