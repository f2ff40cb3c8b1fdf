"""The GPUs of a lab worker's node: which there are, which one a run gets, what its sandbox must see.

- **Discovery** (``discover``): from NVML when the NVIDIA management library can be loaded (the GPUs'
  minor numbers, UUIDs, memory and MIG instances), else from the device nodes the pod was given
  (``/dev/nvidia<N>``, any N: a pod allocated GPU 3 has ``/dev/nvidia3`` only). Either way only GPUs
  whose device node exists here count. Asking torch would initialise CUDA in the long-lived worker.
- **One GPU per run**: a pool slot is assigned one GPU (``assign_slot``, round robin); its sandbox gets
  that GPU's device node and the driver's control nodes, never the node's other GPUs, so a child
  process that rewrites ``CUDA_VISIBLE_DEVICES`` finds nothing else to open. A MIG instance gets its
  parent's node plus ``/dev/nvidia-caps`` and is named by its UUID.
- **Memory share** (``memory_fraction``): with ``LAB_RUNS_PER_GPU`` runs on one GPU, each may use its
  share of what is left after every run's CUDA context (``LAB_GPU_CONTEXT_MB``, default 600 MB: context,
  cuBLAS and cuDNN workspaces), so a neighbour's context cannot push a run within its share over the
  edge.
- **Host limits** (``cuda_limits``): CUDA, cuBLAS and cuDNN need host memory and threads a CPU lab's
  limits may not give: a CUDA run gets at least ``LAB_GPU_MIN_MEMORY_MB`` (6144) and
  ``LAB_GPU_MIN_PROCESSES`` (256).
- **Driver libraries** (``driver_library_dirs``): the sandbox clears the environment, and some
  platforms inject the driver through ``LD_LIBRARY_PATH`` (``/usr/local/nvidia/lib64``…): every folder
  holding ``libcuda.so.1`` there or in the usual places is bound read-only into the sandbox and put on
  its ``LD_LIBRARY_PATH``.
- **Health** (``probe``): before a worker takes ``gpu`` jobs, and again when a CUDA run fails to start,
  a short CUDA program must run on each GPU (``LAB_GPU_PROBE`` overrides the command); a broken GPU
  takes the worker off the ``gpu`` queue (``workers.tasks``).

``LAB_DEV_DIR`` (default ``/dev``) lets tests build a fake node: regular files named like device nodes.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from workers.jobspec import Limits

logger = logging.getLogger(__name__)

CONTROL_NODES = ("nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset")
MIG_CAPS_DIR = "nvidia-caps"
GPU_NODE = re.compile(r"nvidia(\d+)")
DRIVER_LIBRARY = "libcuda.so.1"
# Where drivers are found when LD_LIBRARY_PATH does not say (GKE, the NVIDIA container toolkit, Debian, RHEL).
KNOWN_DRIVER_DIRS = (
    "/usr/local/nvidia/lib64",
    "/usr/local/nvidia/lib",
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib64",
    "/usr/lib/aarch64-linux-gnu",
    "/run/nvidia/driver/usr/lib/x86_64-linux-gnu",
)
SLOT_ENV = "LAB_GPU"  # the pool process's GPU, as JSON (set by workers.tasks for each slot)
DEFAULT_CONTEXT_MB = 600
DEFAULT_MIN_MEMORY_MB = 6144
DEFAULT_MIN_PROCESSES = 256
PROBE_TIMEOUT_S = 120
PROBE_PROGRAM = (
    "import torch; torch.cuda.init(); x = torch.ones(256, 256, device='cuda'); "
    "assert float((x @ x).sum()) == 256.0 ** 3; print(torch.cuda.get_device_name(0))"
)


@dataclass(frozen=True)
class Gpu:
    minor: int  # N of /dev/nvidiaN
    uuid: str = ""  # "GPU-…" or, for a MIG instance, "MIG-…" (from NVML; "" without it)
    memory_bytes: int = 0  # 0: unknown (no NVML)
    mig: bool = False

    @property
    def node(self) -> str:
        return str(dev_dir() / f"nvidia{self.minor}")

    @property
    def visible(self) -> str:
        """``CUDA_VISIBLE_DEVICES`` inside its sandbox: its UUID, or "0" (the one GPU there is)."""
        return self.uuid or "0"

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls, text: str) -> Gpu:
        return cls(**json.loads(text))


def dev_dir() -> Path:
    return Path(os.environ.get("LAB_DEV_DIR") or "/dev")


def _nodes() -> list[int]:
    try:
        names = os.listdir(dev_dir())
    except OSError:
        return []
    return sorted(int(match.group(1)) for name in names if (match := GPU_NODE.fullmatch(name)))


def load_nvml() -> Any | None:
    """The NVML bindings (``nvidia-ml-py``), initialised; None where they, the driver or a GPU are missing
    (``workers.gpu_stats.nvml_open``: one way to open NVML)."""
    from workers.gpu_stats import nvml_open

    return nvml_open()


def discover(nvml: Any | None = None) -> list[Gpu]:
    """The GPUs a run may be given on this node (see the module docstring)."""
    nodes = set(_nodes())
    if not nodes:
        return []
    nvml = nvml if nvml is not None else load_nvml()
    if nvml is None:
        return [Gpu(minor) for minor in sorted(nodes)]
    found = []
    try:
        for index in range(nvml.nvmlDeviceGetCount()):
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            minor = int(nvml.nvmlDeviceGetMinorNumber(handle))
            if minor not in nodes:
                continue  # a GPU of the node that this pod was not given
            found += _mig_instances(nvml, handle, minor) or [
                Gpu(minor, _text(nvml.nvmlDeviceGetUUID(handle)), int(nvml.nvmlDeviceGetMemoryInfo(handle).total))
            ]
    except Exception as exc:  # noqa: BLE001 - NVML answers oddly: fall back on the device nodes
        logger.warning("NVML failed (%s); using the device nodes", exc)
        return [Gpu(minor) for minor in sorted(nodes)]
    return found


def _mig_instances(nvml: Any, handle: Any, minor: int) -> list[Gpu]:
    try:
        current, _ = nvml.nvmlDeviceGetMigMode(handle)
    except Exception:  # noqa: BLE001 - not a MIG-capable GPU
        return []
    if current != 1:
        return []
    instances = []
    for slot in range(nvml.nvmlDeviceGetMaxMigDeviceCount(handle)):
        try:
            mig = nvml.nvmlDeviceGetMigDeviceHandleByIndex(handle, slot)
        except Exception:  # noqa: BLE001, S112 - an empty MIG slot
            continue
        memory = int(nvml.nvmlDeviceGetMemoryInfo(mig).total)
        instances.append(Gpu(minor, _text(nvml.nvmlDeviceGetUUID(mig)), memory, mig=True))
    return instances


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def runs_per_gpu() -> int:
    return max(1, int(os.environ.get("LAB_RUNS_PER_GPU", "1")))


def assign_slot(index: int, gpus: list[Gpu]) -> Gpu | None:
    """The GPU of pool slot ``index``: round robin, so each GPU has ``LAB_RUNS_PER_GPU`` slots at most."""
    return gpus[index % len(gpus)] if gpus else None


def slot_gpu() -> Gpu | None:
    """This pool process's GPU (``LAB_GPU``), or None."""
    text = os.environ.get(SLOT_ENV)
    return Gpu.from_env(text) if text else None


