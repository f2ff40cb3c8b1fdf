"""A learner submits a solution in the browser, watches the learning curve grow, and sees the score."""

from __future__ import annotations

import subprocess

import pytest
from playwright.sync_api import Page, expect

from core.models import Role
from labs import services
from labs.demo_seed import demo_lab_seed
from tests.e2e.conftest import login
from tests.e2e.editor import code_fill
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# The reference solution trains two-spirals in about a second on a warm worker: faster than the
# page polls (1 s). Pacing its epochs (50 ms each, 80 epochs) makes the run last long enough for
# the page to show it running with a curve that grows, whatever the machine.
PACED = """

_unpaced_train = train


def train(data, run):
    import time

    log = run.log

    def paced_log(step, **metrics):
        time.sleep(0.05)
        log(step, **metrics)

    run.log = paced_log
    return _unpaced_train(data, run)
"""


def test_learner_submits_in_the_browser_and_watches_the_run_to_its_score(
    page: Page, site_worker: subprocess.Popen, lab_worker: subprocess.Popen
) -> None:
    lab = demo_lab_seed("two-spirals")
    learner = UserFactory(role=Role.LEARNER)
    login(page, learner.username, PASSWORD)

    page.click("text=Labs")
    page.get_by_test_id("lab-two-spirals").click()
    expect(page.get_by_test_id("lab-title")).to_have_text(lab.title_en)
    code_fill(page, lab.reference_solution + PACED)
    page.get_by_test_id("submit-button").click()

    # The run page updates itself: state, a growing curve, then the score against the threshold.
    expect(page.get_by_test_id("run-state")).to_have_attribute("data-state", "running", timeout=120_000)
    expect(page.get_by_test_id("curve-empty")).to_be_hidden(timeout=60_000)
    points_seen = page.evaluate("() => Chart.getChart('curve').data.datasets[0].data.length")
    expect(page.get_by_test_id("run-state")).to_have_attribute("data-state", "succeeded", timeout=120_000)
    points_at_end = page.evaluate("() => Chart.getChart('curve').data.datasets[0].data.length")
    assert points_at_end > points_seen >= 1
    expect(page.get_by_test_id("run-verdict")).to_have_text("passed")
    assert float(page.get_by_test_id("run-score").inner_text()) >= lab.threshold
    expect(page.get_by_test_id("rerun-button")).to_be_visible()
    # Its files are offered as soon as it ends, without a reload: weights, the whole log, the metrics.
    for kind in ("weights", "log", "metrics"):
        expect(page.get_by_test_id(f"download-{kind}")).to_be_visible(timeout=10_000)
    with page.expect_download() as download:
        page.get_by_test_id("download-metrics").click()
    assert download.value.suggested_filename.endswith("-metrics.csv")


def test_a_syntax_error_is_shown_in_the_browser_and_nothing_runs(page: Page) -> None:
    lab = demo_lab_seed("linear-regression")
    learner = UserFactory(role=Role.LEARNER)
    login(page, learner.username, PASSWORD)
    page.goto(lab.get_absolute_url())
    code_fill(page, "def train(data, run)\n    return None\n")
    page.get_by_test_id("submit-button").click()
    expect(page.get_by_test_id("submit-errors")).to_contain_text("Line 1")
    expect(page.locator("#id_code")).to_have_value("def train(data, run)\n    return None\n")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_lab_and_run_pages_fit_a_phone_screen(page: Page, language: str) -> None:
    lab = demo_lab_seed("digits-mlp")
    learner = UserFactory(role=Role.LEARNER, preferred_language=language)
    page.set_viewport_size({"width": 375, "height": 740})
    login(page, learner.username, PASSWORD)
    run = services.submission_create(learner=learner, lab=lab, source="web", code=lab.starter_code)
    for url in (lab.get_absolute_url(), run.get_absolute_url(), "/labs/", "/labs/submissions/"):
        page.goto(url)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{url} is {overflow}px wider than a phone screen"
