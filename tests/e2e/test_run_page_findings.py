"""The run page and the submit form as an outside review found them, in a real browser: a long log line
kept inside the page on a phone, no empty curve box for a run that logged nothing, plain state words
that follow the run live, the chart's axis title from the page, and a refused upload that says why."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import Page, Route, expect

from core.live import live_publish, run_topic
from core.models import User
from labs.models import Lab, Run, RunState, Submission
from tests.e2e.conftest import login
from tests.e2e.editor import code_fill
from tests.factories import PASSWORD
from tests.labs.conftest import VALID_CODE

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LONG_LINE = "ValueError: " + "x" * 400  # one 400-character line, as a traceback or a print can make
CURVE = [{"step": n, "t": n / 10, "metrics": {"loss": 1 / (n + 1), "val_accuracy": n / 25}} for n in range(25)]
PHONE, DESKTOP = 390, 1200


def run_create(learner: User, lab: Lab, *, state: str, **fields: object) -> Run:
    """A run written straight to the database: nothing is dispatched, the page polls what the test sets."""
    submission = Submission.objects.create(
        learner=learner, lab=lab, code=VALID_CODE, code_sha256="0" * 64, source="web", params={"epochs": 5, "lr": 0.1}
    )
    return Run.objects.create(
        submission=submission, dataset_id=lab.dataset_id, state=state, seed=7, code_sha256="0" * 64, **fields
    )


def moved(run: Run, **fields: object) -> None:
    """Change the run in the database and tell its page, as labs.run_events does (the page polls while
    no events server streams the hint)."""
    Run.objects.filter(pk=run.pk).update(**fields)
    live_publish(run_topic(run.pk))


def ended(learner: User, lab: Lab, outcome: str) -> Run:
    log = f'Traceback (most recent call last):\n  File "solution.py", line 4, in train\n{LONG_LINE}\n'
    if outcome == "failed":
        return run_create(learner, lab, state=RunState.FAILED, reason=f"error: {LONG_LINE}"[:500], log=log)
    return run_create(
        learner, lab, state=RunState.SUCCEEDED, curve=CURVE, log=f"epoch 24\n{LONG_LINE}\n", score=0.9, passed=True
    )


def assert_no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
@pytest.mark.parametrize("outcome", ["passed", "failed"])
def test_an_ended_run_fits_the_screen_and_shows_its_curve_only_when_it_has_points(
    page: Page, learner: User, lab: Lab, outcome: str, width: int
) -> None:
    run = ended(learner, lab, outcome)
    page.set_viewport_size({"width": width, "height": 900})
    login(page, learner.username, PASSWORD)
    page.goto(run.get_absolute_url())
    expect(page.get_by_test_id("run-log")).to_contain_text(LONG_LINE)
    assert_no_sideways_scroll(page)
    log = page.get_by_test_id("run-log")
    assert log.evaluate("e => e.scrollWidth <= e.clientWidth"), "the log's long line runs past its box"
    expect(page.get_by_test_id("run-params")).to_have_text("epochs = 5lr = 0.1")
    if outcome == "failed":
        expect(page.get_by_test_id("run-state")).to_have_text("failed")
        expect(page.get_by_test_id("curve-box")).to_be_hidden()
        expect(page.get_by_test_id("curve-empty")).to_have_text("This run logged no points.")
    else:
        expect(page.get_by_test_id("run-state")).to_have_text("finished")
        expect(page.get_by_test_id("run-verdict")).to_have_text("passed")
        expect(page.get_by_test_id("curve-box")).to_be_visible()
        expect(page.get_by_test_id("curve-empty")).to_be_hidden()
        assert page.evaluate("() => Chart.getChart('curve').options.scales.x.title.text") == "step"


def test_the_charts_axis_title_is_the_word_the_page_gives_it(page: Page, learner: User, lab: Lab) -> None:
    """run.js writes no English of its own: the translated word comes in the script tag's data-label-step."""
    run = ended(learner, lab, "passed")
    login(page, learner.username, PASSWORD)

    def in_another_language(route: Route) -> None:
        html = route.fetch().text()
        route.fulfill(body=html.replace('data-label-step="step"', 'data-label-step="步数"'), content_type="text/html")

    page.route(f"**{run.get_absolute_url()}", in_another_language)
    page.goto(run.get_absolute_url())
    expect(page.get_by_test_id("curve-box")).to_be_visible()
    assert page.evaluate("() => Chart.getChart('curve').options.scales.x.title.text") == "步数"


def test_a_live_run_that_ends_without_points_drops_the_curve_box_without_a_reload(
    page: Page, learner: User, lab: Lab
) -> None:
    run = run_create(learner, lab, state=RunState.RUNNING, started_at=timezone.now())
    login(page, learner.username, PASSWORD)
    page.goto(run.get_absolute_url())
    expect(page.get_by_test_id("curve-box")).to_be_visible()  # points may still come: the hint stays
    expect(page.get_by_test_id("curve-empty")).to_contain_text("Points appear here")
    moved(run, state=RunState.FAILED, reason="error: ValueError", finished_at=timezone.now())
    expect(page.get_by_test_id("run-state")).to_have_text("failed")
    expect(page.get_by_test_id("curve-box")).to_be_hidden()
    expect(page.get_by_test_id("curve-empty")).to_have_text("This run logged no points.")


def test_a_live_run_that_is_scored_below_the_threshold_reads_finished_and_not_passed(
    page: Page, learner: User, lab: Lab
) -> None:
    run = run_create(learner, lab, state=RunState.RUNNING, started_at=timezone.now(), curve=CURVE[:3])
    login(page, learner.username, PASSWORD)
    page.goto(run.get_absolute_url())
    expect(page.get_by_test_id("run-state")).to_have_text("running")
    moved(run, state=RunState.SUCCEEDED, score=0.3, passed=False, finished_at=timezone.now())
    expect(page.get_by_test_id("run-state")).to_have_text("finished")
    expect(page.get_by_test_id("run-state")).to_have_attribute("data-state", "succeeded")
    expect(page.get_by_test_id("run-verdict")).to_have_text("not passed")
    expect(page.get_by_test_id("curve-box")).to_be_visible()


def test_an_empty_upload_says_why_beside_the_upload_field(page: Page, learner: User, lab: Lab) -> None:
    login(page, learner.username, PASSWORD)
    page.goto(lab.get_absolute_url())
    page.set_input_files("#id_upload", files=[{"name": "solution.py", "mimeType": "text/x-python", "buffer": b""}])
    page.get_by_test_id("submit-button").click()
    errors = page.get_by_test_id("upload-errors")
    expect(errors).to_have_text("The submitted file is empty.")
    expect(errors).to_have_attribute("role", "alert")
    expect(page.locator("#id_upload")).to_have_attribute("aria-describedby", "id_upload_error")
    assert not Run.objects.exists()


def test_code_sent_from_the_browser_is_stored_with_newlines_only(page: Page, learner: User, lab: Lab) -> None:
    """A form posts a textarea's lines with CRLF: stored as the same file uploaded would be."""
    login(page, learner.username, PASSWORD)
    page.goto(lab.get_absolute_url())
    code_fill(page, VALID_CODE)
    page.get_by_test_id("submit-button").click()
    expect(page.get_by_test_id("run-state")).to_be_visible()
    code = Submission.objects.get(learner=learner).code
    assert "\r" not in code and code.strip() == VALID_CODE.strip()
