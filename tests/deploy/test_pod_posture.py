"""The lab worker pods' security posture runs real sandboxed lab jobs.

deploy/k8s/worker-*.yaml are not privileged: every capability dropped but a few, no_new_privs,
an unmasked /proc, and the Localhost seccomp profile deploy/seccomp/lab-worker.json. Here lab jobs
run through ``workers.runner`` under exactly those settings, read from the manifests: the
capabilities as the bounding set (what a container runtime sets), no_new_privs, the seccomp
profile loaded with libseccomp, in a mount namespace of their own. The job folders and Python are
reachable by other uids, as in the worker image (/data/lab-jobs 0711, Python in /usr/local).

What this machine cannot show: the pod's own user namespace (hostUsers: false) and the cgroup v2
tree the runtime delegates (the entrypoint's nesting); the cgroups here are the host's.
Needs root, bubblewrap, util-linux (unshare, setpriv), libseccomp and the lab runtime; skipped
elsewhere.
"""

from __future__ import annotations

import ctypes.util
import glob
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from workers import runtime, sandbox
from workers.sandbox_launcher import blocking_ancestor

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PROFILE = REPO / "deploy" / "seccomp" / "lab-worker.json"
LAB_POOLS = ("worker-cpu.yaml", "worker-gpu-h100.yaml")
SLOT = "14"  # a worker slot of its own: sandbox uids and cgroups apart from other tests'


def _unavailable() -> str | None:
    if os.geteuid() != 0:
        return "needs root"
    missing = [tool for tool in ("bwrap", "unshare", "setpriv", "mount") if shutil.which(tool) is None]
    if missing:
        return f"needs {', '.join(missing)}"
    if ctypes.util.find_library("seccomp") is None:
        return "needs libseccomp"
    if runtime.site_packages() is None:
        return "needs the lab runtime (python -m workers.runtime build)"
    return sandbox.BwrapBackend().unavailable_reason()


pytestmark = pytest.mark.skipif(_unavailable() is not None, reason=f"no sandbox here: {_unavailable()}")


def worker_container(manifest: str) -> dict:
    deployment = yaml.safe_load((REPO / "deploy" / "k8s" / manifest).read_text())
    return deployment["spec"]["template"]["spec"]["containers"][0]


def pod_capabilities() -> list[str]:
    """The capabilities the lab pods add (all drop ALL); both pools grant the same."""
    added = {tuple(sorted(worker_container(m)["securityContext"]["capabilities"]["add"])) for m in LAB_POOLS}
    assert len(added) == 1, f"the lab pools differ in capabilities: {added}"
    return list(added.pop())


def reachable_setup(uid: int) -> list[str]:
    """Shell lines that make Python and the lab runtime reachable by ``uid``, as in the image.

    On a developer machine Python may live under /root (0700); in the image it is /usr/local. A
    0755 tmpfs over the untraversable folder with the needed paths bound back, in this job's
    mount namespace only (the sandbox launcher would need CAP_SYS_ADMIN to do it, which the pod
    does not have).
    """
    # Python, the lab runtime and this checkout (its venv runs the job; a fresh clone may sit in a
    # 0700 temporary folder), each once: a folder nested in another comes with it.
    wanted = sorted({*sandbox._python_roots(), str(runtime.runtime_dir()), str(REPO)})
    wanted = [path for path in wanted if not any(path.startswith(other + "/") for other in wanted)]
    inside: dict[str, list[str]] = {}
    for path in wanted:
        top = blocking_ancestor(path + "/x", uid, uid)
        if top is not None:
            inside.setdefault(top, []).append(path)
    lines = []
    for number, (top, paths) in enumerate(inside.items()):
        keep = f"/tmp/posture-keep{number}"  # a mount point, in a private mount namespace
        lines += [
            f"mkdir -p {keep} && mount --bind {shlex.quote(top)} {keep}",
            f"mount -t tmpfs -o mode=0755 tmpfs {shlex.quote(top)}",
        ]
        lines += [
            f"mkdir -p {shlex.quote(path)} && mount --rbind {keep}/{shlex.quote(os.path.relpath(path, top))} "
            f"{shlex.quote(path)}"
            for path in paths
        ]
    return lines


