"""An administrator imports a roster, watches the cohort dashboard and exports the gradebook, in a
real browser, with a real Celery worker running the background jobs."""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from cohorts.models import Cohort, LabDeadline
from core.models import Role, User
from labs.models import Lab
from tests.e2e.conftest import login
from tests.factories import PASSWORD, UserFactory
from tests.mentorship.conftest import finished_run

pytestmark = [pytest.mark.e2e, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_admin_imports_a_roster_watches_the_dashboard_and_exports_grades(
    page: Page,
    site_worker: subprocess.Popen,
    lab: Lab,
    tmp_path: object,
) -> None:
    admin = UserFactory(role=Role.ADMIN)
    UserFactory(role=Role.MENTOR, username="wang")
    known = UserFactory(role=Role.LEARNER, username="li", display_name="Li Lei")
    today = timezone.localdate()
    cohort = Cohort.objects.create(slug="autumn", name="Autumn", starts_on=today, ends_on=today + dt.timedelta(30))
    LabDeadline.objects.create(cohort=cohort, lab=lab, due_at=timezone.now() + dt.timedelta(days=5))
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "username,email,name,cohort,mentor\n"
        "li,,Li Lei,autumn,wang\n"
        ",new.learner@example.com,New Learner,autumn,wang\n"
        "ghost,,Nobody,no-such-cohort,wang\n",
        encoding="utf-8",
    )

    login(page, admin.username, PASSWORD)
    page.goto(f"/cohorts/{cohort.slug}/")
    page.get_by_test_id("roster-form").locator("input[type=file]").set_input_files(str(roster))
    page.get_by_test_id("roster-form").locator("button[type=submit]").click()
    expect(page.get_by_test_id("job-state")).to_have_attribute("data-state", "done", timeout=60_000)
    expect(page.get_by_test_id("job-summary")).to_contain_text("2")
    with page.expect_download() as download:
        page.get_by_test_id("job-download").click()
    report = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert [row["outcome"] for row in report] == ["added", "added", "invalid"]
    assert set(cohort.members.values_list("learner__username", flat=True)) >= {"li"}
    assert User.objects.filter(email="new.learner@example.com").exists()

    finished_run(known, lab, passed=True)
    page.goto(f"/cohorts/{cohort.slug}/")
    page.get_by_test_id("open-dashboard").click()
    for chart in ("progress", "pass", "runs", "wait"):
        canvas = page.get_by_test_id(f"chart-{chart}")
        expect(canvas).to_be_visible()
        page.wait_for_function("id => !!document.getElementById(id).chart", arg=f"chart-{chart}")  # drawn

    page.goto(f"/cohorts/{cohort.slug}/gradebook/")
    expect(page.get_by_test_id("gradebook-row-li")).to_be_visible()
    page.get_by_test_id("export-csv").click()
    expect(page.get_by_test_id("job-state")).to_have_attribute("data-state", "done", timeout=60_000)
    with page.expect_download() as download:
        page.get_by_test_id("job-download").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert any(row and row[0] == "li" for row in rows[1:]), rows
