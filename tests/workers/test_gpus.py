"""A GPU node, faked (device nodes as files, a fake NVML, fake probes): which GPUs a worker finds, what
one run's sandbox gets of them, and the health gate that takes a broken GPU's worker off the queue."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings

from tests.workers.fake_nvml import FakeGpu, FakeNvml
from workers import control, gpus, sandbox, tasks
from workers.jobspec import Limits

GIB = 1024**3


@pytest.fixture
def dev(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A fake /dev holding the driver's control nodes and the given GPU nodes; no real NVML."""

    def make(*minors: int, mig_caps: bool = False) -> Path:
        folder = tmp_path / "dev"
        folder.mkdir(exist_ok=True)
        for name in ("nvidiactl", "nvidia-uvm", *(f"nvidia{n}" for n in minors)):
            (folder / name).touch()
        if mig_caps:
            (folder / "nvidia-caps").mkdir()
        monkeypatch.setenv("LAB_DEV_DIR", str(folder))
        return folder

    monkeypatch.setattr(gpus, "load_nvml", lambda: None)
    for name in ("LAB_GPU", "LAB_RUNS_PER_GPU", "LAB_GPU_PROBE", "LD_LIBRARY_PATH", "LAB_DRIVER_DIRS"):
        monkeypatch.delenv(name, raising=False)
    return make


def four_h100s(mig_on: int | None = None, lost: bool = False) -> FakeNvml:
    """What NVML answers on a node with four H100s (80 GB), one of them split into two MIG instances."""
    nodes = []
    for minor in range(4):
        mig = [FakeGpu(f"MIG-{minor}-{slot}", "MIG 3g.40gb", 0, 40 * GIB, minor=minor) for slot in range(2)]
        nodes.append(
            FakeGpu(f"GPU-{minor}-{minor}", "NVIDIA H100", 0, 80 * GIB, minor=minor, mig=mig if minor == mig_on else [])
        )
    return FakeNvml(*nodes, lost=lost)


def test_gpus_are_found_by_their_device_nodes_any_minor_number(dev) -> None:
    assert gpus.discover() == []
    dev(2, 7)  # a pod given GPUs 2 and 7 of its node: no /dev/nvidia0 at all
    assert [gpu.minor for gpu in gpus.discover()] == [2, 7]
    assert tasks._has_cuda()


def test_nvml_tells_uuids_memory_and_mig_instances_of_the_gpus_this_pod_has(dev) -> None:
    dev(1, 3)
    found = gpus.discover(four_h100s())
    assert [(gpu.minor, gpu.uuid, gpu.memory_bytes) for gpu in found] == [
        (1, "GPU-1-1", 80 * GIB),
        (3, "GPU-3-3", 80 * GIB),
    ]
    mig = gpus.discover(four_h100s(mig_on=3))
    assert [(gpu.minor, gpu.uuid, gpu.mig) for gpu in mig] == [
        (1, "GPU-1-1", False),
        (3, "MIG-3-0", True),
        (3, "MIG-3-1", True),
    ]
    assert [gpu.minor for gpu in gpus.discover(four_h100s(lost=True))] == [1, 3]  # NVML fails: the nodes


