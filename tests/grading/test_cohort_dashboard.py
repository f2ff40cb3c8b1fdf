"""The administrator's cohort dashboard figures."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from cohorts.models import Cohort, LabDeadline
from core.models import User
from grading.dashboard import cohort_dashboard_data
from labs.models import Lab, Run
from tests.mentorship.conftest import finished_run

pytestmark = pytest.mark.django_db


def test_pass_rates_runs_per_day_and_queue_wait(learner: User, other_learner: User, cohort: Cohort, lab: Lab) -> None:
    LabDeadline.objects.create(cohort=cohort, lab=lab, due_at=timezone.now() + dt.timedelta(days=3))
    run = finished_run(learner, lab, passed=True)
    Run.objects.filter(pk=run.pk).update(started_at=run.queued_at + dt.timedelta(seconds=4))
    finished_run(other_learner, lab, passed=False)
    finished_run(other_learner, lab, passed=False)
    data = cohort_dashboard_data(cohort)
    assert data["learners"] == 2
    assert data["pass_rates"] == {"labels": ["Tiny lab"], "percent": [50]}
    assert data["runs_per_day"]["runs"][-1] == 3 and data["runs_per_day"]["passed"][-1] == 1
    assert data["queue_wait"]["overall_median_seconds"] == 4.0
    assert data["progress"]["learners"][0] == 2  # nobody has started a course: both in 0-20 %


def test_dashboard_page_draws_four_charts(client: Client, admin_user: User, cohort: Cohort) -> None:
    client.force_login(admin_user)
    html = client.get(f"/cohorts/{cohort.slug}/dashboard/").content.decode()
    for chart in ("progress", "pass", "runs", "wait"):
        assert f'data-testid="chart-{chart}"' in html
    assert 'id="dashboard-data"' in html and "chart.umd.min.js" in html


def test_figures_are_computed_once_per_cache_period(
    settings, learner: User, cohort: Cohort, lab: Lab, django_assert_num_queries
) -> None:
    from django.core.cache import cache

    settings.COHORT_DASHBOARD_CACHE_SECONDS = 60
    cache.clear()
    finished_run(learner, lab, passed=True)
    first = cohort_dashboard_data(cohort)
    finished_run(learner, lab, passed=False)  # a minute-old figure may miss this run
    with django_assert_num_queries(0):
        assert cohort_dashboard_data(cohort) == first
    cache.clear()  # the period is over
    assert cohort_dashboard_data(cohort)["runs_per_day"]["runs"][-1] == 2
