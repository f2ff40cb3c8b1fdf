"""The grading pages fit the screens they are read on: the gradebook's Final and Result columns on a
laptop (and a hint when columns do scroll), a learner's grades on a phone, and the cohort dashboard's
lab titles and today's bars. Each test leaves screenshots in test-results/: look at them."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from cohorts.models import Cohort, CohortMember, LabDeadline
from core.models import Role, User
from grading.services import grade_override_create
from labs.models import Run
from tests.e2e.conftest import RESULTS, login
from tests.factories import PASSWORD, CohortFactory, UserFactory
from tests.grading.gradebook_setup import make_lab, make_review, make_run

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LAPTOP, DESKTOP, TABLET, PHONE = (1366, 768), (1200, 800), (900, 800), (390, 844)
# Titles like labs/demo's; the last one (54 characters) is the kind the dashboard used to cut.
TITLES = (
    "Two spirals: learning a non-linear boundary",
    "Loan default: ranking risk with ROC AUC",
    "Shapes: a CNN from a folder of images",
    "Fine-tuning a pretrained model with LoRA, step by step",
)
NAMES = ("Wang Xiuying", "Li Na", "Alexandra Papadopoulou-Schmidt", "Zhang Wei", "Olusegun Adeyemi", "Chen Jie")


@dataclass
class Graded:
    cohort: Cohort
    admin: User
    learners: list[User]


@pytest.fixture
def graded(db: None) -> Graded:
    """Twelve learners with two mentors and four labs, each learner with runs (some late, one a day
    up to today), some reviews and a grade changed by hand: a cohort in its fifth week."""
    now = timezone.now()
    today = now.date()
    cohort = CohortFactory(
        slug="summer", name="Summer cohort", starts_on=today - dt.timedelta(30), ends_on=today + dt.timedelta(30)
    )
    mentors = [UserFactory(role=Role.MENTOR, username=f"mentor{n}", display_name=f"Mentor {n}") for n in (1, 2)]
    cohort.mentors.set(mentors)
    labs = []
    for n, title in enumerate(TITLES):
        lab = make_lab(f"lab-{n}")
        lab.title_en = title
        lab.save(update_fields=["title_en"])
        LabDeadline.objects.create(cohort=cohort, lab=lab, due_at=now - dt.timedelta(days=5 - n))
        labs.append(lab)
    learners = []
    for n in range(12):
        learner = UserFactory(username=f"learner{n:02}", display_name=f"{NAMES[n % len(NAMES)]} {n:02}")
        CohortMember.objects.create(cohort=cohort, learner=learner, mentor=mentors[n % 2])
        for days_ago, lab in enumerate(labs[: 1 + n % 4]):
            run = make_run(learner, lab, 0.5 + 0.04 * n, now - dt.timedelta(days=days_ago))
            # Queued when it finished (today for the first lab), started a few seconds later.
            Run.objects.filter(pk=run.pk).update(
                queued_at=run.finished_at, started_at=run.finished_at + dt.timedelta(seconds=2 + n)
            )
            if days_ago == 0 and n % 3 == 0:
                make_review(run, mentors[n % 2], 7)
        learners.append(learner)
    admin = UserFactory(role=Role.ADMIN, username="ada")
    reason = "Re-marked after the mentor found the data loader dropped the last batch of every epoch."
    grade_override_create(cohort=cohort, learner=learners[2], lab=labs[3], score=85, reason=reason, by=admin)
    return Graded(cohort=cohort, admin=admin, learners=learners)


def _resize(page: Page, size: tuple[int, int]) -> None:
    page.set_viewport_size({"width": size[0], "height": size[1]})


def _shot(page: Page, name: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / f"{name}.png"), full_page=True)


def _in_viewport(cells: Locator) -> list[bool]:
    """For each element: is its box wholly inside the viewport's width?"""
    return cells.evaluate_all(
        """cells => cells.map(el => {
             const box = el.getBoundingClientRect();
             return box.width > 0 && box.left >= 0 && box.right <= document.documentElement.clientWidth;
           })"""
    )


def _column(page: Page, name: str) -> Locator:
    return page.get_by_test_id("gradebook").get_by_role("columnheader", name=name, exact=True)


