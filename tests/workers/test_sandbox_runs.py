"""Real runs through the bubblewrap sandbox: torch training, limits, isolation, clean-up.

Every test here starts learner code for real (as root with bubblewrap and cgroups; skipped
elsewhere). Most runs take a warm sandbox from the pool, which keeps the suite fast; the last
test runs without the pool.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

import workers
from tests.workers.conftest import (
    TEST_ROWS,
    Execution,
    leftover_processes,
    make_spec,
    needs_bwrap,
    own_run_cgroups,
    sandbox_uids,
)
from workers import jobdirs, warm
from workers.runner import execute_job
from workers.sandbox import BWRAP_NAME, Sandbox, select_backend

pytestmark = needs_bwrap
REPO = Path(workers.__file__).resolve().parent.parent

GOOD_CODE = """
import os, time
import torch

def train(data, run):
    print("training on", tuple(data.x_train.shape), "classes", data.num_classes, "meta", data.meta["task"])
    print("score: 1.0")  # printed text never becomes a result
    print("time left", round(run.time_left()))
    model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, data.num_classes))
    optimizer = torch.optim.Adam(model.parameters(), lr=run.params["lr"])
    for epoch in range(run.params["epochs"]):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(data.x_train), data.y_train)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            val_accuracy = (model(data.x_val).argmax(1) == data.y_val).float().mean()
        run.log(epoch, loss=loss, val_accuracy=val_accuracy, accuracy=1.0)
        time.sleep(0.05)
    # Try to forge events on every inherited pipe: there is no event that can carry a result.
    for fd in range(3, 20):
        try:
            os.write(fd, b'{"kind": "result", "state": "succeeded", "score": 1.0}\\n')
        except OSError:
            pass
    return model

def predict(model, x):
    return model(x).argmax(dim=1)
"""


def true_test_labels(dataset_url: str) -> np.ndarray:
    with np.load(dataset_url.removeprefix("file://")) as archive:
        x_test = archive["x_test"]
    return (x_test[:, 0] + 0.5 * x_test[:, 1] > 0).astype(np.int64)


def test_training_run_succeeds_with_predictions_metrics_and_output(
    run_lab: Callable[..., Execution], dataset, lab_dirs: dict[str, Path]
) -> None:
    outcome = run_lab(GOOD_CODE)
    result = outcome.result
    assert result.state == "succeeded", (result.reason, result.log_tail)
    assert result.reason is None
    assert len(result.predictions) == TEST_ROWS
    accuracy = np.mean(np.array(result.predictions) == true_test_labels(dataset.url))
    assert accuracy > 0.8
    assert result.sandbox == BWRAP_NAME and result.device == "cpu"
    assert result.torch_version.startswith("2.")
    assert result.started_at.endswith("Z") and result.finished_at >= result.started_at
    assert result.duration_s > 0
    json.dumps(result.to_dict())  # JSON-able as it is

    # run.log(step, accuracy=1.0) streamed a metric and changed nothing else.
    steps = [event["step"] for event in outcome.metrics]
    assert steps == [float(step) for step in range(30)]
    assert set(outcome.metrics[0]["metrics"]) == {"loss", "val_accuracy", "accuracy"}
    assert all(event["metrics"]["accuracy"] == 1.0 for event in outcome.metrics)
    assert all(event["t"] >= 0 for event in outcome.metrics)
    assert "score" not in result.to_dict() and "result" not in {e["kind"] for e in outcome.events}

    assert "training on (240, 4) classes 2 meta blobs" in outcome.output
    assert "time left 10" in outcome.output
    assert "training on" in result.log_tail
    assert result.warm_start  # the session's warm pool served it
    # The run's folder is gone: only idle warm members' folders remain.
    assert all(p.name.startswith("warm-") for p in lab_dirs["jobs"].iterdir())  # its job folder is gone

    # Progress is batched: never two deliveries within 0.5 s (the final flush aside).
    gaps = [b - a for a, b in zip(outcome.batch_times, outcome.batch_times[1:-1], strict=False)]
    assert len(outcome.batches) >= 3
    assert all(gap >= 0.45 for gap in gaps), gaps


ISOLATION_CODE = r"""
import json, os, socket, subprocess, sys

