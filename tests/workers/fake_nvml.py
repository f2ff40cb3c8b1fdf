"""A stand-in for ``pynvml`` (NVML's Python bindings) with the functions ``workers.gpu_stats`` calls,
for machines without a GPU: each GPU is a ``FakeGpu``; one with ``broken`` set does not answer."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace


class NVMLError(Exception):
    pass


@dataclass
class FakeGpu:
    uuid: str
    name: str | bytes
    used: int
    total: int
    utilization_percent: int | None = 0  # None: not supported (a MIG-partitioned GPU)
    broken: bool = False


class FakeNvml:
    NVMLError = NVMLError

    def __init__(self, *gpus: FakeGpu, fails_to_start: bool = False) -> None:
        self.gpus = list(gpus)
        self.fails_to_start = fails_to_start
        self.initialised = 0  # NVML counts its initialisations; shutdown undoes one

    def nvmlInit(self) -> None:
        if self.fails_to_start:
            raise NVMLError("NVML Shared Library Not Found")
        self.initialised += 1

    def nvmlShutdown(self) -> None:
        self.initialised -= 1

    def nvmlDeviceGetCount(self) -> int:
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> FakeGpu:
        gpu = self.gpus[index]
        if gpu.broken:
            raise NVMLError("GPU is lost")
        return gpu

    def nvmlDeviceGetMemoryInfo(self, handle: FakeGpu) -> SimpleNamespace:
        return SimpleNamespace(used=handle.used, total=handle.total, free=handle.total - handle.used)

    def nvmlDeviceGetUtilizationRates(self, handle: FakeGpu) -> SimpleNamespace:
        if handle.utilization_percent is None:
            raise NVMLError("Not Supported")
        return SimpleNamespace(gpu=handle.utilization_percent, memory=0)

    def nvmlDeviceGetUUID(self, handle: FakeGpu) -> str:
        return handle.uuid

    def nvmlDeviceGetName(self, handle: FakeGpu) -> str | bytes:
        return handle.name