def _page_overflows(page: Page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth > document.documentElement.clientWidth")


def _open_gradebook(page: Page, graded: Graded, size: tuple[int, int]) -> None:
    _resize(page, size)
    login(page, graded.admin.username, PASSWORD)
    page.goto(f"/cohorts/{graded.cohort.slug}/gradebook/")
    expect(page.get_by_test_id("gradebook-row-learner11")).to_be_visible()


@pytest.mark.parametrize("size", [LAPTOP, DESKTOP], ids=["1366", "1200"])
def test_gradebook_fits_final_and_result_on_a_laptop_without_a_scroll_hint(
    page: Page, graded: Graded, size: tuple[int, int]
) -> None:
    _open_gradebook(page, graded, size)
    _shot(page, f"gradebook-{size[0]}")
    assert _in_viewport(_column(page, "Final")) == [True]
    assert _in_viewport(_column(page, "Result")) == [True]
    assert not page.get_by_role("region", name="Gradebook").evaluate("box => box.scrollWidth > box.clientWidth")
    expect(page.get_by_test_id("gradebook-scroll-hint")).to_be_hidden()


def test_gradebook_that_overflows_says_so_and_keeps_learner_final_and_result_in_view(
    page: Page, graded: Graded
) -> None:
    _open_gradebook(page, graded, TABLET)
    expect(page.get_by_test_id("gradebook-scroll-hint")).to_be_visible()
    box = page.get_by_role("region", name="Gradebook")
    assert box.evaluate("box => box.scrollWidth > box.clientWidth")  # the lab columns do scroll here
    # Scrolled to the start, Final and Result are still in view; scrolled to the end, the learner is.
    assert _in_viewport(_column(page, "Final")) == _in_viewport(_column(page, "Result")) == [True]
    box.evaluate("box => { box.scrollLeft = box.scrollWidth; }")
    assert box.evaluate("box => box.scrollLeft > 0")
    assert set(_in_viewport(page.get_by_test_id("gradebook").get_by_role("rowheader"))) == {True}
    page.screenshot(path=str(RESULTS / "gradebook-900-scrolled.png"))


def test_gradebook_on_a_phone_hints_at_columns_and_scrolls_with_the_keyboard(page: Page, graded: Graded) -> None:
    _open_gradebook(page, graded, PHONE)
    _shot(page, "gradebook-390")
    expect(page.get_by_test_id("gradebook-scroll-hint")).to_be_visible()
    assert not _page_overflows(page)  # only the table's own box scrolls, not the page
    # The changes to grades: one card each.
    assert set(_in_viewport(page.get_by_test_id("override-history").get_by_role("cell"))) == {True}
    box = page.get_by_role("region", name="Gradebook")
    box.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("box => box.scrollLeft > 0", arg=box.element_handle())


def test_my_grades_show_every_column_on_a_phone(page: Page, graded: Graded) -> None:
    _resize(page, PHONE)
    login(page, graded.learners[-1].username, PASSWORD)  # four labs, each with a run
    page.goto("/grades/")
    expect(page.get_by_test_id("lab-breakdown")).to_be_visible()
    _shot(page, "my-grades-390")
    points = page.get_by_test_id("lab-breakdown").locator("tr[data-testid^=lab-] > td:nth-child(5)")  # Points
    assert _in_viewport(points) == [True] * len(TITLES)
    assert not _page_overflows(page)
    # Each stacked cell names its column (the header row is out of sight).
    labels = points.evaluate_all("cells => cells.map(td => getComputedStyle(td, '::before').content)")
    assert labels == ['"Points"'] * len(TITLES)


def _open_dashboard(page: Page, graded: Graded, size: tuple[int, int]) -> None:
    _resize(page, size)
    login(page, graded.admin.username, PASSWORD)
    page.goto(f"/cohorts/{graded.cohort.slug}/dashboard/")
    for chart in ("pass", "runs", "wait"):
        page.wait_for_function("id => !!document.getElementById(id).chart", arg=f"chart-{chart}")  # drawn


# For each lab on the pass-rate chart's side axis: its label's lines, and the widest line in pixels.
LAB_LABELS = """() => {
  const chart = document.getElementById('chart-pass').chart, axis = chart.scales.y, ctx = chart.ctx;
  ctx.save();
  ctx.font = Chart.helpers.toFont(axis.options.ticks.font).string;
  const labels = axis.ticks.map(tick => {
    const lines = [].concat(tick.label);
    return {text: lines.join(' '), widest: Math.max(...lines.map(line => ctx.measureText(line).width))};
  });
  ctx.restore();
  return {labels, axisWidth: axis.width};
}"""


@pytest.mark.parametrize("size", [LAPTOP, PHONE], ids=["1366", "390"])
def test_dashboard_shows_whole_lab_titles(page: Page, graded: Graded, size: tuple[int, int]) -> None:
    _open_dashboard(page, graded, size)
    _shot(page, f"dashboard-{size[0]}")
    expect(page.get_by_role("img", name=re.compile(re.escape(TITLES[-1])))).to_be_visible()
    axis = page.evaluate(LAB_LABELS)
    assert [label["text"] for label in axis["labels"]] == list(TITLES)  # none skipped, none cut
    assert all(label["widest"] <= axis["axisWidth"] for label in axis["labels"]), axis  # none clipped


# For each data set of a chart: the box of its last (today's) bar or point, the chart area, and the
# room from the centre of today's slot to the area's right edge against the distance between two days.
LAST_DAY = """id => {
  const chart = document.getElementById(id).chart, area = chart.chartArea, days = chart.scales.x;
  const today = days.getPixelForValue(days.max), yesterday = days.getPixelForValue(days.max - 1);
  return chart.data.datasets.map((_, i) => {
    const items = chart.getDatasetMeta(i).data, last = items[items.length - 1];
    const p = last.getProps(['x', 'y', 'width'], true);
    const half = p.width !== undefined ? p.width / 2 : last.options.radius;
    const top = p.width !== undefined ? p.y : p.y - last.options.radius;
    return {left: p.x - half, right: p.x + half, top, room: area.right - today, step: today - yesterday,
            area: {left: area.left, right: area.right, top: area.top}};
  });
}"""


@pytest.mark.parametrize("size", [LAPTOP, PHONE], ids=["1366", "390"])
def test_dashboard_gives_today_as_much_room_as_any_other_day(page: Page, graded: Graded, size: tuple[int, int]) -> None:
    _open_dashboard(page, graded, size)
    for chart in ("chart-runs", "chart-wait"):
        for last in page.evaluate(LAST_DAY, chart):
            area: dict[str, Any] = last["area"]
            assert area["left"] <= last["left"] and last["right"] <= area["right"], (chart, last)
            assert last["top"] > area["top"], (chart, last)  # today's is the busiest day: not cut at the top
            assert last["room"] >= last["step"] / 2 - 0.5, (chart, last)  # a whole slot, like the days before