def attempt(action):
    try:
        return "ok: " + str(action())[:200]
    except Exception as exc:
        return f"blocked: {type(exc).__name__}: {exc}"[:200]

def tcp(host, port, family=socket.AF_INET):
    with socket.socket(family) as s:
        s.settimeout(2)
        s.connect((host, port))
    return "connected"

def unix(path):
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(path)
    return "connected"

def udp_dns():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"\x00", ("8.8.8.8", 53))
    return "sent"

def write(path):
    with open(path, "w") as f:
        f.write("x")
    return "written"

def train(data, run):
    paths = json.loads(run.params["paths"])
    report = {
        "redis_tcp": attempt(lambda: tcp("127.0.0.1", 6379)),
        "redis_tcp6": attempt(lambda: tcp("::1", 6379, socket.AF_INET6)),
        "postgres_tcp": attempt(lambda: tcp("127.0.0.1", 5432)),
        "postgres_unix": attempt(lambda: unix("/var/run/postgresql/.s.PGSQL.5432")),
        "broker_unix": attempt(lambda: unix(paths["broker_socket"])),
        "udp": attempt(udp_dns),
        "dns": attempt(lambda: socket.getaddrinfo("pypi.org", 443)),
        "shadow": attempt(lambda: open("/etc/shadow").read()),
        "passwd": attempt(lambda: open("/etc/passwd").read()),
        "repo_file": attempt(lambda: open(paths["repo_file"]).read()),
        "test_file": attempt(lambda: open(paths["test_file"]).read()),
        "repo_listing": attempt(lambda: sorted(os.listdir(paths["repo"]))),
        "cache_dir": attempt(lambda: os.listdir(paths["cache"])),
        "jobs_dir": attempt(lambda: os.listdir(paths["jobs"])),
        "root_home": attempt(lambda: sorted(os.listdir("/root"))),
        "var": attempt(lambda: os.listdir("/var")),
        "home": attempt(lambda: os.listdir("/home")),
        "workers_read": attempt(lambda: len(open("/opt/labrunner/harness.py").read())),
        "platform_code": attempt(lambda: os.listdir("/opt/labrunner")),
        "workers_write": attempt(lambda: write("/opt/labrunner/evil.py")),
        "mountinfo": attempt(lambda: open("/proc/self/mountinfo").read()),
        "proc": attempt(lambda: sorted(os.listdir("/proc"))),
        "sklearn": attempt(lambda: __import__("sklearn")),
        "django": attempt(lambda: __import__("django")),
        "torch_in_a_subprocess": attempt(
            lambda: subprocess.run([sys.executable, "-c", "import torch; print(torch.__version__)"],
                                   capture_output=True, text=True, check=True).stdout.strip()
        ),
        "usr_write": attempt(lambda: write("/usr/evil")),
        "dataset_write": attempt(lambda: write("/job/dataset.npz")),
        "job_write": attempt(lambda: write("/job/notes.txt")),
        "tmp_write": attempt(lambda: write("/tmp/notes.txt")),
        "uid": os.getuid(),
        "env": sorted(os.environ),
        "pid": os.getpid(),
        "hostname": socket.gethostname(),
    }
    print("REPORT " + json.dumps(report))

def predict(model, x):
    return [0.0] * len(x)
