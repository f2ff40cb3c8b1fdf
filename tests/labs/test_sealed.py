"""A sealed run (a challenge entry's: labs knows only the seal) is scored on the hidden set but keeps
that score to itself until ``labs.services.runs_unseal``: no score and no verdict on its page, in its
progress JSON, in the API, in its notification, on the lab's page and leaderboard. Each check is
made again after the unseal, where the score must then appear: a check that could not see it would
prove nothing. A sealed run's re-run is sealed too; the platform's runs spend no quota."""

from __future__ import annotations

import html as html_module
import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from core.models import NotificationKind, User
from labs import run_events, services
from labs.models import Lab, Run, RunState
from labs.validation import runs_counted_today
from mentorship import selectors as mentorship_selectors
from notifications.models import Notification
from tests.labs.conftest import VALID_CODE
from tests.mentorship.conftest import cohort, other_mentor  # noqa: F401 - fixtures

# One wrong row of ten: 0.9 on the whole hidden set, which passes the tiny lab's 0.8.
NINE_OF_TEN = [0, 1, 2, 0, 1, 2, 0, 1, 0, 0]
SHOWN = "0.9000"  # as the pages show a score (floatformat:4)


def submitted(lab: Lab, learner: User, *, sealed: bool) -> Run:
    return services.submission_create(learner=learner, lab=lab, source="api", code=VALID_CODE, sealed=sealed)


def finish(run: Run, predictions: list[int] = NINE_OF_TEN) -> Run:
    """The worker's events for ``run`` (claimed, then finished with ``predictions``): the real path
    through ``labs.run_events`` to the score."""
    for event in (
        {"kind": "claimed", "worker": "w", "device": "cpu"},
        {"kind": "finished", "result": {"state": "succeeded", "device": "cpu", "predictions": predictions}},
    ):
        run_events.run_event_apply(run_id=run.pk, token=run.token, event=event)
    return Run.objects.get(pk=run.pk)


@pytest.fixture
def sealed_run(lab: Lab, learner: User) -> Run:
    return finish(submitted(lab, learner, sealed=True))


def unseal(run: Run) -> Run:
    assert services.runs_unseal(run_ids=[run.pk]) == 1
    return Run.objects.get(pk=run.pk)


@pytest.mark.django_db
def test_a_sealed_run_is_scored_into_its_seal_with_neither_score_nor_verdict(sealed_run: Run) -> None:
    assert (sealed_run.state, sealed_run.sealed) == (RunState.SUCCEEDED, True)
    assert (sealed_run.score, sealed_run.passed) == (None, None)
    assert sealed_run.sealed_score == pytest.approx(0.9)


@pytest.mark.django_db
def test_unsealing_shows_the_score_and_its_verdict_once(sealed_run: Run) -> None:
    run = unseal(sealed_run)
    assert (run.sealed, run.score, run.passed) == (False, pytest.approx(0.9), True)
    assert services.runs_unseal(run_ids=[run.pk]) == 0  # idempotent
    assert Run.objects.get(pk=run.pk).score == pytest.approx(0.9)


@pytest.mark.django_db
def test_a_run_unsealed_before_it_is_scored_is_scored_openly(lab: Lab, learner: User) -> None:
    run = submitted(lab, learner, sealed=True)
    unseal(run)
    run = finish(run, predictions=[2] * 10)
    assert (run.sealed, run.score, run.passed, run.sealed_score) == (False, pytest.approx(0.3), False, None)


@pytest.mark.django_db
def test_a_sealed_run_that_failed_unseals_to_no_score(lab: Lab, learner: User) -> None:
    run = unseal(finish(submitted(lab, learner, sealed=True), predictions=[0, 1]))  # two rows for ten
    assert (run.state, run.score, run.passed) == (RunState.FAILED, None, None)


@pytest.mark.django_db
def test_the_notification_of_a_sealed_run_tells_no_score(lab: Lab, learner: User, sealed_run: Run) -> None:
    finish(submitted(lab, learner, sealed=False))  # the same result, unsealed: its title says the score
    titles = list(
        Notification.objects.filter(user=learner, kind=NotificationKind.RUN_FINISHED)
        .order_by("pk")
        .values_list("title", flat=True)
    )
    assert titles == [
        "Tiny lab: finished — the score stays sealed until the challenge's results are revealed",
        "Tiny lab: score 0.9 — passed",
    ]


def numbers_in(value: object) -> list[float]:
    """Every number in a JSON value (a timestamp's digits, such as 12:34:00.94, are not one)."""
    if isinstance(value, dict):
        return [n for item in value.values() for n in numbers_in(item)]
    if isinstance(value, list):
        return [n for item in value for n in numbers_in(item)]
    return [value] if isinstance(value, int | float) and not isinstance(value, bool) else []


@pytest.mark.django_db
def test_the_run_page_and_its_progress_show_no_score_until_unsealed(
    client: Client, learner: User, sealed_run: Run
) -> None:
    client.force_login(learner)
    page = client.get(sealed_run.get_absolute_url()).content.decode()
    progress = client.get(f"/labs/runs/{sealed_run.pk}/progress.json").json()
    assert SHOWN not in page and 'class="badge passed"' not in page
    assert 'data-testid="run-sealed" hidden' not in page and "Sealed until the reveal" in page
    assert 'id="rerun-form" hidden' not in page  # re-run as any other: the new run is sealed too
    assert (progress["score"], progress["passed"], progress["sealed"]) == (None, None, True)
    assert 0.9 not in numbers_in(progress)  # the sealed score, as a number anywhere in the JSON
    assert "0.9 " not in progress.get("diagnosis_html", "") + progress["log"]  # nor in its text

    unseal(sealed_run)
    page = client.get(sealed_run.get_absolute_url()).content.decode()
    progress = client.get(f"/labs/runs/{sealed_run.pk}/progress.json").json()
    assert SHOWN in page and 'class="badge passed"' in page
    assert 'data-testid="run-sealed" hidden' in page
    assert (progress["score"], progress["passed"], progress["sealed"]) == (pytest.approx(0.9), True, False)


