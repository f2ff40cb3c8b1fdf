"""A lab worker's pool is sized to the node: one slot per core, or per share of a GPU."""

from __future__ import annotations

import pytest

from workers import sandbox
from workers.sandbox import cpu_threads, gpu_of_slot, lab_slots


@pytest.fixture
def node(monkeypatch: pytest.MonkeyPatch, tmp_path: sandbox.Path):
    """A node with ``cpus`` usable CPUs and the device nodes of ``gpus`` (their minor numbers, or how
    many from 0) in a fake /dev; no NVML; the lab settings unset."""

    def make(cpus: int, gpus: int | list[int]) -> None:
        monkeypatch.setattr(sandbox, "cpu_count", lambda: cpus)
        dev = tmp_path / f"dev-{cpus}-{gpus}"
        dev.mkdir()
        for name in (
            "nvidiactl",
            "nvidia-uvm",
            *(f"nvidia{n}" for n in (range(gpus) if isinstance(gpus, int) else gpus)),
        ):
            (dev / name).touch()
        monkeypatch.setenv("LAB_DEV_DIR", str(dev))

    monkeypatch.setattr(sandbox.gpus, "load_nvml", lambda: None)
    for name in ("LAB_WORKER_CONCURRENCY", "LAB_RUNS_PER_GPU", "CUDA_VISIBLE_DEVICES", "LAB_CPU_THREADS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("LAB_WORKER_SLOTS", raising=False)
    return make


def test_a_cpu_node_takes_one_run_per_core(node) -> None:
    node(cpus=2, gpus=0)
    assert lab_slots() == 2
    node(cpus=16, gpus=0)
    assert lab_slots() == 16


def test_a_gpu_node_takes_runs_per_gpu_times_its_gpus(node, monkeypatch: pytest.MonkeyPatch) -> None:
    node(cpus=16, gpus=2)
    assert lab_slots() == 2
    monkeypatch.setenv("LAB_RUNS_PER_GPU", "3")
    assert lab_slots() == 6


def test_an_operator_setting_wins(node, monkeypatch: pytest.MonkeyPatch) -> None:
    node(cpus=16, gpus=2)
    monkeypatch.setenv("LAB_WORKER_CONCURRENCY", "5")
    assert lab_slots() == 5


def test_slots_go_round_the_gpus_each_with_its_share_of_memory(node, monkeypatch: pytest.MonkeyPatch) -> None:
    node(cpus=16, gpus=2)
    monkeypatch.setenv("LAB_RUNS_PER_GPU", "2")
    slots = [gpu_of_slot(i) for i in range(4)]
    assert [(gpu.minor, fraction) for gpu, fraction in slots] == [(0, 0.45), (1, 0.45), (0, 0.45), (1, 0.45)]
    node(cpus=16, gpus=[3, 5])  # a pod given GPUs 3 and 5 of its node sees only their device nodes
    assert [gpu_of_slot(i)[0].minor for i in range(3)] == [3, 5, 3]


def test_no_gpu_no_gpu_share(node) -> None:
    node(cpus=4, gpus=0)
    assert gpu_of_slot(0) is None


def test_each_slot_gets_half_its_share_of_the_cpus(node, monkeypatch: pytest.MonkeyPatch) -> None:
    node(cpus=16, gpus=0)
    monkeypatch.setenv("LAB_WORKER_SLOTS", "1")
    assert cpu_threads() == 8  # one slot: half the node, the other half for its warm replacement
    monkeypatch.setenv("LAB_WORKER_SLOTS", "4")
    assert cpu_threads() == 2
    monkeypatch.setenv("LAB_WORKER_SLOTS", "16")
    assert cpu_threads() == 1
    monkeypatch.setenv("LAB_CPU_THREADS", "3")
    assert cpu_threads() == 3


@pytest.mark.parametrize(("cpu_max", "expected"), [("max 100000", 4), ("200000 100000", 2), ("50000 100000", 1)])
def test_the_cpu_count_respects_a_container_quota(
    monkeypatch: pytest.MonkeyPatch, tmp_path: sandbox.Path, cpu_max: str, expected: int
) -> None:
    monkeypatch.setattr(sandbox.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    (tmp_path / "cpu.max").write_text(cpu_max + "\n")
    monkeypatch.setattr(sandbox, "CGROUP_CPU_MAX", str(tmp_path / "cpu.max"))
    assert sandbox.cpu_count() == expected


def test_the_pods_cpu_limit_caps_the_cpus_where_no_quota_says_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: sandbox.Path
) -> None:
    monkeypatch.setattr(sandbox.os, "sched_getaffinity", lambda pid: set(range(64)))  # a big shared node
    monkeypatch.setattr(sandbox, "CGROUP_CPU_MAX", str(tmp_path / "absent"))
    monkeypatch.setenv("LAB_CPU_LIMIT_MILLICORES", "8000")
    assert sandbox.cpu_count() == 8
    monkeypatch.setenv("LAB_CPU_LIMIT_MILLICORES", "500")
    assert sandbox.cpu_count() == 1
