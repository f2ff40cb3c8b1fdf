"""GET /metrics: the exposition Prometheus scrapes, read back with prometheus_client's own parser and
checked against real rows in the database and real keys in the broker's Redis."""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from config.prometheus import CACHE_KEY
from core.models import User
from labs.models import DeviceClass, Lab, Run, RunState, Submission
from tests.labs import conftest as labs_conftest
from tests.workers.fake_nvml import FakeGpu, FakeNvml
from workers import control, gpu_stats

pytestmark = pytest.mark.django_db

lab = labs_conftest.lab  # the fixture: a tiny CPU lab with a real dataset

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
GIB = 2**30
REPO = Path(__file__).resolve().parents[2]

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(autouse=True)
def _no_cached_figures(settings: object) -> None:
    settings.METRICS_CACHE_SECONDS = 0  # each scrape counts afresh (test_figures_are_kept… turns it on)
    settings.METRICS_TOKEN = ""


@pytest.fixture
def gpu_lab(lab: Lab) -> Lab:
    return Lab.objects.create(
        slug="tiny-gpu",
        title_en="Tiny GPU lab",
        description_en="On a GPU.",
        starter_code=labs_conftest.VALID_CODE,
        metric="accuracy",
        threshold=0.8,
        device_class=DeviceClass.GPU,
        dataset=lab.dataset,  # runs need one; which does not matter here
    )


def run_make(
    lab: Lab,
    learner: User,
    state: str,
    *,
    waited: float | None = None,
    ran: float | None = None,
    sent: bool = True,
) -> Run:
    """A run queued at T0 that ``waited`` seconds before it started and ``ran`` seconds before it
    ended (None: it has not), sent to the broker unless ``sent`` is False."""
    submission = Submission.objects.create(learner=learner, lab=lab, code="x", code_sha256="0" * 64, source="api")
    run = Run.objects.create(submission=submission, dataset=lab.dataset, seed=1)
    started = T0 + timedelta(seconds=waited) if waited is not None else None
    finished = started + timedelta(seconds=ran) if started is not None and ran is not None else None
    Run.objects.filter(pk=run.pk).update(
        state=state, queued_at=T0, sent_at=T0 if sent else None, started_at=started, finished_at=finished
    )
    return run


def scrape(client: Client, **headers: str) -> Samples:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def named(samples: Samples, name: str) -> dict[frozenset[tuple[str, str]], float]:
    return {labels: v for (n, labels), v in samples.items() if n == name}


def buckets(samples: Samples, name: str, **labels: str) -> dict[float, float]:
    """Upper bound -> cumulative count, of the histogram ``name``'s series with ``labels``."""
    wanted = set(labels.items())
    found = named(samples, f"{name}_bucket").items()
    return {float(dict(series)["le"]): count for series, count in found if wanted <= series}


def test_runs_are_counted_per_state_and_the_runs_waiting_on_the_site_per_device_class(
    client: Client, lab: Lab, gpu_lab: Lab, learner: User
) -> None:
    for _ in range(2):
        run_make(lab, learner, RunState.QUEUED, sent=False)  # fair share holds them
        run_make(lab, learner, RunState.SUCCEEDED, waited=1, ran=1)
    run_make(lab, learner, RunState.QUEUED)  # in the broker's queue
    run_make(lab, learner, RunState.RUNNING, waited=1)
    run_make(lab, learner, RunState.FAILED, waited=1, ran=1)
    run_make(lab, learner, RunState.CANCELLED)  # cancelled before it started
    run_make(gpu_lab, learner, RunState.QUEUED, sent=False)
    run_make(gpu_lab, learner, RunState.TIMED_OUT, waited=1, ran=1)

    samples = scrape(client)  # anonymous: no sign-in, no redirect

    assert named(samples, "academy_runs_total") == {
        frozenset({("state", "succeeded")}): 2,
        frozenset({("state", "failed")}): 1,
        frozenset({("state", "timed_out")}): 1,
        frozenset({("state", "cancelled")}): 1,
    }
    assert named(samples, "academy_runs_active") == {
        frozenset({("state", "queued")}): 4,
        frozenset({("state", "preparing")}): 0,
        frozenset({("state", "running")}): 1,
        frozenset({("state", "scoring")}): 0,
    }
    assert value(samples, "academy_runs_waiting", device_class="cpu") == 2
    assert value(samples, "academy_runs_waiting", device_class="gpu") == 1


