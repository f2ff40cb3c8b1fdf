"""Push, not poll, in a real browser with the events server (config/live_server.py): a run page follows
its run from the site's events without asking progress.json on a timer, and polls again once the
events server is gone; the unread badge changes as a notification is made, not at the next 30 s poll;
a challenge's leaderboard shows an entry as it is scored."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from challenges import views as challenge_views
from challenges.models import Entry, Phase
from cohorts.models import Cohort, CohortMember
from core.models import NotificationKind, Role, User
from labs import run_events
from labs.models import Lab, Run, RunState, Submission
from notifications.services import notify
from tests.e2e.conftest import RESULTS, EventsServer, login, stream_open
from tests.factories import PASSWORD, UserFactory
from tests.labs.conftest import VALID_CODE
from tests.mentorship.conftest import finished_run

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PERFECT = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]  # the tiny lab's hidden labels


def queued_run(learner: User, lab: Lab, *, sealed: bool = False) -> Run:
    """A run written straight to the database, as if sent: the test plays its worker's events."""
    submission = Submission.objects.create(
        learner=learner, lab=lab, code=VALID_CODE, code_sha256="0" * 64, source="web", params={}
    )
    return Run.objects.create(
        submission=submission,
        dataset_id=lab.dataset_id,
        seed=7,
        code_sha256="0" * 64,
        sealed=sealed,
        sent_at=timezone.now(),
    )


def worker_says(run: Run, kind: str, **fields: object) -> None:
    """What the site does with an event of the run's lab worker (labs.tasks.run_event), committed."""
    run_events.run_event_apply(run_id=run.pk, token=run.token, event={"kind": kind, **fields})


def progress(step: int) -> list[dict]:
    return [
        {"kind": "metrics", "step": step, "t": step / 10, "metrics": {"loss": 1 / step}},
        {"kind": "output", "text": f"epoch {step}\n"},
    ]


def test_the_run_page_follows_the_worker_without_polling_and_polls_once_the_stream_is_gone(
    page: Page, learner: User, lab: Lab, live_events: EventsServer, settings: object
) -> None:
    settings.RUN_PAGE_POLL_MS = 300  # rendered into data-poll-ms: polling would show within a second
    run = queued_run(learner, lab)
    login(page, learner.username, PASSWORD)
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url) if "progress.json" in request.url else None)
    page.goto(run.get_absolute_url())
    stream_open(page)
    state = page.get_by_test_id("run-state")
    log = page.get_by_test_id("run-log")
    page.wait_for_timeout(1500)  # five poll intervals: the one catch-up fetch as the stream opened, no more
    assert len(asked) <= 1, asked
    asked.clear()

    worker_says(run, "claimed", worker="lab@test", device="cpu")
    expect(state).to_have_attribute("data-state", "preparing")
    for step in (1, 2, 3):
        worker_says(run, "progress", events=progress(step))
        expect(log).to_contain_text(f"epoch {step}")
    page.wait_for_timeout(1500)
    assert 1 <= len(asked) <= 4, asked  # one fetch per change (a burst may share one), none on a timer
    assert page.evaluate("Chart.getChart('curve').data.datasets[0].data.length") == 3
    page.screenshot(path=str(RESULTS / "live-run-page-pushed.png"), full_page=True)

    live_events.stop()
    page.wait_for_function("() => window.academyLive.state() === 'down'")
    asked.clear()
    worker_says(run, "finished", result={"state": "succeeded", "predictions": PERFECT, "log_tail": "done\n"})
    expect(state).to_have_attribute("data-state", "succeeded")  # by polling: nobody tells the page now
    expect(page.get_by_test_id("run-score")).to_have_text("1.0000")
    assert len(asked) >= 1
    page.wait_for_timeout(1000)
    assert page.evaluate("window.academyLive.state()") == "down"
    final = len(asked)
    page.wait_for_timeout(1000)
    assert len(asked) == final  # an ended run is asked nothing more
    page.screenshot(path=str(RESULTS / "live-run-page-polled.png"), full_page=True)


def test_the_badge_shows_news_as_it_is_made(page: Page, learner: User, live_events: EventsServer) -> None:
    login(page, learner.username, PASSWORD)
    stream_open(page)
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url) if "unread-count" in request.url else None)
    badge = page.get_by_test_id("unread-count")
    expect(badge).to_have_count(0)

    notify(user=learner, kind=NotificationKind.RUN_FINISHED, title="Tiny lab: score 0.9 — passed", url="/labs/")
    expect(badge).to_have_text("1 unread", timeout=5_000)  # the poll is every 30 s
    assert len(asked) == 1
    page.screenshot(path=str(RESULTS / "live-badge-pushed.png"))


def test_the_board_shows_an_entry_as_it_is_scored(
    page: Page,
    open_phase: Phase,
    learner: User,
    other_learner: User,
    live_events: EventsServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(challenge_views, "BOARD_POLL_SECONDS", 600)  # no poll could show it in time
    run = queued_run(other_learner, open_phase.lab, sealed=True)
    Entry.objects.create(phase=open_phase, run=run, learner=other_learner)
    login(page, learner.username, PASSWORD)
    page.goto("/challenges/tiny-cup/phases/1/")
    stream_open(page)
    board = page.get_by_test_id("challenge-board")
    expect(board).not_to_contain_text(other_learner.public_name)

    worker_says(run, "claimed", worker="lab@test", device="cpu")
    worker_says(run, "finished", result={"state": "succeeded", "predictions": PERFECT})
    assert Run.objects.get(pk=run.pk).state == RunState.SUCCEEDED
    expect(board.locator("tbody tr").first).to_contain_text(other_learner.public_name, timeout=5_000)
    expect(board.locator("tbody tr").first).to_contain_text("1.0000")
    expect(page.get_by_test_id("board-status")).to_have_text("The leaderboard was updated.")
    page.screenshot(path=str(RESULTS / "live-board-pushed.png"), full_page=True)


def test_the_review_queue_takes_in_a_mentees_run_as_it_ends_but_not_under_an_open_dismiss_form(
    page: Page, mentor: User, learner: User, cohort: Cohort, lab: Lab, live_events: EventsServer
) -> None:
    waiting = finished_run(learner, lab, passed=False)
    mentee = UserFactory(role=Role.LEARNER, username="lara")
    CohortMember.objects.create(cohort=cohort, learner=mentee, mentor=mentor)
    login(page, mentor.username, PASSWORD)
    page.goto("/mentoring/queue/")
    stream_open(page)
    expect(page.get_by_test_id("queue-count")).to_have_text("1 waiting")
    page.get_by_test_id(f"dismiss-{waiting.pk}").click()  # a dismiss form open: the list waits for it
    note = page.locator(f"#dismiss-note-{waiting.pk}")
    note.fill("half written")

    run = queued_run(mentee, lab)
    worker_says(run, "finished", result={"state": "failed", "reason": "error: boom"})
    expect(page.get_by_test_id("queue-count")).to_have_text("2 waiting")
    expect(page.get_by_test_id(f"queue-run-{run.pk}")).to_have_count(0)  # the list is left as the mentor has it
    expect(note).to_have_value("half written")

    page.get_by_test_id(f"dismiss-{waiting.pk}").click()  # closed: now the list takes the new run in
    expect(page.get_by_test_id(f"queue-run-{run.pk}")).to_be_visible()
    expect(page.get_by_test_id("live-status")).to_have_text("The review queue was updated.")
    page.screenshot(path=str(RESULTS / "live-review-queue.png"), full_page=True)