@pytest.fixture
def work() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="posture-"))
    folder.chmod(0o711)
    for name in ("jobs", "cache"):
        (folder / name).mkdir()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def run_under_posture(work: Path, kind: str, *, masked_proc: bool = False) -> dict:
    """Run posture_job.py ``kind`` with the pods' capabilities, no_new_privs and seccomp profile."""
    uid = int(os.environ.get("LAB_SANDBOX_UID_BASE", "61000")) + sandbox.UIDS_PER_SLOT * int(SLOT)
    setup = reachable_setup(uid)
    if masked_proc:  # what the runtime does without procMount: Unmasked
        setup += ["mount --bind /proc/sys /proc/sys", "mount -o remount,bind,ro /proc/sys"]
    bounding = ",".join(["-all", *(f"+{cap.lower()}" for cap in pod_capabilities())])
    command = [
        "setpriv", "--no-new-privs", f"--bounding-set={bounding}", "--",
        sys.executable, str(HERE / "seccomp_exec.py"), str(PROFILE),
        sys.executable, str(HERE / "posture_job.py"), str(work), kind,
    ]  # fmt: skip
    script = "set -e\n" + "\n".join(setup) + "\nexec " + shlex.join(command)
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "LAB_SANDBOX": "bwrap",  # the strong sandbox or a failure, never the development fallback
        "LAB_WARM_POOL": "0",
        "LAB_WORKER_SLOT": SLOT,
        "LAB_JOBS_DIR": str(work / "jobs"),
        "LAB_CACHE_DIR": str(work / "cache"),
        "LAB_RUNTIME_DIR": str(runtime.runtime_dir()),
    }
    done = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_pods_grant_no_sys_admin_and_the_rest_is_the_supervisors() -> None:
    assert "SYS_ADMIN" not in pod_capabilities()
    for manifest in LAB_POOLS:
        context = worker_container(manifest)["securityContext"]
        assert context["capabilities"]["drop"] == ["ALL"]
        assert context["allowPrivilegeEscalation"] is False
        assert context["seccompProfile"]["localhostProfile"].endswith(PROFILE.name)


def test_a_training_run_succeeds_in_the_sandbox_under_the_lab_pod_posture(work: Path) -> None:
    result = run_under_posture(work, "train")
    assert (result["state"], result["reason"]) == ("succeeded", None), result["log"]
    assert result["sandbox"] == sandbox.BWRAP_NAME


def test_the_run_cgroups_still_stop_fork_and_memory_bombs_under_the_posture(work: Path) -> None:
    fork_bomb = run_under_posture(work, "fork-bomb")
    assert (fork_bomb["state"], fork_bomb["reason"]) == ("failed", "limit: processes"), fork_bomb["log"]
    memory_bomb = run_under_posture(work, "memory-bomb")
    assert (memory_bomb["state"], memory_bomb["reason"]) == ("failed", "limit: memory"), memory_bomb["log"]


def test_the_runtimes_default_proc_would_stop_every_sandbox(work: Path) -> None:
    # Why procMount: Unmasked: bubblewrap's --disable-userns writes the sandbox's own
    # user.max_user_namespaces, which a read-only /proc/sys refuses.
    result = run_under_posture(work, "train", masked_proc=True)
    assert result["state"] == "failed"
    assert "max_user_namespaces" in result["reason"] + result["log"]


@pytest.mark.gpu
@pytest.mark.skipif(not glob.glob("/dev/nvidia[0-9]*"), reason="needs an NVIDIA GPU")
def test_a_cuda_run_succeeds_under_the_gpu_pod_posture(work: Path) -> None:
    # The GPU pool's extra: the device nodes bound in, a fresh /proc of the run's pid namespace.
    result = run_under_posture(work, "train-cuda")
    assert (result["state"], result["reason"]) == ("succeeded", None), result["log"]
