"""A lab worker's record: its GPUs read through NVML (a fake one here: no GPU in CI), and the
record's JSON, which the site reads back and must refuse when malformed."""

from __future__ import annotations

import pytest

from tests.workers.fake_nvml import FakeGpu, FakeNvml
from workers import gpu_stats
from workers.gpu_stats import GpuStat, WorkerRecord

H200 = FakeGpu(uuid="GPU-aaaa", name="NVIDIA H200", used=3 * 2**30, total=141 * 2**30, utilization_percent=37)


def test_each_gpu_reports_its_memory_in_bytes_and_its_utilisation_as_a_ratio() -> None:
    old = FakeGpu(uuid="GPU-bbbb", name=b"Tesla T4", used=0, total=16 * 2**30, utilization_percent=100)
    assert gpu_stats.gpus_read(FakeNvml(H200, old)) == [
        GpuStat(0, "GPU-aaaa", "NVIDIA H200", 3 * 2**30, 141 * 2**30, 0.37),
        GpuStat(1, "GPU-bbbb", "Tesla T4", 0, 16 * 2**30, 1.0),
    ]


def test_a_gpu_without_utilisation_keeps_its_memory_and_a_gpu_that_does_not_answer_is_left_out() -> None:
    mig = FakeGpu(uuid="GPU-mig", name="NVIDIA H200", used=1, total=2, utilization_percent=None)
    lost = FakeGpu(uuid="GPU-lost", name="NVIDIA H200", used=1, total=2, broken=True)
    stats = gpu_stats.gpus_read(FakeNvml(lost, mig))
    assert [(s.index, s.uuid, s.utilization_ratio) for s in stats] == [(1, "GPU-mig", None)]


def test_nvml_opens_only_where_it_starts_and_finds_a_gpu() -> None:
    nvml = FakeNvml(H200)
    assert gpu_stats.nvml_open(nvml) is nvml and nvml.initialised == 1
    no_gpu = FakeNvml()
    assert gpu_stats.nvml_open(no_gpu) is None and no_gpu.initialised == 0  # shut down again
    assert gpu_stats.nvml_open(FakeNvml(H200, fails_to_start=True)) is None


def test_only_a_worker_of_the_gpu_queue_reports_gpus_and_its_queues_are_read_at_each_record() -> None:
    client = object()  # record() does not touch the broker
    queues = ["gpu", "cpu"]
    worker = gpu_stats.Publisher(client, worker="lab@n1", queues=lambda: queues, nvml=FakeNvml(H200))
    assert worker.record() == WorkerRecord("lab@n1", ("cpu", "gpu"), (gpu_stats.gpus_read(FakeNvml(H200))[0],))

    queues.remove("gpu")  # its GPU failed the health check: it left the gpu queue
    assert worker.record() == WorkerRecord("lab@n1", ("cpu",), ())
    cpu_worker = gpu_stats.Publisher(client, worker="cpu@n1", queues=lambda: ["cpu"], nvml=FakeNvml(H200))
    assert cpu_worker.record().gpus == ()


def test_a_record_survives_its_json_round_trip() -> None:
    record = WorkerRecord(
        worker="gpu@n1",
        queues=("cpu", "gpu"),
        gpus=(GpuStat(0, "GPU-a", "H200", 1, 2, None), GpuStat(1, "b", "c", 0, 0, 0.5)),
    )
    assert WorkerRecord.from_dict(record.to_dict()) == record


GPU = {"index": 0, "uuid": "GPU-a", "name": "H200", "memory_used_bytes": 1, "memory_total_bytes": 2}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "record: must be an object"),
        ({"queues": ["gpu"]}, "worker: must be a non-empty string"),
        ({"worker": "", "queues": ["gpu"]}, "worker: must be a non-empty string"),
        ({"worker": "w", "queues": "gpu"}, "queues: must be a list of strings"),
        ({"worker": "w", "queues": ["gpu"], "gpus": {}}, "gpus: must be a list"),
        ({"worker": "w", "queues": ["gpu"], "gpus": [GPU] * (gpu_stats.MAX_GPUS + 1)}, "gpus: must be a list"),
        ({"worker": "w", "queues": ["gpu"], "gpus": [GPU, {**GPU, "uuid": "GPU-b"}]}, "an index appears twice"),
        ({"worker": "w", "queues": ["gpu"], "gpus": [[]]}, "gpu: must be an object"),
        ({"worker": "w", "queues": ["gpu"], "gpus": [{"index": 0}]}, "gpu: index and memory"),
        ({"worker": "w", "queues": ["gpu"], "gpus": [{**GPU, "index": -1}]}, "gpu: index and memory"),
        ({"worker": "w", "queues": ["gpu"], "gpus": [{**GPU, "index": True}]}, "gpu: index and memory"),
        ({"worker": "w", "queues": ["gpu"], "gpus": [{**GPU, "uuid": 1}]}, "gpu: uuid and name"),
        ({"worker": "w", "queues": ["gpu"], "gpus": [{**GPU, "utilization_ratio": "high"}]}, "utilization_ratio"),
        ({"worker": "w", "queues": ["gpu"], "gpus": [{**GPU, "utilization_ratio": float("nan")}]}, "utilization_ratio"),
    ],
)
def test_a_malformed_record_is_refused_naming_the_field(data: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WorkerRecord.from_dict(data)
