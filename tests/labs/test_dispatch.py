"""Fair share: a learner's burst waits on the site; other learners' runs go straight to the broker.

The broker is real: what is "sent" is read back from its queues. Runs end through the same
events a lab worker sends.
"""

from __future__ import annotations

import json

import pytest
from django.conf import settings as django_settings

from cohorts.models import Cohort, CohortMember
from core.broker import redis_client
from core.models import User
from labs import run_events, services, sweeper
from labs.dispatch import runs_dispatch
from labs.models import DeviceClass, Lab, Run, RunState
from tests.factories import UserFactory
from tests.labs import conftest as labs_conftest
from workers import control

pytestmark = pytest.mark.django_db(transaction=True)

lab = labs_conftest.lab  # the fixture: a tiny CPU lab with a real dataset


@pytest.fixture
def broker() -> object:
    client = control.redis_client(django_settings.CELERY_BROKER_URL)
    client.delete("cpu", "gpu")
    yield client
    client.delete("cpu", "gpu")


def submit(lab: Lab, learner: User) -> Run:
    return services.submission_create(learner=learner, lab=lab, source="api", code=labs_conftest.VALID_CODE)


def in_broker(client: object, queue: str = "cpu") -> list[int]:
    """Run ids of the job messages in a queue, oldest first (kombu pushes on the left)."""
    messages = [json.loads(m)["headers"]["id"] for m in reversed(client.lrange(queue, 0, -1))]
    return [int(task_id.split("-")[1]) for task_id in messages]


def end(run: Run) -> None:
    run.refresh_from_db()
    event = {"kind": "finished", "result": {"state": "failed", "reason": "error: ValueError: x"}}
    run_events.run_event_apply(run_id=run.pk, token=run.token, event=event)


def test_a_burst_waits_on_the_site_while_another_learners_run_goes_straight_to_the_broker(
    lab: Lab, learner: User, other_learner: User, broker: object
) -> None:
    lab.submissions_per_day = 100
    lab.save()
    burst = [submit(lab, learner) for _ in range(5)]
    other = submit(lab, other_learner)
    assert in_broker(broker) == [burst[0].pk, other.pk]  # one of the burst, then the other learner's
    assert Run.objects.filter(pk__in=[r.pk for r in burst[1:]], sent_at__isnull=True).count() == 4

    end(burst[0])  # the burst's first run ends: its next one takes the place, in order
    assert in_broker(broker) == [burst[0].pk, other.pk, burst[1].pk]
    assert runs_dispatch() == 0  # nothing else may go: the limit holds however often it runs


def test_cancelling_frees_the_place_and_a_cancelled_waiting_run_never_goes(
    lab: Lab, learner: User, broker: object
) -> None:
    first, second, third = (submit(lab, learner) for _ in range(3))
    services.run_cancel(run=Run.objects.get(pk=second.pk))  # waiting: cancelled on the site
    services.run_cancel(run=Run.objects.get(pk=first.pk))  # on the workers: its place goes to the third
    assert in_broker(broker) == [first.pk, third.pk]
    assert Run.objects.get(pk=second.pk).state == RunState.CANCELLED


def test_a_higher_per_learner_limit_lets_more_through(
    lab: Lab, learner: User, broker: object, settings: object
) -> None:
    settings.LAB_MAX_ACTIVE_PER_LEARNER = 2
    runs = [submit(lab, learner) for _ in range(3)]
    assert in_broker(broker) == [runs[0].pk, runs[1].pk]


def test_a_cohorts_gpu_limit_caps_its_members_gpu_runs_only(
    lab: Lab, learner: User, other_learner: User, broker: object, settings: object
) -> None:
    settings.LAB_MAX_ACTIVE_PER_LEARNER = 2
    outsider = UserFactory(username="olga")
    cohort = Cohort.objects.create(
        slug="gpu-cohort", name="GPU cohort", starts_on="2026-01-01", ends_on="2026-12-31", gpu_run_limit=1
    )
    for member in (learner, other_learner):
        CohortMember.objects.create(cohort=cohort, learner=member)
    lab.device_class = DeviceClass.GPU
    lab.save()
    first, capped, free = submit(lab, learner), submit(lab, other_learner), submit(lab, outsider)
    assert in_broker(broker, "gpu") == [first.pk, free.pk]  # the cohort's one GPU place is taken
    end(first)
    assert in_broker(broker, "gpu") == [first.pk, free.pk, capped.pk]
    lab.device_class = DeviceClass.CPU
    lab.save()
    cpu_run = submit(lab, other_learner)  # the cohort's GPU place is taken again; CPU runs are not capped
    assert in_broker(broker) == [cpu_run.pk]


def test_waiting_runs_survive_a_broker_outage_and_the_sweeper_sends_them(
    lab: Lab, learner: User, broker: object, settings: object
) -> None:
    url = settings.CELERY_BROKER_URL
    settings.CELERY_BROKER_URL = "redis+socket:///nonexistent/broker.sock"
    run = submit(lab, learner)  # the submission is kept; the dispatch cannot reach the broker
    assert Run.objects.get(pk=run.pk).sent_at is None
    settings.CELERY_BROKER_URL = url
    assert sweeper.runs_sweep()["resent"] == 1
    assert in_broker(broker) == [run.pk]


def test_the_run_page_says_a_run_waits_its_turn(lab: Lab, learner: User, broker: object, client: object) -> None:
    first, second = submit(lab, learner), submit(lab, learner)
    client.force_login(learner)
    waiting_note = 'data-testid="run-waiting" hidden'
    assert waiting_note in client.get(f"/labs/runs/{first.pk}/").content.decode()  # sent: no note
    assert waiting_note not in client.get(f"/labs/runs/{second.pk}/").content.decode()
    assert client.get(f"/labs/runs/{second.pk}/progress.json").json()["waiting"] is True
    end(first)
    assert client.get(f"/labs/runs/{second.pk}/progress.json").json()["waiting"] is False


def test_a_submission_never_waits_for_another_dispatcher(lab: Lab, learner: User, broker: object) -> None:
    """While another dispatcher holds the lock, the request hands the dispatch to the site worker
    (a ``labs.tasks.dispatch_runs`` task) instead of waiting up to 30 s; that task sends the run."""
    import time

    from labs.dispatch import LOCK_KEY
    from labs.tasks import dispatch_runs

    lock = redis_client().lock(LOCK_KEY, timeout=60)
    assert lock.acquire()
    try:
        started = time.monotonic()
        run = submit(lab, learner)
        assert time.monotonic() - started < 5  # it did not wait for the lock (30 s)
        assert in_broker(broker) == [] and Run.objects.get(pk=run.pk).sent_at is None
    finally:
        lock.release()
    # The handed-off task: run it here, unless a site worker (the end-to-end tests keep one) took it.
    handed = [m for m in broker.lrange("default", 0, -1) if json.loads(m)["headers"]["task"] == dispatch_runs.name]
    if handed:
        broker.lrem("default", 0, handed[0])
        assert dispatch_runs() == 1
    deadline = time.monotonic() + 35  # a worker's task waits for the lock at most 30 s
    while Run.objects.get(pk=run.pk).sent_at is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert in_broker(broker) == [run.pk]  # nobody else dispatches here: the hand-off sent it
