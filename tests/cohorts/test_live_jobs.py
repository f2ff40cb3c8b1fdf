"""A background job's open page hears of each of its steps (``job:<kind>:<id>``; core.live) and puts
them in place itself (static/js/live-parts.js); without JavaScript it refreshes every 2 seconds."""

from __future__ import annotations

import pytest
from django.test import Client

from cohorts.models import Cohort, Job, JobState
from cohorts.roster import job_roster_import_create
from cohorts.tasks import roster_import
from core.models import User
from tests.factories import CohortFactory
from tests.live import heard, page_topics


@pytest.fixture
def spring(db: None) -> Cohort:
    return CohortFactory(slug="spring", name="Spring 2026")


def queued_import(admin_user: User, cohort: Cohort) -> Job:
    text = "username,email,name,cohort,mentor\nnewbie,newbie@example.com,New Bie,spring,\n"
    return job_roster_import_create(requested_by=admin_user, cohort=cohort, file_name="roster.csv", text=text)


@pytest.mark.django_db
def test_each_step_of_a_job_tells_its_page(
    admin_user: User, spring: Cohort, django_capture_on_commit_callbacks: object
) -> None:
    job = queued_import(admin_user, spring)
    with heard() as messages, django_capture_on_commit_callbacks(execute=True):
        roster_import.apply(args=[job.pk])
    topic = f"job:roster_import:{job.pk}"
    assert [m["state"] for m in messages if m["topic"] == topic] == [JobState.RUNNING, JobState.DONE]
    assert {"topic": f"user:{admin_user.pk}", "what": "unread"} in messages  # and the requester's badge


@pytest.mark.django_db
def test_the_job_page_follows_the_job_until_it_ends(client: Client, admin_user: User, spring: Cohort) -> None:
    job = queued_import(admin_user, spring)
    client.force_login(admin_user)
    html = client.get(job.get_absolute_url()).content.decode()
    assert page_topics(html) == [f"user:{admin_user.pk}", f"job:{job.kind}:{job.pk}"]
    assert "js/live-parts." in html and 'data-poll-seconds="2"' in html
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in html
    Job.objects.filter(pk=job.pk).update(state=JobState.DONE)
    html = client.get(job.get_absolute_url()).content.decode()
    assert page_topics(html) == [f"user:{admin_user.pk}"]
    assert "js/live-parts." not in html and "http-equiv" not in html