def test_a_cuda_sandbox_gets_its_own_gpu_node_only(dev, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    dev(0, 1, 2, 3, mig_caps=True)
    monkeypatch.setenv("LAB_GPU", gpus.Gpu(2, "GPU-2-2", 80 * GIB).to_env())
    backend = sandbox.BwrapBackend.__new__(sandbox.BwrapBackend)
    backend.bwrap = "/usr/bin/bwrap"
    limits = Limits(wall_seconds=60, memory_mb=8192, processes=256, output_bytes=65536, disk_mb=64)
    argv = backend._bwrap_argv(tmp_path, limits, "cuda", 9, {})
    bound = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--dev-bind"]
    assert bound == [str(tmp_path / "dev" / name) for name in ("nvidiactl", "nvidia-uvm", "nvidia2")]
    assert "CUDA_VISIBLE_DEVICES" in argv and argv[argv.index("CUDA_VISIBLE_DEVICES") + 1] == "GPU-2-2"
    cpu = backend._bwrap_argv(tmp_path, limits, "cpu", 9, {})
    assert "--dev-bind" not in cpu and "CUDA_VISIBLE_DEVICES" not in cpu
    monkeypatch.setenv("LAB_GPU", gpus.Gpu(3, "MIG-3-1", 40 * GIB, mig=True).to_env())
    mig = backend._bwrap_argv(tmp_path, limits, "cuda", 9, {})
    assert [mig[i + 1] for i, arg in enumerate(mig) if arg == "--dev-bind"][-2:] == [
        str(tmp_path / "dev" / "nvidia3"),
        str(tmp_path / "dev" / "nvidia-caps"),
    ]


def test_the_driver_is_found_where_the_platform_put_it(dev, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    dev(0)
    injected, empty = tmp_path / "nvidia" / "lib64", tmp_path / "elsewhere"
    injected.mkdir(parents=True)
    empty.mkdir()
    (injected / "libcuda.so.1").touch()
    monkeypatch.setenv("LD_LIBRARY_PATH", f"{empty}:{injected}")  # as GKE injects it
    assert gpus.driver_library_dirs()[0] == str(injected) and str(empty) not in gpus.driver_library_dirs()
    env = sandbox._sandbox_env("cuda")
    assert env["LD_LIBRARY_PATH"].split(":")[0] == str(injected)  # --clearenv no longer loses it
    assert gpus.driver_binds([str(injected), "/usr/lib/x86_64-linux-gnu"]) == [
        "--ro-bind",
        str(injected),
        str(injected),
    ]
    assert "LD_LIBRARY_PATH" not in sandbox._sandbox_env("cpu")


def test_gpu_runs_get_host_limits_cuda_fits_in_never_lower() -> None:
    small = Limits(wall_seconds=60, memory_mb=2048, processes=64, output_bytes=65536, disk_mb=64)
    raised = gpus.cuda_limits(small)
    assert (raised.memory_mb, raised.processes, raised.wall_seconds) == (6144, 256, 60)
    big = Limits(wall_seconds=60, memory_mb=16384, processes=512, output_bytes=65536, disk_mb=64)
    assert gpus.cuda_limits(big) == big


def test_a_shared_gpus_memory_is_shared_after_every_runs_context() -> None:
    h100 = gpus.Gpu(0, "GPU-0", 80 * GIB)
    assert gpus.memory_fraction(h100, 1) == 1.0
    two = gpus.memory_fraction(h100, 2)
    assert two == round((80 * GIB - 2 * 600 * 1024**2) / 2 / (80 * GIB), 4) and 2 * two < 1
    assert gpus.memory_fraction(gpus.Gpu(0), 2) == 0.45  # size unknown without NVML: a tenth set aside


def test_the_probe_reports_why_a_gpu_fails(dev, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    gpu = gpus.Gpu(4, "GPU-4-4")
    seen = tmp_path / "env.json"
    works = [sys.executable, "-c", f"import json, os; open({str(seen)!r}, 'w').write(json.dumps(dict(os.environ)))"]
    assert gpus.probe(gpu, works) is None
    assert json.loads(seen.read_text())["CUDA_VISIBLE_DEVICES"] == "GPU-4-4"  # the probe sees that GPU only
    broken = [sys.executable, "-c", "import sys; print('CUDA error: unknown error', file=sys.stderr); sys.exit(3)"]
    assert gpus.probe(gpu, broken) == "GPU 4: the probe failed (exit status 3): CUDA error: unknown error"
    monkeypatch.setenv("LAB_GPU_PROBE", "/bin/true")
    assert gpus.probe_command(sys.executable, None) == ["/bin/true"]
    monkeypatch.delenv("LAB_GPU_PROBE")
    command = gpus.probe_command("/opt/py/bin/python3", "/opt/lab-runtime")
    assert command[:3] == ["/opt/py/bin/python3", "-I", "-c"] and "site.addsitedir('/opt/lab-runtime')" in command[3]


class FakeConsumer:
    def __init__(self, queues: list[str]) -> None:
        self.task_consumer = SimpleNamespace(queues=[SimpleNamespace(name=name) for name in queues])
        self.hostname = "lab-gpu-1@node"
        self.app = SimpleNamespace(conf=SimpleNamespace(broker_url=settings.CELERY_BROKER_URL))
        self.cancelled: list[str] = []

    def cancel_task_queue(self, queue: str) -> None:
        self.cancelled.append(queue)


def test_a_broken_gpu_takes_its_worker_off_the_gpu_queue_and_says_why(dev, monkeypatch: pytest.MonkeyPatch) -> None:
    client = control.redis_client(settings.CELERY_BROKER_URL)
    client.delete(f"{control.GPU_HEALTH_PREFIX}lab-gpu-1@node")
    dev(0)
    monkeypatch.setenv("LAB_GPU_PROBE", "/bin/true")
    healthy = FakeConsumer(["gpu", "cpu"])
    tasks._gpu_health_gate(healthy)
    assert healthy.cancelled == [] and "lab-gpu-1@node" not in control.gpu_health_problems(client)
    monkeypatch.setenv("LAB_GPU_PROBE", "/bin/false")
    broken = FakeConsumer(["gpu", "cpu"])
    tasks._gpu_health_gate(broken)
    assert broken.cancelled == ["gpu"]  # it keeps its cpu jobs
    assert control.gpu_health_problems(client)["lab-gpu-1@node"] == "GPU 0: the probe failed (exit status 1): "
    cpu_only = FakeConsumer(["cpu"])
    tasks._gpu_health_gate(cpu_only)
    assert cpu_only.cancelled == []  # not a gpu worker: nothing to check


def test_the_supervisor_samples_its_runs_gpu_memory_from_nvml() -> None:
    # GPU 1's processes: the run's own (pids 101, 102) and a neighbour's (pid 900).
    nvml = four_h100s()
    gpu_1 = nvml.gpus[1]
    gpu_1.processes = {101: 2 * GIB, 102: GIB, 900: 30 * GIB}
    nvml.gpus[0].processes = {101: 70 * GIB}  # another GPU's figures are not this run's
    watch = gpus.MemoryWatch(nvml, gpus.Gpu(1, "GPU-1", 80 * GIB), lambda: {101, 102})
    watch.sample()
    gpu_1.processes = {101: GIB, 900: 38 * GIB}
    watch.sample()
    assert watch.peak_bytes == 3 * GIB  # its own processes only, the highest sample
    gpu_1.processes = None  # NVML fails: no evidence, the peak stays
    watch.sample()
    assert watch.peak_bytes == 3 * GIB


@pytest.mark.parametrize(
    ("peak", "shared", "verdict"),
    [
        (3, True, "platform: another run on this GPU took its memory (this run used 3.0 GB of its 39.4 GB share)"),
        (39, True, "limit: gpu memory (the run used 39.0 GB of its 39.4 GB share)"),
        (3, False, "limit: gpu memory (the run used 3.0 GB of its 39.4 GB share)"),
        (0, True, "limit: gpu memory"),  # no NVML figure: the learner's, as before
    ],
)
def test_a_cuda_out_of_memory_is_blamed_on_whoever_used_the_memory(peak: int, shared: bool, verdict: str) -> None:
    share = int(0.4925 * 80 * GIB)
    reason = "error: OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"
    assert gpus.oom_verdict(reason, "", peak_bytes=peak * GIB, share_bytes=share, shared=shared) == verdict
    other = "error: ValueError: bad shapes"
    assert gpus.oom_verdict(other, "", peak_bytes=peak * GIB, share_bytes=share, shared=shared) == other
