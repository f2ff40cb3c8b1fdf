"""One lab job through ``workers.runner.execute_job``, its result printed as JSON.

``tests/deploy/test_pod_posture.py`` starts this under the posture of the lab worker pods (their
capabilities only, no_new_privs, their seccomp profile): standard library, numpy and ``workers``
only. Usage: ``python posture_job.py WORK_DIR KIND`` with KIND ``train``, ``train-cuda``, ``fork-bomb`` or
``memory-bomb``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

from workers.jobspec import DatasetRef, JobSpec, Limits
from workers.runner import execute_job

CODE = {
    "train": (
        "import torch\n"
        "def train(data, run):\n"
        "    model = torch.nn.Linear(4, data.num_classes)\n"
        "    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)\n"
        "    for epoch in range(20):\n"
        "        optimizer.zero_grad()\n"
        "        loss = torch.nn.functional.cross_entropy(model(data.x_train), data.y_train)\n"
        "        loss.backward()\n"
        "        optimizer.step()\n"
        "        run.log(epoch, loss=loss)\n"
        "    return model\n"
        "def predict(model, x):\n"
        "    return model(x).argmax(dim=1)\n"
    ),
    "train-cuda": (
        "import torch\n"
        "def train(data, run):\n"
        "    assert run.device == 'cuda' and torch.cuda.is_available()\n"
        "    model = torch.nn.Linear(4, data.num_classes).to(run.device)\n"
        "    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)\n"
        "    x, y = data.x_train.to(run.device), data.y_train.to(run.device)\n"
        "    for epoch in range(20):\n"
        "        optimizer.zero_grad()\n"
        "        loss = torch.nn.functional.cross_entropy(model(x), y)\n"
        "        loss.backward()\n"
        "        optimizer.step()\n"
        "    return model\n"
        "def predict(model, x):\n"
        "    return model(x.to('cuda')).argmax(dim=1).cpu()\n"
    ),
    "fork-bomb": "import os\ndef train(data, run):\n    while True:\n        os.fork()\n",
    "memory-bomb": "hog = []\ndef train(data, run):\n    while True:\n        hog.append(bytearray(50_000_000))\n",
}
PREDICT_NOTHING = "def predict(model, x):\n    return [0] * len(x)\n"


def dataset(folder: Path) -> DatasetRef:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(300, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    path = folder / "blobs.npz"
    np.savez(path, x_train=x[:200], y_train=y[:200], x_test=x[200:], num_classes=np.array(2))
    return DatasetRef(sha256=hashlib.sha256(path.read_bytes()).hexdigest(), url=path.as_uri())


def main(work: Path, kind: str) -> None:
    code = CODE[kind] if kind.startswith("train") else CODE[kind] + PREDICT_NOTHING
    device = "cuda" if kind == "train-cuda" else "cpu"
    limits = Limits(wall_seconds=60, memory_mb=512, processes=32, output_bytes=16 * 1024, disk_mb=64)
    spec = JobSpec(
        run_id=1, token="posture", code=code, params={}, seed=1, device=device, limits=limits, dataset=dataset(work)
    )
    result = execute_job(spec, on_progress=lambda batch: None, should_cancel=lambda: False)
    print(
        json.dumps({"state": result.state, "reason": result.reason, "sandbox": result.sandbox, "log": result.log_tail})
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