def memory_fraction(gpu: Gpu, runs: int) -> float:
    """Each run's share of ``gpu``'s memory when ``runs`` share it, every run's context set aside."""
    if runs <= 1:
        return 1.0
    context = int(os.environ.get("LAB_GPU_CONTEXT_MB", DEFAULT_CONTEXT_MB)) * 1024 * 1024
    if not gpu.memory_bytes:  # unknown size: a tenth for the contexts
        return round(0.9 / runs, 4)
    usable = max(0, gpu.memory_bytes - runs * context)
    return round(max(0.01, usable / runs / gpu.memory_bytes), 4)


def cuda_limits(limits: Limits) -> Limits:
    """``limits`` raised to what CUDA, cuBLAS and cuDNN need on the host (never lowered)."""
    memory = int(os.environ.get("LAB_GPU_MIN_MEMORY_MB", DEFAULT_MIN_MEMORY_MB))
    processes = int(os.environ.get("LAB_GPU_MIN_PROCESSES", DEFAULT_MIN_PROCESSES))
    return Limits(
        wall_seconds=limits.wall_seconds,
        memory_mb=max(limits.memory_mb, memory),
        processes=max(limits.processes, processes),
        output_bytes=limits.output_bytes,
        disk_mb=limits.disk_mb,
    )


def device_binds(gpu: Gpu) -> list[str]:
    """bwrap arguments: the driver's control nodes, this GPU's node (and the MIG capabilities), the
    sysfs parts the driver libraries read. Never another GPU's node."""
    args: list[str] = []
    for name in CONTROL_NODES:
        path = dev_dir() / name
        if path.exists():
            args += ["--dev-bind", str(path), f"/dev/{name}"]
    args += ["--dev-bind", gpu.node, f"/dev/nvidia{gpu.minor}"]
    caps = dev_dir() / MIG_CAPS_DIR
    if gpu.mig and caps.is_dir():
        args += ["--dev-bind", str(caps), f"/dev/{MIG_CAPS_DIR}"]
    for path in ("/sys/bus/pci", "/sys/devices", "/sys/module/nvidia", "/sys/module/nvidia_uvm"):
        args += ["--ro-bind-try", path, path]
    return args


