"""GPU check of the lab runner, for a machine with a CUDA device (`make gpu-check`).

Standard library, numpy and torch only (no Django): it runs on a bare GPU node as well as here.
Prints one line per check, ``CHECK <name> ok|FAILED|skipped <details>``, then the figures:

1. ``cuda_without_proc`` (information): CUDA training in a mount namespace whose /proc holds
   only cpuinfo and /proc/driver/nvidia, as a CPU run's sandbox (which has no /proc). On the
   H200 node it fails (the driver reads the process's own /proc/<pid>): CUDA runs get their
   pid namespace's own /proc (workers/sandbox.py).
2. each ``gpu`` demo lab (digits-cnn, transformer-addition, finetune-lora): its reference solution
   through ``workers.runner.execute_job`` on ``cuda``, with the strongest sandbox that works on this
   machine (bwrap, else the development one, said in the output), in a fresh sandbox and then a warm
   one; its score on the hidden labels. ``G1``: the platform's share of a warm run's wall time
   (everything before learner code starts ÷ the run's wall time; goal < 5 %). ``G3``: the warm
   sandbox's start (job handed over → learner code running).
3. ``G2``: four digits-cnn runs at once on one GPU, each with its memory share (``workers.gpus``),
   against one run alone: total throughput ÷ one run's, and whether all passed.

Needs only the standard library, numpy and torch, plus this repository (the lab folders it reads use
numpy only; Pillow is needed only by ``images`` labs, none of which is a gpu lab). It finishes in a few
minutes. Without a CUDA device every check says ``skipped`` and the exit status is 0; ``--cpu`` runs
the same checks on the CPU (to prove the script on a machine without a GPU).
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


GPU_LABS = ("digits-cnn", "transformer-addition", "finetune-lora")  # the demo labs of device class gpu


def _lab_dataset(folder: Path, slug: str) -> tuple[Path, object, object]:
    """The lab's public .npz as the site stores it (its [files] included) and the lab folder."""
    import numpy as np

    from labs.demo import demo_lab

    lab = demo_lab(slug)
    data = lab.data
    arrays = {key: getattr(data, key) for key in ("x_train", "y_train", "x_val", "y_val", "x_test")}
    if data.num_classes is not None:
        arrays["num_classes"] = np.array(data.num_classes)
    arrays["meta_json"] = np.array(json.dumps(data.meta))
    arrays |= {f"files/{name}": np.frombuffer(payload, dtype=np.uint8) for name, payload in lab.files.items()}
    path = folder / f"{slug}.npz"
    np.savez(path, **arrays)
    return path, data.y_test, lab


def _runtime_from_this_python(folder: Path) -> None:
    """A lab runtime made of this interpreter's own packages (the node's torch with CUDA)."""
    import torch

    runtime = folder / "lab-runtime"
    runtime.mkdir(exist_ok=True)
    if not (runtime / "site-packages").exists():
        (runtime / "site-packages").symlink_to(Path(torch.__file__).resolve().parent.parent)
    (runtime / ".built").write_text("gpu check: this interpreter's site-packages\n")
    os.environ["LAB_RUNTIME_DIR"] = str(runtime)


def _spec(slug: str, lab: object, dataset: Path, device: str, token: str) -> object:
    from workers.jobspec import DatasetRef, JobSpec, Limits

    return JobSpec(
        run_id=1,
        token=token,
        code=lab.solution_code,
        params={},
        seed=0,
        device=device,
        limits=Limits(wall_seconds=600, memory_mb=16384, processes=256, output_bytes=1_000_000, disk_mb=512),
        dataset=DatasetRef(sha256=hashlib.sha256(dataset.read_bytes()).hexdigest(), url=dataset.as_uri()),
    )


def _run(spec: object, y_test: object, lab: object) -> dict:
    """One job through the real runner: its wall time, when learner code started, its score."""
    from labs.scoring import score
    from workers.runner import execute_job

    started = time.monotonic()
    user_code: list[float] = []

    def on_progress(events: list[dict]) -> None:
        # A metrics event's "t" counts from the moment learner code got the run: arrival - t is when
        # learner code started, give or take the batching (the earliest estimate is the closest).
        arrived = time.monotonic() - started
        user_code.extend(arrived - e["t"] for e in events if e.get("kind") == "metrics" and "t" in e)

    result = execute_job(spec, on_progress=on_progress, should_cancel=lambda: False)
    seconds = time.monotonic() - started
    value = None
    if result.state == "succeeded" and result.predictions is not None:
        value = score(lab.definition["metric"], y_test, result.predictions, options=lab.metric_options)
    return {
        "seconds": round(seconds, 2),
        "state": result.state,
        "reason": result.reason,
        "score": value,
        "passed": value is not None and value >= lab.definition["threshold"],
        "to_user_code_s": round(min(user_code), 3) if user_code else None,
        "warm_start": result.warm_start,
        "log": result.log_tail[-800:],
    }


