"""The review queue (page and API) and the mentor dashboard run a fixed number of SQL queries, whatever
the number of mentees, labs, runs, reviews and dismissals: each is measured on a small and on a larger
world built the same way, with every filter, and the counts must be equal (as
``tests/courses/test_query_budget.py`` holds the curriculum pages; ``bench/page_queries.py`` measures
the queue at 10,000 runs)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cohorts.models import Cohort, CohortMember
from core.models import Role, User
from labs.models import Lab, Run, RunState
from mentorship import services
from mentorship.models import DismissReason, Verdict
from tests.factories import UserFactory
from tests.mentorship.conftest import another_lab, queued_result

GOAL = 15  # bench/page_queries.py's goal for a page

URLS = [
    "/mentoring/queue/",
    "/mentoring/queue/?all=1",
    "/mentoring/queue/?dismissed=1",
    "/mentoring/queue/?all=1&dismissed=1&state=not_passed",
    "/mentoring/queue/?state=passed&learner=q-learner-0",
    "/mentoring/queue/?lab=q-lab-1&state=failed",
    "/api/v1/mentoring/queue/",
    "/api/v1/mentoring/queue/?all=1&dismissed=1",
    "/mentoring/",
]


def build_queue(mentor: User, lab: Lab, *, learners: int, labs: int, runs: int) -> None:
    """``learners`` mentees of ``mentor``, each with ``runs`` runs on each of ``labs`` labs. The newest
    run of learner i on lab j passed, did not pass or failed as (i + j) % 3 says; learner 1's newest
    run of the first lab is dismissed, an older one of learner 0 was dismissed and put back, and
    learner 0's first run on the second lab was reviewed."""
    today = timezone.localdate()
    cohort = Cohort.objects.create(slug="q-cohort", name="Q", starts_on=today, ends_on=today)
    cohort.mentors.add(mentor)
    all_labs = [another_lab(lab, f"q-lab-{j}") for j in range(labs)]
    made: dict[tuple[int, int], list[Run]] = {}
    for i in range(learners):
        learner = UserFactory(role=Role.LEARNER, username=f"q-learner-{i}")
        CohortMember.objects.create(cohort=cohort, learner=learner, mentor=mentor)
        for j, each in enumerate(all_labs):
            outcome = (i + j) % 3
            made[i, j] = [queued_result(learner, each, score=0.9 if k % 2 else 0.1) for k in range(runs - 1)]
            state = RunState.FAILED if outcome == 2 else RunState.SUCCEEDED
            made[i, j].append(queued_result(learner, each, state=state, score=0.9 if outcome == 0 else 0.1))
    services.dismissal_create(mentor=mentor, run=made[1, 0][-1], reason=DismissReason.DUPLICATE)
    services.dismissal_create(mentor=mentor, run=made[0, 0][0], reason=DismissReason.OTHER, note="later")
    services.dismissal_undo(mentor=mentor, run=made[0, 0][0])
    services.review_create(mentor=mentor, run=made[0, 1][0], verdict=Verdict.CHANGES_REQUESTED)


def clear_queue() -> None:
    Cohort.objects.filter(slug="q-cohort").delete()
    User.objects.filter(username__startswith="q-learner-").delete()  # their runs, reviews, dismissals
    Lab.objects.filter(slug__startswith="q-lab-").delete()


def count_queries(client: Client, url: str) -> tuple[int, int]:
    """(queries, rows shown): a page that shows nothing would skip the per-row reads."""
    client.get(url)  # warm: the session, lazy imports
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    body = response.content.decode()
    rows = len(response.json()) if url.startswith("/api/") else body.count('data-testid="queue-run-')
    return len(queries), rows


@pytest.mark.django_db
def test_the_queue_reads_a_fixed_number_of_queries_at_any_size(mentor: User, lab: Lab) -> None:
    client = Client()
    client.force_login(mentor)
    build_queue(mentor, lab, learners=2, labs=2, runs=2)
    small = {url: count_queries(client, url) for url in URLS}
    clear_queue()
    build_queue(mentor, lab, learners=12, labs=3, runs=3)
    large = {url: count_queries(client, url) for url in URLS}
    assert all(rows for url, (_, rows) in small.items() if "queue" in url), small  # every filter shows rows
    assert {url: n for url, (n, _) in small.items()} == {url: n for url, (n, _) in large.items()}
    assert max(n for n, _ in large.values()) <= GOAL, large