@pytest.mark.django_db
def test_the_api_gives_no_score_of_a_sealed_run(api: APIClient, sealed_run: Run) -> None:
    detail = api.get(f"/api/v1/runs/{sealed_run.pk}/").json()
    [listed] = api.get("/api/v1/runs/").json()["results"]
    for body in (detail, listed):
        assert (body["score"], body["passed"], body["sealed"]) == (None, None, True)

    unseal(sealed_run)
    detail = api.get(f"/api/v1/runs/{sealed_run.pk}/").json()
    assert (detail["score"], detail["passed"], detail["sealed"]) == (pytest.approx(0.9), True, False)


@pytest.mark.django_db
def test_the_lab_page_and_the_run_lists_show_no_score_of_a_sealed_run(
    client: Client, learner: User, sealed_run: Run
) -> None:
    client.force_login(learner)
    pages = ["/labs/tiny/", "/labs/submissions/", "/"]
    for url in pages:
        html = client.get(url).content.decode()
        assert SHOWN not in html, url
        assert "Your best score" not in html, url
    assert f'data-testid="run-sealed-{sealed_run.pk}"' in client.get("/labs/submissions/").content.decode()

    unseal(sealed_run)
    assert SHOWN in client.get("/labs/tiny/").content.decode()
    assert SHOWN in client.get("/labs/submissions/").content.decode()


@pytest.mark.django_db
def test_the_lab_leaderboard_leaves_a_sealed_run_out(client: Client, learner: User, sealed_run: Run) -> None:
    client.force_login(learner)
    assert SHOWN not in client.get("/labs/tiny/leaderboard/").content.decode()
    unseal(sealed_run)
    assert SHOWN in client.get("/labs/tiny/leaderboard/").content.decode()


@pytest.mark.django_db
def test_a_sealed_runs_rerun_is_allowed_and_sealed_too(
    client: Client, api: APIClient, learner: User, sealed_run: Run
) -> None:
    rerun = finish(services.run_rerun(run=sealed_run))
    assert rerun.submission_id == sealed_run.submission_id
    assert (rerun.sealed, rerun.score, rerun.passed) == (True, None, None)
    assert rerun.sealed_score == pytest.approx(0.9)
    response = api.post(f"/api/v1/runs/{sealed_run.pk}/rerun/")
    assert response.status_code == 201
    assert (response.json()["sealed"], response.json()["score"]) == (True, None)
    client.force_login(learner)
    response = client.post(f"/labs/runs/{sealed_run.pk}/rerun/")
    assert response.status_code == 302
    assert list(Run.objects.order_by("pk").values_list("sealed", flat=True)) == [True] * 4

    services.runs_unseal(run_ids=Run.objects.values_list("pk", flat=True))
    assert services.run_rerun(run=sealed_run).sealed is False  # nothing sealed any more: an open re-run


@pytest.mark.django_db
def test_a_runs_rerun_is_not_sealed_without_a_seal(lab: Lab, learner: User) -> None:
    run = finish(submitted(lab, learner, sealed=False))
    rerun = finish(services.run_rerun(run=run))
    assert (rerun.sealed, rerun.score) == (False, pytest.approx(0.9))


@pytest.mark.django_db
def test_the_platforms_runs_spend_no_quota(lab: Lab, learner: User) -> None:
    run = submitted(lab, learner, sealed=False)
    services.run_create(run.submission, seed=1, by_platform=True)
    services.run_create(run.submission, seed=2, by_platform=True)
    assert runs_counted_today(learner_id=learner.pk, lab=lab) == 1
    services.run_create(run.submission, seed=3)  # the learner's own: counted
    assert runs_counted_today(learner_id=learner.pk, lab=lab) == 2


def queue_cell(html: str, run: Run) -> str | None:
    """The mentor queue's "passed" cell of ``run`` as words (None: the run is not listed)."""
    match = re.search(rf'data-testid="queue-passed-{run.pk}">(.*?)</td>', html, re.S)
    if match is None:
        return None
    return html_module.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip())


@pytest.mark.django_db
@pytest.mark.usefixtures("cohort")
def test_a_mentor_sees_a_sealed_run_as_sealed_neither_passed_nor_failing(
    client: Client, mentor: User, learner: User, sealed_run: Run
) -> None:
    client.force_login(mentor)
    assert queue_cell(client.get("/mentoring/queue/").content.decode(), sealed_run) == "– sealed until the reveal"
    assert queue_cell(client.get("/mentoring/queue/?state=not_passed").content.decode(), sealed_run) is None
    [status] = mentorship_selectors.mentor_dashboard(mentor=mentor)
    assert status.failures_in_a_row == 0

    unseal(sealed_run)
    assert queue_cell(client.get("/mentoring/queue/").content.decode(), sealed_run) == "✓ passed 0.9000 ≥ 0.8"
