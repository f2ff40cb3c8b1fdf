"""What a lab worker tells the site about itself through the broker's Redis: that it is alive,
which queues it consumes, and the memory and utilisation of its GPUs (the site's ``/metrics``,
``config.prometheus``, reads it back).

Each lab worker (its main process, once: not each pool process) publishes a small JSON record,
``labs:worker:<name>``, every ``PUBLISH_SECONDS``, with a TTL of three intervals, and keeps its name
in the set ``labs:workers``. The reader takes the records of the set's members in one script and
drops the names whose record expired: a worker that died leaves the figures within three
intervals, one that stops cleanly at once (``Publisher.stop`` deletes its record). The reader
scans no keyspace and compares no clocks across machines.

GPU figures come from NVML (``pynvml``, package ``nvidia-ml-py``) when it imports and finds a GPU;
without it a record says only that the worker is alive. NVML sees every GPU of the node (or of
the container), whatever ``CUDA_VISIBLE_DEVICES`` says, so only a worker that consumes the ``gpu``
queue reports them: a CPU worker on the same node would report the same GPUs a second time.

A record, as ``WorkerRecord.to_dict`` writes it::

    {"worker": "gpu@node-1", "queues": ["gpu"], "gpus": [{"index": 0, "uuid": "GPU-…",
     "name": "NVIDIA H200", "memory_used_bytes": 1024, "memory_total_bytes": 4096,
     "utilization_ratio": 0.25}]}

(``utilization_ratio`` is null where NVML cannot tell, e.g. a GPU split into MIG instances.)
The site takes lab nodes for less trusted than itself, so it reads records with
``WorkerRecord.from_dict``, which refuses anything else (``ValueError``), and skips a bad one.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

import redis

from workers import control

logger = logging.getLogger(__name__)

PUBLISH_SECONDS = 15.0
TTL_INTERVALS = 3  # a record outlives two missed publications (a broker restart), not a third
WORKERS_KEY = "labs:workers"
RECORD_PREFIX = "labs:worker:"
GPU_QUEUE = "gpu"
MAX_GPUS = 64  # a record claiming more is malformed


def _record_key(worker: str) -> str:
    return f"{RECORD_PREFIX}{worker}"


@dataclass(frozen=True)
class GpuStat:
    index: int
    uuid: str
    name: str
    memory_used_bytes: int
    memory_total_bytes: int
    utilization_ratio: float | None

    @classmethod
    def from_dict(cls, data: Any) -> GpuStat:
        if not isinstance(data, dict):
            raise ValueError("gpu: must be an object")
        index, used, total = data.get("index"), data.get("memory_used_bytes"), data.get("memory_total_bytes")
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (index, used, total)):
            raise ValueError("gpu: index and memory must be integers, at least 0")
        uuid, name = data.get("uuid"), data.get("name")
        if not isinstance(uuid, str) or not isinstance(name, str):
            raise ValueError("gpu: uuid and name must be strings")
        ratio = data.get("utilization_ratio")
        if ratio is not None and (
            not isinstance(ratio, int | float) or isinstance(ratio, bool) or not math.isfinite(ratio) or ratio < 0
        ):
            raise ValueError("gpu: utilization_ratio must be a number, at least 0, or null")
        return cls(index, uuid, name, used, total, None if ratio is None else float(ratio))


@dataclass(frozen=True)
class WorkerRecord:
    worker: str
    queues: tuple[str, ...]
    gpus: tuple[GpuStat, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"worker": self.worker, "queues": list(self.queues), "gpus": [asdict(gpu) for gpu in self.gpus]}

    @classmethod
    def from_dict(cls, data: Any) -> WorkerRecord:
        if not isinstance(data, dict):
            raise ValueError("record: must be an object")
        worker, queues, gpus = data.get("worker"), data.get("queues"), data.get("gpus", [])
        if not isinstance(worker, str) or not worker:
            raise ValueError("worker: must be a non-empty string")
        if not isinstance(queues, list) or not all(isinstance(q, str) for q in queues):
            raise ValueError("queues: must be a list of strings")
        if not isinstance(gpus, list) or len(gpus) > MAX_GPUS:
            raise ValueError(f"gpus: must be a list of at most {MAX_GPUS}")
        stats = tuple(GpuStat.from_dict(gpu) for gpu in gpus)
        if len({gpu.index for gpu in stats}) != len(stats):  # each is a series of its own on the site
            raise ValueError("gpus: an index appears twice")
        return cls(worker, tuple(queues), stats)


# --- NVML ------------------------------------------------------------------------------------


def nvml_open(nvml: Any = None) -> Any | None:
    """NVML initialised (``pynvml``, or ``nvml``: an object with its functions, for tests), or
    None: not installed, no driver, or no GPU. ``nvml_close`` undoes it."""
    if nvml is None:
        try:
            import pynvml as nvml
        except ImportError:
            logger.info("no GPU statistics: pynvml (nvidia-ml-py) is not installed")
            return None
    try:
        nvml.nvmlInit()
    except nvml.NVMLError as exc:
        logger.info("no GPU statistics: NVML does not start (%s)", exc)
        return None
    try:
        if nvml.nvmlDeviceGetCount() > 0:
            return nvml
    except nvml.NVMLError as exc:
        logger.info("no GPU statistics: NVML counts no GPU (%s)", exc)
    nvml_close(nvml)
    return None


def nvml_close(nvml: Any) -> None:
    try:
        nvml.nvmlShutdown()
    except nvml.NVMLError as exc:
        logger.warning("NVML shutdown failed: %s", exc)


def gpus_read(nvml: Any) -> list[GpuStat]:
    """Memory and utilisation of each GPU NVML sees now; a GPU that does not answer is left out."""
    try:
        count = nvml.nvmlDeviceGetCount()
    except nvml.NVMLError as exc:
        logger.warning("NVML: no GPU count (%s)", exc)
        return []
    stats = []
    for index in range(count):
        try:
            stats.append(_gpu_read(nvml, index))
        except nvml.NVMLError as exc:
            logger.warning("NVML: GPU %s does not answer (%s)", index, exc)
    return stats


def _gpu_read(nvml: Any, index: int) -> GpuStat:
    handle = nvml.nvmlDeviceGetHandleByIndex(index)
    memory = nvml.nvmlDeviceGetMemoryInfo(handle)
    try:
        utilization: float | None = nvml.nvmlDeviceGetUtilizationRates(handle).gpu / 100
    except nvml.NVMLError:  # not supported, e.g. on a GPU split into MIG instances
        utilization = None
    return GpuStat(
        index=index,
        uuid=_text(nvml.nvmlDeviceGetUUID(handle)),
        name=_text(nvml.nvmlDeviceGetName(handle)),
        memory_used_bytes=int(memory.used),
        memory_total_bytes=int(memory.total),
        utilization_ratio=utilization,
    )


def _text(value: str | bytes) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value  # bytes: older pynvml


# --- Publishing and reading ------------------------------------------------------------------


def record_publish(client: redis.Redis, record: WorkerRecord, *, ttl_seconds: int) -> None:
    with client.pipeline(transaction=False) as pipe:
        pipe.set(_record_key(record.worker), json.dumps(record.to_dict()), ex=ttl_seconds)
        pipe.sadd(WORKERS_KEY, record.worker)
        pipe.execute()


def record_delete(client: redis.Redis, *, worker: str) -> None:
    with client.pipeline(transaction=False) as pipe:
        pipe.delete(_record_key(worker))
        pipe.srem(WORKERS_KEY, worker)
        pipe.execute()


# The records of the workers named in the set, and the names whose record expired dropped, in
# one step: a worker publishing meanwhile is never dropped with a live record.
_READ_SCRIPT = """
local records = {}
for _, name in ipairs(redis.call('SMEMBERS', KEYS[1])) do
    local record = redis.call('GET', ARGV[1] .. name)
    if record then
        table.insert(records, record)
    else
        redis.call('SREM', KEYS[1], name)
    end
