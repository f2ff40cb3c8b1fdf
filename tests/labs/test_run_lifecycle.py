"""A run's life on the site: every state change is idempotent and guarded by the attempt token."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from core.models import User
from labs import run_events, services, sweeper
from labs.models import Lab, Run, RunState
from tests.labs.conftest import VALID_CODE
from workers import control
from workers.dataset_cache import LINK_EXPIRED_REASON

PERFECT = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]


def queued_run(lab: Lab, learner: User) -> Run:
    return services.submission_create(learner=learner, lab=lab, source="api", code=VALID_CODE)


def event(run: Run, kind: str, **fields: object) -> None:
    run_events.run_event_apply(run_id=run.pk, token=run.token, event={"kind": kind, **fields})


def finished(run: Run, **result: object) -> None:
    event(run, "finished", result={"state": "succeeded", "device": "cpu", "torch_version": "2.13.0", **result})


@pytest.mark.django_db
def test_submitting_sends_one_job_message_to_the_labs_queue(
    lab: Lab, learner: User, django_capture_on_commit_callbacks: object
) -> None:
    broker = control.redis_client(settings.CELERY_BROKER_URL)
    broker.delete("cpu")
    with django_capture_on_commit_callbacks(execute=True):
        run = queued_run(lab, learner)
    messages = [json.loads(m) for m in broker.lrange("cpu", 0, -1)]
    assert [m["headers"]["id"] for m in messages] == [f"run-{run.pk}-{run.token}"]
    args = json.loads(base64.b64decode(messages[0]["body"]))[0]
    assert args[0]["code"] == VALID_CODE
    assert "y_test" not in json.dumps(args)  # the hidden labels never travel
    run.refresh_from_db()
    assert run.sent_at is not None
    broker.delete("cpu")


@pytest.mark.django_db
def test_a_successful_run_goes_through_every_state_and_is_scored_on_the_site(lab: Lab, learner: User) -> None:
    run = queued_run(lab, learner)
    event(run, "claimed", worker="lab@test", device="cpu")
    assert Run.objects.get(pk=run.pk).state == RunState.PREPARING
    event(
        run,
        "progress",
        events=[
            {"kind": "metrics", "step": 1, "t": 0.1, "metrics": {"loss": 0.5}},
            {"kind": "output", "text": "epoch 1\n"},
        ],
    )
    run.refresh_from_db()
    assert (run.state, run.curve[0]["metrics"], run.log) == (RunState.RUNNING, {"loss": 0.5}, "epoch 1\n")
    finished(run, predictions=[0, 1, 2, 0, 1, 2, 0, 1, 0, 0])
    run.refresh_from_db()
    assert (run.state, run.score, run.passed) == (RunState.SUCCEEDED, 0.9, True)
    assert run.worker_host == "lab@test" and run.torch_version == "2.13.0"


@pytest.mark.django_db
def test_replayed_and_stale_events_change_nothing(lab: Lab, learner: User) -> None:
    run = queued_run(lab, learner)
    event(run, "claimed", worker="lab@test")
    finished(run, predictions=PERFECT)
    finished(run, predictions=[9] * 10)  # the same message delivered again, different content
    run_events.run_event_apply(run_id=run.pk, token="someone-else", event={"kind": "finished", "result": {}})
    run.refresh_from_db()
    assert (run.state, run.score) == (RunState.SUCCEEDED, 1.0)


@pytest.mark.django_db
def test_learner_logged_metrics_never_become_the_score(lab: Lab, learner: User) -> None:
    run = queued_run(lab, learner)
    event(run, "progress", events=[{"kind": "metrics", "step": 1, "metrics": {"accuracy": 1.0, "score": 1.0}}])
    finished(run, predictions=[2] * 10)
    run.refresh_from_db()
    assert run.score == pytest.approx(0.3) and run.passed is False


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("predictions", "reason"),
    [([0, 1], "predict returned 2 predictions for 10 test rows"), (None, "returned no predictions")],
)
def test_unusable_predictions_fail_with_a_clear_reason(
    lab: Lab, learner: User, predictions: object, reason: str
) -> None:
    run = queued_run(lab, learner)
    finished(run, predictions=predictions)
    run.refresh_from_db()
    assert run.state == RunState.FAILED and reason in run.reason


@pytest.mark.django_db
def test_nan_predictions_are_stored_as_null_and_scored_as_wrong(lab: Lab, learner: User) -> None:
    run = queued_run(lab, learner)
    finished(run, predictions=[float("nan")] * 5 + PERFECT[5:])
    run.refresh_from_db()
    assert run.predictions[:5] == [None] * 5
    assert run.score == pytest.approx(0.5)


@pytest.mark.django_db
@pytest.mark.parametrize(("state", "expected"), [("timed_out", RunState.TIMED_OUT), ("failed", RunState.FAILED)])
def test_runs_ending_in_the_sandbox_keep_the_exact_reason(lab: Lab, learner: User, state: str, expected: str) -> None:
    run = queued_run(lab, learner)
    event(
        run, "finished", result={"state": state, "reason": "limit: time" if state == "timed_out" else "limit: memory"}
    )
    run.refresh_from_db()
    assert run.state == expected and run.reason.startswith("limit:")


@pytest.mark.django_db
def test_cancelling_a_queued_run_is_immediate_and_raises_the_workers_flag(lab: Lab, learner: User) -> None:
    run = queued_run(lab, learner)
    services.run_cancel(run=run)
    run.refresh_from_db()
    assert run.state == RunState.CANCELLED
    assert control.cancel_requested(control.redis_client(settings.CELERY_BROKER_URL), run_id=run.pk, token=run.token)


@pytest.mark.django_db
def test_cancelling_a_running_run_waits_for_the_worker(lab: Lab, learner: User) -> None:
    run = queued_run(lab, learner)
    event(run, "claimed", worker="w")
    services.run_cancel(run=run)
    run.refresh_from_db()
    assert run.state == RunState.PREPARING and run.cancel_requested
    event(run, "finished", result={"state": "cancelled", "reason": "cancelled: by user"})
    assert Run.objects.get(pk=run.pk).state == RunState.CANCELLED


@pytest.mark.django_db
def test_a_cancel_while_the_broker_is_away_holds_and_the_sweeper_raises_the_flag_when_it_is_back(
    lab: Lab, learner: User, settings: object
) -> None:
    run = queued_run(lab, learner)
    event(run, "claimed", worker="w")
    broker_url = settings.CELERY_BROKER_URL
    settings.CELERY_BROKER_URL = "redis+socket:///nonexistent/broker.sock"
    services.run_cancel(run=run)  # recorded on the site; the worker's flag cannot be raised now
    run.refresh_from_db()
    assert run.state == RunState.PREPARING and run.cancel_requested
    settings.CELERY_BROKER_URL = broker_url
    broker = control.redis_client(broker_url)
    assert not control.cancel_requested(broker, run_id=run.pk, token=run.token)
    sweeper.runs_sweep()
    assert control.cancel_requested(broker, run_id=run.pk, token=run.token)


@pytest.mark.django_db
def test_a_lost_worker_means_one_retry_then_a_platform_failure(lab: Lab, learner: User) -> None:
    run = queued_run(lab, learner)
    first_token = run.token
    event(run, "claimed", worker="w1")
    event(run, "lost")
    run.refresh_from_db()
    assert (run.state, run.attempt) == (RunState.QUEUED, 2) and run.token != first_token
    run_events.run_event_apply(run_id=run.pk, token=first_token, event={"kind": "lost"})  # stale: ignored
    assert Run.objects.get(pk=run.pk).attempt == 2
    event(run, "lost")
    run.refresh_from_db()
    assert (run.state, run.reason) == (RunState.FAILED, "platform: worker lost")


@pytest.mark.django_db
def test_the_sweeper_moves_every_stuck_state_on(lab: Lab, learner: User, settings: object) -> None:
    settings.LAB_MAX_ACTIVE_PER_LEARNER = 10  # one learner in every state (fair share: test_dispatch.py)
    long_ago = timezone.now() - timedelta(hours=2)
    unsent = queued_run(lab, learner)
    Run.objects.filter(pk=unsent.pk).update(queued_at=long_ago, sent_at=None)
    forgotten = queued_run(lab, learner)
    Run.objects.filter(pk=forgotten.pk).update(sent_at=timezone.now() - timedelta(days=2))
    lost = queued_run(lab, learner)
    event(lost, "claimed", worker="dead")
    Run.objects.filter(pk=lost.pk).update(started_at=long_ago)
    scoring = queued_run(lab, learner)
    Run.objects.filter(pk=scoring.pk).update(state=RunState.SCORING, predictions=PERFECT, updated_at=long_ago)

    counts = sweeper.runs_sweep()

    assert counts == {"resent": 2, "expired": 1, "lost": 1, "rescored": 1}  # resent: unsent and the retried one
    assert Run.objects.get(pk=unsent.pk).sent_at is not None
    assert Run.objects.get(pk=forgotten.pk).reason == "platform: no worker picked the run up"
    assert Run.objects.get(pk=lost.pk).attempt == 2
    assert Run.objects.get(pk=scoring.pk).score == 1.0
    assert sweeper.runs_sweep() == {"resent": 0, "expired": 0, "lost": 0, "rescored": 0}


@pytest.mark.django_db
def test_rerun_is_a_new_run_of_the_same_submission(lab: Lab, learner: User) -> None:
    run = queued_run(lab, learner)
    again = services.run_rerun(run=run)
    assert again.pk != run.pk and again.submission_id == run.submission_id


@pytest.mark.django_db
def test_metric_names_are_kept_printable_and_bounded_with_a_few_series_per_run(lab: Lab, learner: User) -> None:
    run = queued_run(lab, learner)
    names = {"\x1b[31mred": 1.0, "\u202egnp.exe": 2.0, "x" * 100: 3.0, "\n\t": 4.0, "<b>loss</b>": 5.0}
    names["inf"] = float("inf")
    event(run, "progress", events=[{"kind": "metrics", "step": 0, "t": 0, "metrics": names}])
    many = [{"kind": "metrics", "step": k, "t": k, "metrics": {f"m{k}": 1.0}} for k in range(1, 40)]
    event(run, "progress", events=many)
    run.refresh_from_db()
    assert run.curve[0]["metrics"] == {"[31mred": 1.0, "gnp.exe": 2.0, "x" * 40: 3.0, "<b>loss</b>": 5.0}
    series = {name for point in run.curve for name in point["metrics"]}
    assert len(series) == run_events.MAX_CURVE_SERIES  # the first names, in order; later ones are dropped
    assert [point["step"] for point in run.curve] == list(range(run_events.MAX_CURVE_SERIES - 4 + 1))


@pytest.mark.django_db
def test_an_expired_dataset_link_sends_the_run_again_without_spending_an_attempt(
    lab: Lab, learner: User, settings: object, django_capture_on_commit_callbacks: object
) -> None:
    run = queued_run(lab, learner)
    first_token = run.token
    event(run, "claimed", worker="w1")
    reason = f"{LINK_EXPIRED_REASON}: the object store refused the link to http://s3/datasets/x.npz as expired"
    with django_capture_on_commit_callbacks(execute=True):
        finished(run, state="failed", reason=reason)
    run.refresh_from_db()
    assert (run.state, run.attempt) == (RunState.QUEUED, 1) and run.token != first_token
    assert run.reason.startswith("platform: dataset link expired") and run.reason.endswith("; sent again")
    assert run.sent_at is not None  # dispatched again at once, with a new link
    run_events.run_event_apply(run_id=run.pk, token=first_token, event={"kind": "lost"})  # stale: ignored
    assert Run.objects.get(pk=run.pk).state == RunState.QUEUED

    # A run that has waited the whole queue timeout since it was queued ends instead of circling.
    Run.objects.filter(pk=run.pk).update(
        queued_at=timezone.now() - timedelta(seconds=settings.LAB_QUEUE_TIMEOUT_SECONDS + 1)
    )
    run.refresh_from_db()
    finished(run, state="failed", reason=reason)
    run.refresh_from_db()
    assert (run.state, run.attempt) == (RunState.FAILED, 1)
    assert run.reason.startswith("platform: dataset link expired")