def runner_gpu_labs(folder: Path, device: str) -> dict:
    """G1 and G3 per gpu lab (a fresh sandbox, then a warm one), G2 for digits-cnn."""
    from workers import warm
    from workers.sandbox import select_backend

    os.environ.setdefault("LAB_JOBS_DIR", str(folder / "jobs"))
    os.environ.setdefault("LAB_LOCK_DIR", str(folder / "locks"))
    os.environ["LAB_WARM_DEVICE"] = device
    if device == "cuda":
        _runtime_from_this_python(folder)
    try:
        backend = select_backend()
    except Exception as exc:  # noqa: BLE001 - report and fall back to the development sandbox
        print(f"bwrap sandbox unavailable here: {exc}")
        os.environ["LAB_SANDBOX"] = "dev"
        backend = select_backend()
    check("sandbox", "info", backend.name)
    figures: dict = {"sandbox": backend.name, "device": device, "labs": {}}
    for slug in GPU_LABS:
        dataset, y_test, lab = _lab_dataset(folder, slug)
        runs = {}
        for attempt, pool_size in (("fresh", "0"), ("warm", "1")):
            os.environ["LAB_WARM_POOL"] = pool_size
            warm.shutdown_default_pool()
            if pool_size == "1":
                warm.get_default_pool(backend).wait_settled(300, ready=True)
            runs[attempt] = run = _run(_spec(slug, lab, dataset, device, f"gpu-check-{slug}-{attempt}"), y_test, lab)
            details = {k: v for k, v in run.items() if k != "log"}
            check(
                f"{slug}_{attempt}",
                "ok" if run["passed"] else "FAILED",
                json.dumps(details) + ("" if run["passed"] else f" | log: {run['log']!r}"),
            )
        warm.shutdown_default_pool()
        fresh, warm_run = runs["fresh"], runs["warm"]
        # G1: what the platform adds to a warm run: everything before learner code starts.
        share = warm_run["to_user_code_s"] / warm_run["seconds"] if warm_run["to_user_code_s"] else None
        figures["labs"][slug] = {
            "fresh": {k: v for k, v in fresh.items() if k != "log"},
            "warm": {k: v for k, v in warm_run.items() if k != "log"},
            "G1_platform_share": round(share, 4) if share is not None else None,
            "G3_warm_start_s": warm_run["to_user_code_s"],
        }
        print(f"G1 {slug} {figures['labs'][slug]['G1_platform_share']}", flush=True)
        print(f"G3 {slug} {warm_run['to_user_code_s']} s (fresh: {fresh['to_user_code_s']} s)", flush=True)
    figures["G2"] = shared_gpu(folder, backend, device)
    return figures


def shared_gpu(folder: Path, backend: object, device: str, runs: int = 4) -> dict:
    """G2: ``runs`` digits-cnn runs at once on one GPU, each with its memory share (workers.gpus), against
    one run alone: total throughput ratio and whether every run passed."""
    from concurrent.futures import ThreadPoolExecutor

    from workers import gpus

    dataset, y_test, lab = _lab_dataset(folder, "digits-cnn")
    os.environ["LAB_WARM_POOL"] = "0"
    found = gpus.discover()
    if found:
        os.environ[gpus.SLOT_ENV] = found[0].to_env()
        os.environ["LAB_GPU_MEMORY_FRACTION"] = str(gpus.memory_fraction(found[0], runs))
    alone = _run(_spec("digits-cnn", lab, dataset, device, "gpu-check-alone"), y_test, lab)
    started = time.monotonic()
    with ThreadPoolExecutor(runs) as pool:
        together = list(
            pool.map(
                lambda i: _run(_spec("digits-cnn", lab, dataset, device, f"gpu-check-shared-{i}"), y_test, lab),
                range(runs),
            )
        )
    seconds = time.monotonic() - started
    ratio = runs * alone["seconds"] / seconds
    passed = all(run["passed"] for run in together)
    check("G2", "ok" if passed else "FAILED", f"{runs} runs on one GPU: throughput {ratio:.2f}x one run alone")
    print(f"G2 {runs} runs/GPU, throughput {ratio:.2f}x, all passed: {passed}", flush=True)
    return {
        "runs": runs,
        "fraction": os.environ.get("LAB_GPU_MEMORY_FRACTION"),
        "alone_s": alone["seconds"],
        "together_s": round(seconds, 2),
        "throughput_ratio": round(ratio, 2),
        "all_passed": passed,
        "reasons": [run["reason"] for run in together if not run["passed"]],
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    dry_run = "--cpu" in argv  # the same checks on the CPU: proves the script itself on a machine without a GPU
    try:
        import torch
    except ImportError:
        check("cuda", "skipped", "torch is not installed")
        return 0
    if not torch.cuda.is_available() and not dry_run:
        check("cuda", "skipped", "no CUDA device on this machine (`--cpu` runs the same checks on the CPU)")
        return 0
    device = "cpu" if dry_run else "cuda"
    if device == "cuda":
        check("cuda", "ok", f"{torch.cuda.get_device_name(0)}, torch {torch.__version__}, CUDA {torch.version.cuda}")
        cuda_without_proc()
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as temporary:
        folder = Path(temporary)
        os.chmod(folder, 0o755)  # noqa: S103 - the sandbox uids traverse it to their folders
        figures = runner_gpu_labs(folder, device)
    print("FIGURES " + json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