def test_run_durations_and_queue_waits_are_histograms_per_device_class(
    client: Client, lab: Lab, gpu_lab: Lab, learner: User
) -> None:
    run_make(lab, learner, RunState.SUCCEEDED, waited=2, ran=5)  # on a bound: in its bucket
    run_make(lab, learner, RunState.FAILED, waited=20, ran=50)
    run_make(lab, learner, RunState.TIMED_OUT, waited=400, ran=700)
    run_make(lab, learner, RunState.RUNNING, waited=4000)  # waited, still running: no duration yet
    run_make(lab, learner, RunState.CANCELLED)  # never started: neither
    run_make(gpu_lab, learner, RunState.SUCCEEDED, waited=0.5, ran=4000)

    samples = scrape(client)

    duration = "academy_run_duration_seconds"
    cpu = buckets(samples, duration, device_class="cpu")
    expected = {1: 0, 5: 1, 30: 1, 60: 2, 600: 2, 1200: 3, 3600: 3, float("inf"): 3}
    assert {le: cpu[le] for le in expected} == expected
    assert value(samples, f"{duration}_count", device_class="cpu") == 3
    assert value(samples, f"{duration}_sum", device_class="cpu") == 755
    assert value(samples, f"{duration}_bucket", device_class="gpu", le="3600.0") == 0
    assert value(samples, f"{duration}_bucket", device_class="gpu", le="7200.0") == 1
    assert value(samples, f"{duration}_sum", device_class="gpu") == 4000

    wait = "academy_queue_wait_seconds"
    assert value(samples, f"{wait}_bucket", device_class="cpu", le="5.0") == 1
    assert value(samples, f"{wait}_bucket", device_class="cpu", le="30.0") == 2
    assert value(samples, f"{wait}_bucket", device_class="cpu", le="600.0") == 3
    assert value(samples, f"{wait}_bucket", device_class="cpu", le="7200.0") == 4
    assert value(samples, f"{wait}_count", device_class="cpu") == 4
    assert value(samples, f"{wait}_sum", device_class="cpu") == 4422
    assert value(samples, f"{wait}_bucket", device_class="gpu", le="1.0") == 1
    assert value(samples, f"{wait}_sum", device_class="gpu") == 0.5


def test_a_scrape_costs_four_queries_however_many_runs_there_are(
    client: Client, lab: Lab, learner: User, broker: redis.Redis, django_assert_num_queries: object
) -> None:
    for i in range(30):
        run_make(lab, learner, RunState.SUCCEEDED if i % 2 else RunState.QUEUED, waited=i, ran=i, sent=i % 3 == 0)
    with django_assert_num_queries(4):  # runs per state, waiting, durations, waits
        scrape(client)


def test_queue_lengths_are_read_from_the_broker_lists(client: Client, broker: redis.Redis) -> None:
    broker.rpush("cpu", "job-1", "job-2", "job-3")
    broker.rpush("gpu", "job-4", "job-5")

    samples = scrape(client)

    assert value(samples, "academy_broker_up") == 1
    assert value(samples, "academy_queue_length", queue="cpu") == 3
    assert value(samples, "academy_queue_length", queue="gpu") == 2
    assert value(samples, "academy_queue_length", queue="default") == broker.llen("default")


def test_a_worker_whose_gpu_failed_its_health_check_is_shown(client: Client, broker: redis.Redis) -> None:
    control.gpu_health_set(broker, "lab-gpu-7@node", "GPU 0: the probe failed (exit status 1): CUDA error")
    try:
        assert value(scrape(client), "academy_gpu_unhealthy", worker="lab-gpu-7@node") == 1
    finally:
        broker.delete(f"{control.GPU_HEALTH_PREFIX}lab-gpu-7@node")


def test_published_gpu_figures_appear_and_vanish_with_the_worker(client: Client, broker: redis.Redis) -> None:
    nvml = FakeNvml(
        FakeGpu(uuid="GPU-a", name="NVIDIA H200", used=3 * GIB, total=141 * GIB, utilization_percent=37),
        FakeGpu(uuid="GPU-b", name="NVIDIA H200", used=0, total=141 * GIB, utilization_percent=None),
    )
    gpu_worker = gpu_stats.Publisher(broker, worker="gpu@node-1", queues=lambda: ["gpu"], nvml=nvml)
    cpu_worker = gpu_stats.Publisher(broker, worker="cpu@node-2", queues=lambda: ["cpu"], nvml=FakeNvml())
    gpu_worker.start()  # publishes now, then every interval from its thread
    assert cpu_worker.publish()

    samples = scrape(client)

    assert named(samples, "academy_gpu_memory_used_bytes") == {
        frozenset({("worker", "gpu@node-1"), ("gpu", "0")}): 3 * GIB,
        frozenset({("worker", "gpu@node-1"), ("gpu", "1")}): 0,
    }
    assert value(samples, "academy_gpu_memory_total_bytes", worker="gpu@node-1", gpu="1") == 141 * GIB
    assert named(samples, "academy_gpu_utilization_ratio") == {
        frozenset({("worker", "gpu@node-1"), ("gpu", "0")}): 0.37
    }
    assert value(samples, "academy_lab_workers", queue="gpu") == 1
    assert value(samples, "academy_lab_workers", queue="cpu") == 1

    gpu_worker.stop()  # a clean stop deletes the record at once
    samples = scrape(client)
    assert named(samples, "academy_gpu_memory_used_bytes") == {}
    assert value(samples, "academy_lab_workers", queue="gpu") == 0
    assert value(samples, "academy_lab_workers", queue="cpu") == 1
    assert nvml.initialised == 0