"""


@pytest.fixture(scope="module")
def isolation_report(dataset, lab_dirs: dict[str, Path]) -> Iterator[dict]:
    """One run that probes everything; the tests below each check one aspect of its report."""
    paths = {
        "broker_socket": str(REPO / "var" / "broker" / "redis.sock"),
        "repo_file": str(REPO / "pyproject.toml"),
        "test_file": __file__,
        "repo": str(REPO),
        "cache": str(lab_dirs["cache"]),
        "jobs": str(lab_dirs["jobs"]),
    }
    code = ISOLATION_CODE.replace('json.loads(run.params["paths"])', repr(paths))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAB_TEST_CANARY_SECRET", "hunter2")  # a worker secret: must not reach the sandbox
        spec = make_spec(code, dataset, output_bytes=64 * 1024)
        result = execute_job(spec, on_progress=lambda _batch: None, should_cancel=lambda: False)
    assert result.state == "succeeded", result.log_tail
    line = next(line for line in result.log_tail.splitlines() if line.startswith("REPORT "))
    return json.loads(line.removeprefix("REPORT "))


def test_network_is_unreachable_from_the_sandbox(isolation_report: dict) -> None:
    for key in ("redis_tcp", "redis_tcp6", "postgres_tcp", "udp", "dns"):
        assert isolation_report[key].startswith("blocked: "), (key, isolation_report[key])
    # The host's unix sockets are not even in the sandbox's file tree.
    for key in ("postgres_unix", "broker_unix"):
        assert isolation_report[key].startswith("blocked: FileNotFoundError"), (key, isolation_report[key])


def test_only_the_job_folder_and_the_runtime_are_visible(isolation_report: dict) -> None:
    report = isolation_report
    for key in ("shadow", "repo_file", "test_file", "cache_dir", "jobs_dir", "var", "home"):
        assert report[key].startswith("blocked: FileNotFoundError"), (key, report[key])
    # Not even the worker's virtualenv: learner code runs on the lab runtime (workers.runtime).
    assert report["repo_listing"].startswith("blocked: FileNotFoundError"), report["repo_listing"]
    assert report["platform_code"] == "ok: ['harness.py', 'site-packages']"
    assert report["mountinfo"].startswith("blocked: FileNotFoundError")  # no /proc: no host paths
    assert report["proc"] == "ok: ['cpuinfo']"
    for module in ("sklearn", "django"):
        assert report[module].startswith("blocked: ModuleNotFoundError"), report[module]
    assert report["torch_in_a_subprocess"].startswith("ok: 2.")
    if os.path.realpath(sys.base_prefix).startswith("/root/"):  # pyenv here: only its Python is exposed
        assert report["root_home"] == "ok: ['.pyenv']"
    else:
        assert report["root_home"].startswith("blocked: FileNotFoundError")
    passwd = report["passwd"].removeprefix("ok: ")
    assert [line.split(":")[0] for line in passwd.splitlines()] == ["root", "lab"]
    assert report["workers_read"].startswith("ok: ")
    for key in ("workers_write", "usr_write", "dataset_write"):
        assert report[key].startswith(("blocked: OSError: [Errno 30]", "blocked: PermissionError")), report[key]
    assert report["job_write"] == report["tmp_write"] == "ok: written"


def test_learner_runs_unprivileged_with_a_clean_environment(isolation_report: dict) -> None:
    assert isolation_report["uid"] in sandbox_uids()
    allowed = {"HOME", "PATH", "LANG", "LC_ALL", "TMPDIR", "USER", "LOGNAME", "MPLBACKEND", "PWD"}
    allowed |= {"OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "CUDA_VISIBLE_DEVICES"}
    allowed |= {"TORCHINDUCTOR_CACHE_DIR"}  # set by torch itself on import
    allowed |= {"PYTHONPATH"}  # the lab runtime, for the learner's own Python subprocesses
    assert set(isolation_report["env"]) <= allowed
    assert isolation_report["pid"] == 1  # its own pid namespace, whose first process is the harness
    assert isolation_report["hostname"] == "sandbox"


def test_infinite_loop_times_out(run_lab: Callable[..., Execution]) -> None:
    code = "def train(data, run):\n    print('left', round(run.time_left()))\n    while True:\n        pass\n"
    code += "def predict(model, x):\n    return [0] * len(x)\n"
    result = run_lab(code, wall_seconds=3).result
    assert (result.state, result.reason) == ("timed_out", "limit: time")
    assert "left 3" in result.log_tail and "wall-clock limit of 3 s" in result.log_tail
    assert result.predictions is None
    assert result.duration_s < 3 + 15  # the wall clock starts when the job does, not at torch import


def test_memory_bomb_is_killed_by_the_cgroup(run_lab: Callable[..., Execution]) -> None:
    code = "import numpy as np\nhog = []\ndef train(data, run):\n    while True:\n"
    code += "        hog.append(np.ones(25_000_000))\n"
    code += "def predict(model, x):\n    return [0] * len(x)\n"
    result = run_lab(code, memory_mb=512).result
    assert (result.state, result.reason) == ("failed", "limit: memory")
    assert "512 MB memory limit" in result.log_tail


def test_fork_bomb_is_contained_and_nothing_is_left_behind(run_lab: Callable[..., Execution]) -> None:
    code = "import os\ndef train(data, run):\n    while True:\n        os.fork()\n"
    code += "def predict(model, x):\n    return [0] * len(x)\n"
    result = run_lab(code, processes=16).result
    assert result.state == "failed"
    assert result.reason == "limit: processes"
    assert os.fork  # the machine survived; the next assertions look for survivors
    assert_nothing_left_behind()


def assert_nothing_left_behind() -> None:
    """Only the idle warm members may remain: their processes and their cgroups, nothing else."""
    pool = warm.get_default_pool(select_backend())
    assert pool is not None
    assert pool.wait_settled(90)
    members = {member.cgroup.name for member in pool.members()}
    assert leftover_processes(members) == []
    assert own_run_cgroups() == members


def test_exception_fails_with_traceback_and_reason(run_lab: Callable[..., Execution]) -> None:
    code = "def helper(value):\n    raise ValueError(f'bad value {value}')\n\n"
    code += "def train(data, run):\n    helper(3)\n\ndef predict(model, x):\n    return [0] * len(x)\n"
    result = run_lab(code).result
    assert (result.state, result.reason) == ("failed", "error: ValueError: bad value 3")
    assert "Traceback (most recent call last)" in result.log_tail
    assert 'File "/job/solution.py", line 2, in helper' in result.log_tail
    assert "harness.py" not in result.log_tail  # only the learner's frames


def test_wrong_number_of_predictions_fails_clearly(run_lab: Callable[..., Execution]) -> None:
    code = "def train(data, run):\n    return None\n\ndef predict(model, x):\n    return [0.0] * 100\n"
    result = run_lab(code).result
    assert (result.state, result.reason) == (
        "failed",
        f"error: predict returned 100 predictions for {TEST_ROWS} test rows",
    )
    assert result.predictions is None


def test_cancel_stops_the_run(run_lab: Callable[..., Execution]) -> None:
    code = "import time\ndef train(data, run):\n    for step in range(100000):\n"
    code += "        run.log(step, loss=1.0)\n        time.sleep(0.02)\n"
    code += "def predict(model, x):\n    return [0] * len(x)\n"
    outcome = run_lab(code, should_cancel=lambda seen: bool(seen.metrics))
    assert (outcome.result.state, outcome.result.reason) == ("cancelled", "cancelled: by user")
    # Cancelled promptly: polled every 0.25 s, while the loop logs a step every 0.02 s.
    assert max(event["step"] for event in outcome.metrics) < 250
    assert "the run was cancelled" in outcome.result.log_tail


def test_output_flood_is_cut_and_killed(run_lab: Callable[..., Execution]) -> None:
    code = "import sys\ndef train(data, run):\n    while True:\n        sys.stdout.write('spam ' * 20000)\n"
    code += "def predict(model, x):\n    return [0] * len(x)\n"
    outcome = run_lab(code, output_bytes=4096)
    assert (outcome.result.state, outcome.result.reason) == ("failed", "limit: output")
    assert len(outcome.result.log_tail) < 4096 + 300
    assert "bytes of output omitted" in outcome.result.log_tail
    assert len(outcome.output) < 4096 + 200


def test_metric_flood_is_thinned_not_fatal(run_lab: Callable[..., Execution]) -> None:
    code = "def train(data, run):\n    for step in range(300_000):\n        run.log(step, loss=1.0 / (step + 1))\n"
    code += "def predict(model, x):\n    return [1] * len(x)\n"
    outcome = run_lab(code, wall_seconds=30)
    assert outcome.result.state == "succeeded", outcome.result.log_tail
    steps = [event["step"] for event in outcome.metrics]
    assert 1000 < len(steps) <= 5000
    assert steps == sorted(steps) and steps[-1] == 299_999  # the last point is never lost


def test_disk_limit(run_lab: Callable[..., Execution]) -> None:
    code = "def train(data, run):\n    with open('/job/big.bin', 'wb') as f:\n"
    code += "        for _ in range(64):\n            f.write(b'x' * 1024 * 1024)\n"
    code += "def predict(model, x):\n    return [0] * len(x)\n"
    result = run_lab(code, disk_mb=8).result
    assert (result.state, result.reason) == ("failed", "limit: disk")


def test_planted_symlink_is_not_followed_by_the_supervisor(run_lab: Callable[..., Execution], tmp_path: Path) -> None:
    # A host file that would make a perfect "prediction" file; the sandbox cannot see it, but a
    # symlink is resolved by whoever opens it: the supervisor must refuse to follow one.
    target = tmp_path / "host_secret.npy"
    np.save(target, np.zeros(TEST_ROWS))
    code = f"import os\ndef train(data, run):\n    os.symlink({str(target)!r}, '/job/out/predictions.npy')\n"
    code += "    os._exit(0)\ndef predict(model, x):\n    return [1] * len(x)\n"
    result = run_lab(code).result
    assert result.state == "failed" and result.predictions is None
    assert result.reason.startswith("error: the predictions file cannot be read")


QUICK_CODE = "import torch\ndef train(data, run):\n    return torch.nn.Linear(4, 1)\n\n"
QUICK_CODE += "def predict(model, x):\n    return model(x)\n"  # shape (n, 1) is accepted


def test_job_arriving_while_the_warm_sandbox_starts_gets_it_once_ready(
    run_lab: Callable[..., Execution], lab_dirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race behind "sandbox launcher: FileNotFoundError ... (status 125)": a job took a member
    whose launcher had not yet bind-mounted its folder, and renamed that folder under it."""
    pool = warm.WarmPool(1, backend=select_backend(), jobs_dir=lab_dirs["jobs"]).start()
    monkeypatch.setattr(warm, "get_default_pool", lambda _backend: pool)
    try:
        deadline = time.monotonic() + 30
        while not pool.members():  # spawned, its launcher still starting: the race window
            assert time.monotonic() < deadline
            time.sleep(0.002)
        outcome = run_lab(QUICK_CODE)
    finally:
        pool.close()
    result = outcome.result
    assert result.state == "succeeded", (result.reason, result.log_tail)
    assert result.warm_start  # waited for the member instead of failing or starting a fresh one
    monkeypatch.undo()  # the session's pool again
    assert_nothing_left_behind()


