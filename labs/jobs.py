"""The message a lab worker receives: built from a Run, validated by ``workers.jobspec``."""

from __future__ import annotations

from typing import Any

from labs.datasets import dataset_url
from labs.models import DeviceClass, Run
from workers.jobspec import DatasetRef, JobSpec, Limits

TASK_NAME = "workers.tasks.run_lab_job"


def job_spec(run: Run) -> dict[str, Any]:
    lab = run.submission.lab
    spec = JobSpec(
        run_id=run.pk,
        token=run.token,
        code=run.submission.code,
        params=run.submission.params,
        seed=run.seed,
        device="cuda" if lab.device_class == DeviceClass.GPU else "cpu",
        limits=Limits(
            wall_seconds=lab.wall_seconds,
            memory_mb=lab.memory_mb,
            processes=lab.processes,
            output_bytes=lab.output_bytes,
            disk_mb=lab.disk_mb,
        ),
        dataset=DatasetRef(sha256=run.dataset.sha256, url=dataset_url(run.dataset)),
    )
    return spec.to_dict()


def queue_for(run: Run) -> str:
    return run.submission.lab.device_class