end
return records
"""


def workers_alive(client: redis.Redis) -> list[WorkerRecord]:
    """The records of the lab workers alive now, by name; a malformed record is logged and skipped."""
    records = []
    for raw in client.eval(_READ_SCRIPT, 1, WORKERS_KEY, RECORD_PREFIX):
        try:
            records.append(WorkerRecord.from_dict(json.loads(raw)))
        except ValueError as exc:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
            logger.warning("skipping a malformed lab worker record (%s): %.200r", exc, raw)
    return sorted(records, key=lambda record: record.worker)


class Publisher:
    """Publishes a lab worker's record from a daemon thread every ``interval`` seconds, from
    ``start()`` until ``stop()``, which deletes it. A publication that fails (the broker away) is
    logged and tried again at the next one.

    ``queues`` tells the queues the worker consumes now, at each publication: a worker can leave a
    queue while it runs (a GPU that fails its check takes it off ``gpu``). NVML is opened the first
    time the worker consumes ``gpu`` and kept open until ``stop()``. ``nvml``: NVML's functions, for
    tests (default: ``pynvml`` when it imports).
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        worker: str,
        queues: Callable[[], Iterable[str]],
        interval: float = PUBLISH_SECONDS,
        nvml: Any = None,
    ) -> None:
        self.client, self.worker, self.queues, self.interval = client, worker, queues, interval
        self._nvml_given, self._nvml, self._nvml_tried = nvml, None, False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lab-worker-stats", daemon=True)

    def record(self) -> WorkerRecord:
        queues = tuple(sorted(set(self.queues())))
        nvml = self._nvml_once() if GPU_QUEUE in queues else None
        gpus = tuple(gpus_read(nvml)) if nvml is not None else ()
        return WorkerRecord(worker=self.worker, queues=queues, gpus=gpus)

    def publish(self) -> bool:
        ttl = max(1, math.ceil(self.interval * TTL_INTERVALS))
        try:
            record_publish(self.client, self.record(), ttl_seconds=ttl)
        except redis.RedisError as exc:
            logger.warning("could not publish the statistics of %s (%s); trying again", self.worker, exc)
            return False
        return True

    def start(self) -> Publisher:
        self.publish()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        try:
            record_delete(self.client, worker=self.worker)
        except redis.RedisError as exc:
            logger.warning("could not delete the record of %s (%s); it expires", self.worker, exc)
        if self._nvml is not None:
            nvml_close(self._nvml)
            self._nvml = None

    def _nvml_once(self) -> Any | None:
        if not self._nvml_tried:
            self._nvml_tried = True
            self._nvml = nvml_open(self._nvml_given)
        return self._nvml

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.publish()
            except Exception:  # a bug here must not end the thread: the worker would look dead
                logger.exception("publishing the statistics of %s failed", self.worker)


def start_publisher(broker_url: str, *, worker: str, queues: Callable[[], Iterable[str]]) -> Publisher:
    """Start publishing this lab worker's record every ``PUBLISH_SECONDS``: call it once, in the
    worker's main process (Celery's ``worker_ready``), and ``stop()`` the result at shutdown."""
    return Publisher(control.redis_client(broker_url), worker=worker, queues=queues).start()
