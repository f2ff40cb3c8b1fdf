"""A stand-in for ``pynvml`` (NVML's Python bindings, their camelCase names) with the functions
``workers.gpus`` and ``workers.gpu_stats`` call, for machines without a GPU: each GPU is a ``FakeGpu``
(its MIG instances are ``FakeGpu``s too); one with ``broken`` set does not answer."""

from __future__ import annotations

from dataclasses import dataclass, field
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
    minor: int = 0  # its device node, /dev/nvidia<minor>
    mig: list[FakeGpu] = field(default_factory=list)  # MIG mode on, with these instances
    processes: dict[int, int] | None = field(default_factory=dict)  # pid -> bytes used; None: NVML fails


class FakeNvml:
    NVMLError = NVMLError

    def __init__(self, *gpus: FakeGpu, fails_to_start: bool = False, lost: bool = False) -> None:
        self.gpus = list(gpus)
        self.fails_to_start = fails_to_start
        self.lost = lost  # NVML itself fails (a GPU fell off the bus): counting them fails
        self.initialised = 0  # NVML counts its initialisations; shutdown undoes one

    def nvmlInit(self) -> None:
        if self.fails_to_start:
            raise NVMLError("NVML Shared Library Not Found")
        self.initialised += 1

    def nvmlShutdown(self) -> None:
        self.initialised -= 1

    def nvmlDeviceGetCount(self) -> int:
        if self.lost:
            raise NVMLError("GPU is lost")
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

    def nvmlDeviceGetMinorNumber(self, handle: FakeGpu) -> int:
        return handle.minor

    def nvmlDeviceGetMigMode(self, handle: FakeGpu) -> tuple[int, int]:
        return (1, 1) if handle.mig else (0, 0)

    def nvmlDeviceGetMaxMigDeviceCount(self, handle: FakeGpu) -> int:
        return 7

    def nvmlDeviceGetMigDeviceHandleByIndex(self, handle: FakeGpu, slot: int) -> FakeGpu:
        if slot >= len(handle.mig):
            raise NVMLError("Not Found")
        return handle.mig[slot]

    def nvmlDeviceGetComputeRunningProcesses(self, handle: FakeGpu) -> list[SimpleNamespace]:
        if handle.processes is None:
            raise NVMLError("Unknown Error")
        return [SimpleNamespace(pid=pid, usedGpuMemory=used) for pid, used in handle.processes.items()]
