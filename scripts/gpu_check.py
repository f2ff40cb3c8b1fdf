"""GPU check of the lab runner, for a machine with a CUDA device (`make gpu-check`).

Standard library, numpy and torch only (no Django): it runs on a bare GPU node as well as here.
Prints one line per check, ``CHECK <name> ok|FAILED|skipped <details>``, then the figures:

1. ``cuda_without_proc`` (information): CUDA training in a mount namespace whose /proc holds
   only cpuinfo and /proc/driver/nvidia, as a CPU run's sandbox (which has no /proc). On the
   H200 node it fails (the driver reads the process's own /proc/<pid>): CUDA runs get their
   pid namespace's own /proc (workers/sandbox.py).
2. ``runner_cuda``: digits-cnn's reference solution through ``workers.runner.execute_job`` on
   ``cuda``, with the strongest sandbox that works on this machine (bwrap, else the development
   one), a fresh sandbox and then a warm one; accuracy on the hidden labels and times.

Without a CUDA device every check says ``skipped`` and the exit status is 0.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TRAIN_ON_CUDA = """
import torch
x = torch.randn(4096, 64, device="cuda"); y = (x.sum(1) > 0).long()
model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 2)).cuda()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
for _ in range(200):
    optimizer.zero_grad(); loss = torch.nn.functional.cross_entropy(model(x), y); loss.backward(); optimizer.step()
print("trained on", torch.cuda.get_device_name(0), "loss", round(loss.item(), 4))
"""

HIDE_PROC = """
set -e
mkdir -p /tmp/keep/driver /tmp/keep/cpu && touch /tmp/keep/cpu/cpuinfo
mount --bind /proc/cpuinfo /tmp/keep/cpu/cpuinfo
if [ -d /proc/driver/nvidia ]; then mount --bind /proc/driver/nvidia /tmp/keep/driver; fi
mount -t tmpfs none /proc
touch /proc/cpuinfo && mount --bind /tmp/keep/cpu/cpuinfo /proc/cpuinfo
mkdir -p /proc/driver/nvidia && mount --bind /tmp/keep/driver /proc/driver/nvidia
echo "/proc now holds: $(ls /proc)"
exec "$@"
"""


def check(name: str, status: str, details: str = "") -> None:
    print(f"CHECK {name} {status} {details}".rstrip(), flush=True)


def cuda_without_proc() -> None:
    if shutil.which("unshare") is None:
        check("cuda_without_proc", "skipped", "no unshare(1) here")
        return
    command = ["unshare", "--mount", "--propagation", "private", "--fork", "sh", "-c", HIDE_PROC, "hide-proc"]
    done = subprocess.run([*command, sys.executable, "-c", TRAIN_ON_CUDA], capture_output=True, text=True)
    output = (done.stdout + done.stderr).strip().replace("\n", " | ")[-1500:]
    works = done.returncode == 0 and "trained on" in done.stdout
    check("cuda_without_proc", "info", f"CUDA {'works' if works else 'fails'} without /proc: {output}")


def _digits_dataset(folder: Path) -> tuple[Path, object, int]:
    import numpy as np

    from labs.demo import build_dataset

    data = build_dataset("digits-cnn")
    path = folder / "digits.npz"
    arrays = {key: getattr(data, key) for key in ("x_train", "y_train", "x_val", "y_val", "x_test")}
    np.savez(path, **arrays, num_classes=np.array(data.num_classes))
    return path, data.y_test, len(data.x_test)


def _runtime_from_this_python(folder: Path) -> None:
    """A lab runtime made of this interpreter's own packages (the node's torch with CUDA)."""
    import torch

    runtime = folder / "lab-runtime"
    runtime.mkdir()
    (runtime / "site-packages").symlink_to(Path(torch.__file__).resolve().parent.parent)
    (runtime / ".built").write_text("gpu check: this interpreter's site-packages\n")
    os.environ["LAB_RUNTIME_DIR"] = str(runtime)


def runner_cuda(folder: Path) -> dict:
    import numpy as np

    from workers import warm
    from workers.jobspec import DatasetRef, JobSpec, Limits
    from workers.runner import execute_job
    from workers.sandbox import select_backend

    os.environ.setdefault("LAB_JOBS_DIR", str(folder / "jobs"))
    os.environ.setdefault("LAB_LOCK_DIR", str(folder / "locks"))
    os.environ["LAB_WARM_DEVICE"] = "cuda"
    _runtime_from_this_python(folder)
    dataset, y_test, rows = _digits_dataset(folder)
    try:
        backend = select_backend()
    except Exception as exc:  # noqa: BLE001 - report and fall back to the development sandbox
        print(f"bwrap sandbox unavailable here: {exc}")
        os.environ["LAB_SANDBOX"] = "dev"
        backend = select_backend()
    figures: dict = {"sandbox": backend.name}
    for attempt, pool_size in (("fresh", "0"), ("warm", "1")):
        os.environ["LAB_WARM_POOL"] = pool_size
        if pool_size == "1":
            pool = warm.get_default_pool(backend)
            pool.wait_settled(300, ready=True)
        spec = JobSpec(
            run_id=1,
            token=f"gpu-check-{attempt}",
            code=(REPO / "labs/demo/digits-cnn/solution.py").read_text(),
            params={},
            seed=0,
            device="cuda",
            limits=Limits(wall_seconds=300, memory_mb=16384, processes=256, output_bytes=1_000_000, disk_mb=512),
            dataset=DatasetRef(sha256=hashlib.sha256(dataset.read_bytes()).hexdigest(), url=dataset.as_uri()),
        )
        started = time.monotonic()
        result = execute_job(spec, on_progress=lambda _events: None, should_cancel=lambda: False)
        seconds = time.monotonic() - started
        ok = result.state == "succeeded" and result.predictions is not None and len(result.predictions) == rows
        accuracy = float(np.mean(np.array(result.predictions) == y_test)) if ok else None
        details = f"{backend.name}, {seconds:.2f} s, state {result.state}, reason {result.reason}, accuracy {accuracy}"
        if not ok:
            details += f" | log: {result.log_tail[-1500:]!r}"
        check(f"runner_cuda_{attempt}", "ok" if ok and accuracy >= 0.97 else "FAILED", details)
        figures[attempt] = {"seconds": round(seconds, 2), "accuracy": accuracy, "warm_start": result.warm_start}
    warm.shutdown_default_pool()
    return figures


def main() -> int:
    try:
        import torch
    except ImportError:
        check("cuda", "skipped", "torch is not installed")
        return 0
    if not torch.cuda.is_available():
        check("cuda", "skipped", "no CUDA device on this machine")
        return 0
    check("cuda", "ok", f"{torch.cuda.get_device_name(0)}, torch {torch.__version__}, CUDA {torch.version.cuda}")
    cuda_without_proc()
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as temporary:
        folder = Path(temporary)
        os.chmod(folder, 0o755)  # noqa: S103 - the sandbox uids traverse it to their folders
        figures = runner_cuda(folder)
    print("FIGURES " + json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