def driver_library_dirs(environ: dict[str, str] | None = None) -> list[str]:
    """Folders holding ``libcuda.so.1``: those ``LD_LIBRARY_PATH`` names first, then the usual places."""
    environ = os.environ if environ is None else environ
    listed = [d for d in environ.get("LD_LIBRARY_PATH", "").split(":") if d]
    extra = [d for d in environ.get("LAB_DRIVER_DIRS", "").split(":") if d]
    found: list[str] = []
    for folder in (*extra, *listed, *KNOWN_DRIVER_DIRS):
        if folder not in found and (Path(folder) / DRIVER_LIBRARY).exists():
            found.append(folder)
    return found


def driver_binds(folders: list[str]) -> list[str]:
    """bwrap arguments binding driver folders read-only (``/usr`` is bound whole already)."""
    args: list[str] = []
    for folder in folders:
        if not folder.startswith("/usr/"):
            args += ["--ro-bind", folder, folder]
    return args


def probe_command(python: str, site_packages: str | None) -> list[str]:
    """The health probe: ``LAB_GPU_PROBE`` (an operator's command), else a short CUDA program run by
    the lab runtime's interpreter with its packages."""
    if os.environ.get("LAB_GPU_PROBE"):
        return shlex.split(os.environ["LAB_GPU_PROBE"])
    prelude = f"import site; site.addsitedir({site_packages!r}); " if site_packages else ""
    return [python, "-I", "-c", prelude + PROBE_PROGRAM]


def probe(gpu: Gpu, command: list[str]) -> str | None:
    """Run the probe ``command`` on ``gpu`` alone; None when it works, else why not (its last lines)."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "CUDA_VISIBLE_DEVICES": gpu.uuid or str(gpu.minor),
        "LD_LIBRARY_PATH": ":".join(driver_library_dirs()),
    }
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"GPU {gpu.minor}: the probe could not run: {exc}"
    if done.returncode == 0:
        return None
    lines = [line for line in (done.stderr or done.stdout).strip().splitlines() if line.strip()]
    return f"GPU {gpu.minor}: the probe failed (exit status {done.returncode}): {' | '.join(lines[-3:])[:400]}"


# --- who ran a shared GPU out of memory ------------------------------------------------------

OOM_MARKERS = ("CUDA out of memory", "OutOfMemoryError", "CUBLAS_STATUS_ALLOC_FAILED", "CUDNN_STATUS_ALLOC_FAILED")
OWN_SHARE_MARGIN = 0.9  # a run that reached 90 % of its share ran itself out of memory


class MemoryWatch:
    """The peak GPU memory of one sandbox's processes, sampled from NVML by the supervisor (root, outside
    the sandbox: nothing the run writes can change it), to tell whose out-of-memory a CUDA OOM was."""

    def __init__(self, nvml: Any, gpu: Gpu, pids: Any) -> None:
        self.nvml, self.gpu, self.pids = nvml, gpu, pids  # pids: () -> set of the sandbox's host pids
        self.peak_bytes = 0
        self._handle: Any = None

    def sample(self) -> None:
        try:
            if self._handle is None:
                self._handle = self._find_handle()
            mine = self.pids()
            used = sum(
                int(p.usedGpuMemory or 0)
                for p in self.nvml.nvmlDeviceGetComputeRunningProcesses(self._handle)
                if p.pid in mine
            )
        except Exception:  # noqa: BLE001 - a failed sample is no evidence either way
            return
        self.peak_bytes = max(self.peak_bytes, used)

    def _find_handle(self) -> Any:
        for index in range(self.nvml.nvmlDeviceGetCount()):
            handle = self.nvml.nvmlDeviceGetHandleByIndex(index)
            if int(self.nvml.nvmlDeviceGetMinorNumber(handle)) == self.gpu.minor:
                return handle
        raise LookupError(f"no GPU with minor number {self.gpu.minor}")


def oom_verdict(reason: str, log_tail: str, *, peak_bytes: int, share_bytes: int, shared: bool) -> str:
    """The reason of a CUDA run that failed: a CUDA out-of-memory on a GPU shared with other runs, while
    this run used well under its share (NVML's figures), is the platform's failure (a neighbour took
    the memory: retried, not counted); reaching its share is the run's own ``limit: gpu memory``."""
    if not any(marker in reason or marker in log_tail for marker in OOM_MARKERS):
        return reason
    gib = 1024**3
    used = f"{peak_bytes / gib:.1f} GB of its {share_bytes / gib:.1f} GB share"
    if shared and share_bytes and peak_bytes and peak_bytes < OWN_SHARE_MARGIN * share_bytes:
        return f"platform: another run on this GPU took its memory (this run used {used})"
    if share_bytes and peak_bytes:
        return f"limit: gpu memory (the run used {used})"
    return "limit: gpu memory"