def test_a_record_lives_three_intervals_and_its_worker_is_forgotten_once_it_expires(
    client: Client, broker: redis.Redis
) -> None:
    publisher = gpu_stats.Publisher(broker, worker="gpu@node-1", queues=lambda: ["gpu"], interval=10, nvml=FakeNvml())
    publisher.publish()
    key = f"{gpu_stats.RECORD_PREFIX}gpu@node-1"
    assert 0 < broker.ttl(key) <= 30
    assert value(scrape(client), "academy_lab_workers", queue="gpu") == 1

    broker.delete(key)  # what the TTL does to the record of a worker that died: its name stays in the set
    assert value(scrape(client), "academy_lab_workers", queue="gpu") == 0
    assert not broker.sismember(gpu_stats.WORKERS_KEY, "gpu@node-1")  # the reader forgot it


def test_a_malformed_worker_record_is_skipped(
    client: Client, broker: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    broker.set(f"{gpu_stats.RECORD_PREFIX}odd", b"\xff not json", ex=60)
    broker.sadd(gpu_stats.WORKERS_KEY, "odd")
    gpu_stats.Publisher(broker, worker="cpu@node-2", queues=lambda: ["cpu"]).publish()

    with caplog.at_level(logging.WARNING, logger="workers.gpu_stats"):
        samples = scrape(client)

    assert value(samples, "academy_lab_workers", queue="cpu") == 1
    assert "malformed lab worker record" in caplog.text


def test_without_the_broker_the_run_figures_remain_and_the_broker_is_down(
    client: Client, settings: object, lab: Lab, learner: User
) -> None:
    settings.CELERY_BROKER_URL = "redis+socket:///nonexistent/broker.sock"
    run_make(lab, learner, RunState.QUEUED, sent=False)

    samples = scrape(client)

    assert value(samples, "academy_broker_up") == 0
    assert named(samples, "academy_queue_length") == {}
    assert value(samples, "academy_runs_waiting", device_class="cpu") == 1


def test_figures_are_kept_for_the_cache_time(client: Client, settings: object, lab: Lab, learner: User) -> None:
    settings.METRICS_CACHE_SECONDS = 60
    run_make(lab, learner, RunState.QUEUED, sent=False)
    assert value(scrape(client), "academy_runs_waiting", device_class="cpu") == 1

    run_make(lab, learner, RunState.QUEUED, sent=False)
    assert value(scrape(client), "academy_runs_waiting", device_class="cpu") == 1  # the cached figures

    cache.delete(CACHE_KEY)  # what the cache time does
    assert value(scrape(client), "academy_runs_waiting", device_class="cpu") == 2


def test_with_a_token_set_only_a_request_bearing_it_gets_the_figures(client: Client, settings: object) -> None:
    settings.METRICS_TOKEN = "s3cret-for-prometheus"

    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic s3cret-for-prometheus"}):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
        assert b"academy_" not in response.content

    assert value(scrape(client, Authorization="Bearer s3cret-for-prometheus"), "academy_broker_up") == 1


def test_prometheus_gets_openmetrics_when_it_asks_for_it(client: Client) -> None:
    response = client.get("/metrics", headers={"Accept": "application/openmetrics-text;version=1.0.0"})
    assert response["Content-Type"].startswith("application/openmetrics-text")
    assert response.content.endswith(b"# EOF\n")


def test_production_answers_a_plain_http_scrape_instead_of_redirecting_it_to_https() -> None:
    """Prometheus scrapes inside the cluster, over HTTP, without the proxy's X-Forwarded-Proto. (The
    token makes the answer come before any query: this production process has no database.)"""
    code = (
        "from django.test import Client; c = Client(HTTP_HOST='academy.example.com'); "
        "print(c.get('/metrics').status_code, c.get('/healthz').status_code)"
    )
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DJANGO_ENV": "production",
        "SECRET_KEY": "x7!Kq2#vL9@pR4$tW8^zN3&bM6*cF1(hJ5)dG0_sA-eY+uI=oT",
        "ALLOWED_HOSTS": "academy.example.com",
        "METRICS_TOKEN": "s3cret",
        "VAR_DIR": str(django_settings.VAR_DIR),
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--verbosity", "0", "-c", code],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.split() == ["401", "301"], result.stderr