class _HandsOut:
    """A pool stand-in that hands out one given member, whatever state it is in."""

    def __init__(self, member: Sandbox) -> None:
        self.member: Sandbox | None = member

    def acquire(self, limits: object, device: str, *, wait: float = 0.0) -> Sandbox | None:
        member, self.member = self.member, None
        return member


@pytest.mark.parametrize("dies", ["during start-up", "after ready"])
def test_warm_sandbox_that_dies_before_its_job_is_replaced_by_a_fresh_one(
    dies: str, run_lab: Callable[..., Execution], lab_dirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A platform hiccup never becomes the learner's failure: the job runs in a fresh sandbox."""
    backend = select_backend()
    folder = jobdirs.create(lab_dirs["jobs"], jobdirs.WARM_PREFIX)
    member = backend.start(job_dir=folder, limits=warm.default_max_limits(), device="cpu", label=folder.name)
    if dies == "during start-up":
        member.popen.kill()  # its launcher dies before the sandbox exists (as on status 125)
    else:
        deadline = time.monotonic() + 120
        while not warm._has_pending_event(member):
            assert member.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        member.kill()
    monkeypatch.setattr(warm, "get_default_pool", lambda _backend: _HandsOut(member))
    outcome = run_lab(QUICK_CODE)
    result = outcome.result
    assert result.state == "succeeded", (result.reason, result.log_tail)
    assert not result.warm_start and len(result.predictions) == TEST_ROWS
    assert result.log_tail == ""  # nothing of the dead member's start-up reaches the learner
    assert not folder.exists()
    monkeypatch.undo()  # the session's pool again
    assert_nothing_left_behind()


def test_fresh_sandbox_without_pool(run_lab: Callable[..., Execution], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAB_WARM_POOL", "0")
    code = "import torch\ndef train(data, run):\n    return torch.nn.Linear(4, 1)\n\n"
    code += "def predict(model, x):\n    return model(x)\n"  # shape (n, 1) is accepted
    result = run_lab(code).result
    assert result.state == "succeeded", result.log_tail
    assert not result.warm_start and len(result.predictions) == TEST_ROWS
    assert leftover_processes(set()) == []
    assert own_run_cgroups() == set()
