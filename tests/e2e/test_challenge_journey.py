"""A small challenge from its creation to its reveal, in a real browser with real workers: an
administrator creates it on its page, a learner enters a solution that trains and is scored on the
public half while its whole-set score stays sealed, the phase ends, the beat's task reveals it (re-runs
with three seeds, the final ranking and its shake-up), and the learner is told."""

from __future__ import annotations

import datetime as dt
import subprocess
import zoneinfo

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from challenges.models import Challenge, Entry, Phase, Rerun
from challenges.tasks import phases_reveal_due
from core.models import Role
from labs.demo_seed import demo_lab_seed
from labs.models import RunState
from tests.challenges.conftest import entry_create
from tests.e2e.conftest import RESULTS, login
from tests.e2e.editor import code_fill
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _local(page: Page, when: dt.datetime) -> str:
    """``when`` as the create form's datetime-local field wants it, in the zone the form names."""
    zone = page.get_by_text("Time zone:").first.inner_text().split("Time zone:")[1].strip().split()[0]
    return when.astimezone(zoneinfo.ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def test_a_challenge_from_its_creation_to_the_reveal(
    page: Page, browser: Browser, live_server: object, site_worker: subprocess.Popen, lab_worker: subprocess.Popen
) -> None:
    lab = demo_lab_seed("two-spirals")
    admin = UserFactory(role=Role.ADMIN)
    learner = UserFactory(role=Role.LEARNER)
    rival = UserFactory(role=Role.LEARNER)

    # The administrator creates the challenge with one phase open now.
    login(page, admin.username, PASSWORD)
    page.goto("/challenges/")
    page.get_by_test_id("new-challenge").click()
    now = timezone.now()
    page.fill("#id_slug", "spiral-sprint")
    page.fill("#id_title_en", "Spiral sprint")
    page.fill("#id_title_zh", "螺旋冲刺赛")
    page.fill("#id_rules_en", "Two final picks; **three** seeds at the end.")
    page.check("#id_published")
    page.select_option("#id_lab", label=f"{lab.title_en} ({lab.slug})")
    page.fill("#id_starts_at", _local(page, now - dt.timedelta(hours=1)))
    page.fill("#id_ends_at", _local(page, now + dt.timedelta(hours=2)))
    page.get_by_test_id("challenge-create-submit").click()
    expect(page.get_by_test_id("challenge-title")).to_have_text("Spiral sprint")
    page.screenshot(path=str(RESULTS / "challenge-journey-created.png"), full_page=True)
    phase = Phase.objects.get(challenge__slug="spiral-sprint")
    assert Challenge.objects.get(slug="spiral-sprint").created_by == admin
    assert phase.rerun_seeds == 3 and phase.final_picks == 2

    # A rival's entry is on the board already (a finished run, written to the database).
    rival_entry = entry_create(phase, rival, public_score=0.75)
    Entry.objects.filter(pk=rival_entry.pk).update(private_score=0.8123)  # to be looked for, and not found

    # The learner enters the reference solution from the challenge's page; it trains and is scored.
    context = browser.new_context(base_url=live_server.url, locale="en-US", viewport={"width": 1200, "height": 800})
    context.set_default_timeout(15_000)
    mine = context.new_page()
    login(mine, learner.username, PASSWORD)
    mine.goto("/challenges/spiral-sprint/")
    code_fill(mine, lab.reference_solution)
    mine.get_by_test_id("entry-submit").click()
    expect(mine.get_by_test_id("run-state")).to_have_attribute("data-state", "succeeded", timeout=180_000)
    entry = Entry.objects.get(learner=learner)
    assert entry.public_score is not None and entry.private_score is not None
    # The run page shows the public score (rounded) and nothing of the whole hidden set or its verdict.
    mine.reload()
    body = mine.locator("main").inner_text()
    assert f"{round(entry.public_score, 4):.4f}" in body
    run = entry.run
    run.refresh_from_db()
    assert run.score is None and run.sealed_score is not None
    assert f"{run.sealed_score:.4g}" not in body or f"{run.sealed_score:.4g}" == f"{entry.public_score:.4g}"
    expect(mine.get_by_test_id("run-score")).to_have_text("—")
    expect(mine.get_by_test_id("run-verdict")).to_have_text("")
    expect(mine.get_by_test_id("run-sealed")).to_be_visible()
    mine.screenshot(path=str(RESULTS / "challenge-journey-sealed-run.png"), full_page=True)

    # The board: the learner above the rival on public scores, no private column, the baselines.
    mine.goto("/challenges/spiral-sprint/phases/1/")
    board = mine.get_by_test_id("challenge-board")
    expect(board.locator("tbody tr").first).to_contain_text(learner.public_name)
    expect(mine.get_by_test_id("private-column")).to_have_count(0)
    expect(mine.get_by_test_id("baseline-row").first).to_be_visible()
    expect(mine.get_by_test_id("reveal-note")).to_be_visible()
    assert "0.812" not in mine.content()

    # The phase ends; the beat's task reveals it once, and the re-runs train on the lab worker.
    Phase.objects.filter(pk=phase.pk).update(ends_at=timezone.now(), starts_at=timezone.now() - dt.timedelta(hours=3))
    assert phases_reveal_due() == 1
    assert phases_reveal_due() == 0
    reruns = Rerun.objects.filter(entry=entry)
    assert reruns.count() == 3
    deadline = timezone.now() + dt.timedelta(minutes=4)
    while reruns.filter(private_score__isnull=True).exists() and timezone.now() < deadline:
        mine.wait_for_timeout(1000)
    assert not reruns.filter(private_score__isnull=True).exists(), list(reruns.values("run__state", "run__reason"))
    assert all(r.run.state == RunState.SUCCEEDED for r in reruns.select_related("run"))

    # The final ranking with its shake-up, and the learner's notification.
    mine.goto("/challenges/spiral-sprint/phases/1/")
    final = mine.get_by_test_id("final-board")
    expect(final).to_be_visible()
    expect(final.locator("[data-testid=final-row]")).to_have_count(2)
    expect(final.locator("[data-testid=final-row]").first).to_contain_text("3")  # three re-runs
    expect(final.get_by_test_id("move").first).to_be_visible()
    # the lab's reference solution, queued when the challenge was created, is a baseline row by now
    expect(mine.get_by_test_id("baseline-row").filter(has_text="Reference solution")).to_be_visible()
    mine.screenshot(path=str(RESULTS / "challenge-journey-revealed.png"), full_page=True)
    mine.goto("/notifications/")
    expect(mine.locator("main")).to_contain_text("The final ranking of Spiral sprint is revealed.")
    # The entry's run now shows its whole-set score, unsealed.
    mine.goto(run.get_absolute_url())
    expect(mine.get_by_test_id("run-score")).to_have_text(f"{run.sealed_score:.4f}")
    expect(mine.get_by_test_id("run-sealed")).to_be_hidden()
    context.close()
