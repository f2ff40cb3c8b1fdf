"""The review queue's reads are cached (mentorship.queue_page): no change may leave the page stale,
and no viewer may be shown another viewer's queue.

Each test renders the queue (which fills the cache), makes one kind of change the way the platform
makes it (a run's events, a service, the Django admin), renders again and looks for the change."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.test import Client

from cohorts.models import Cohort, CohortMember
from cohorts.services import cohort_member_remove, cohort_mentor_set
from core.models import Role, User
from labs import run_events
from labs import services as lab_services
from labs.models import Lab, Run
from mentorship import services
from mentorship.models import Review, Verdict
from tests.factories import UserFactory
from tests.labs.conftest import VALID_CODE
from tests.page_cache import cold_and_warm_queries

pytestmark = pytest.mark.django_db

QUEUE = "/mentoring/queue/"
RIGHT = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]  # the tiny lab's hidden labels


def finish(learner: User, lab: Lab, predictions: list[int] = RIGHT) -> Run:
    """A run through its real end: submitted, then the worker's "finished" event, scored by the site."""
    run = lab_services.submission_create(learner=learner, lab=lab, source="api", code=VALID_CODE)
    event = {"kind": "finished", "result": {"state": "succeeded", "predictions": predictions}}
    run_events.run_event_apply(run_id=run.pk, token=run.token, event=event)
    run.refresh_from_db()
    return run


def queued(client: Client, query: str = "") -> list[int]:
    """The run ids the queue page lists now."""
    response = client.get(QUEUE + query)
    assert response.status_code == 200
    return [int(pk) for pk in re.findall(r'data-testid="queue-run-(\d+)"', response.content.decode())]


@pytest.fixture
def mentor_client(client: Client, mentor: User, cohort: Cohort) -> Client:
    client.force_login(mentor)
    return client


def test_a_run_that_ends_joins_the_queue_at_once(mentor_client: Client, learner: User, lab: Lab) -> None:
    assert queued(mentor_client) == []
    run = finish(learner, lab)
    assert queued(mentor_client) == [run.pk]
    newer = finish(learner, lab)
    assert queued(mentor_client) == [newer.pk]  # the older one folded into it


def test_a_review_settles_the_run_at_once_and_its_deletion_brings_it_back(
    mentor_client: Client, mentor: User, learner: User, lab: Lab
) -> None:
    run = finish(learner, lab)
    assert queued(mentor_client) == [run.pk]
    review = services.review_create(mentor=mentor, run=run, verdict=Verdict.APPROVED)
    assert queued(mentor_client) == []
    Review.objects.filter(pk=review.pk).get().delete()  # as the Django admin deletes it
    assert queued(mentor_client) == [run.pk]


def test_a_dismissal_and_its_undoing_show_at_once(mentor_client: Client, mentor: User, learner: User, lab: Lab) -> None:
    run = finish(learner, lab)
    assert queued(mentor_client) == [run.pk]
    services.dismissal_create(mentor=mentor, run=run, reason="starter")
    assert queued(mentor_client) == []
    assert queued(mentor_client, "?dismissed=1") == [run.pk]
    services.dismissal_undo(mentor=mentor, run=run)
    assert queued(mentor_client) == [run.pk]


def test_an_unsealed_run_meets_the_passed_filter_at_once(mentor_client: Client, learner: User, lab: Lab) -> None:
    run = finish(learner, lab)
    Run.objects.filter(pk=run.pk).update(sealed=True, sealed_score=run.score, score=None, passed=None)
    cache.clear()  # the queue as a sealed run leaves it (the update above is no platform write)
    assert queued(mentor_client, "?state=passed") == []
    lab_services.runs_unseal(run_ids=[run.pk])
    assert queued(mentor_client, "?state=passed") == [run.pk]


def test_a_new_mentee_joins_and_a_removed_one_leaves_at_once(
    mentor_client: Client, mentor: User, other_learner: User, cohort: Cohort, lab: Lab
) -> None:
    theirs = finish(other_learner, lab)
    assert queued(mentor_client) == []
    cohort_mentor_set(member=CohortMember.objects.get(cohort=cohort, learner=other_learner), mentor=mentor)
    assert queued(mentor_client) == [theirs.pk]
    cohort_member_remove(cohort=cohort, learner=other_learner)
    assert queued(mentor_client) == []


def test_a_mentee_moved_to_another_mentor_moves_between_their_queues_at_once(
    client: Client, mentor: User, learner: User, cohort: Cohort, lab: Lab
) -> None:
    run = finish(learner, lab)
    other_mentor = UserFactory(role=Role.MENTOR)
    other = Client()
    other.force_login(other_mentor)
    client.force_login(mentor)
    assert (queued(client), queued(other)) == ([run.pk], [])
    cohort_mentor_set(member=CohortMember.objects.get(cohort=cohort, learner=learner), mentor=other_mentor)
    assert (queued(client), queued(other)) == ([], [run.pk])
    newer = finish(learner, lab)  # the new mentor's queue follows the learner's work
    assert queued(other) == [newer.pk]


def test_a_membership_deleted_in_the_admin_leaves_the_queue_at_once(
    mentor_client: Client, learner: User, cohort: Cohort, lab: Lab
) -> None:
    run = finish(learner, lab)
    assert queued(mentor_client) == [run.pk]
    CohortMember.objects.get(cohort=cohort, learner=learner).delete()  # as the Django admin deletes it
    assert queued(mentor_client) == []


def test_a_renamed_learner_and_lab_show_at_once(mentor_client: Client, learner: User, lab: Lab) -> None:
    finish(learner, lab)
    mentor_client.get(QUEUE)  # the table is kept
    learner.display_name = "Ada Renamed"
    learner.save()
    assert "Ada Renamed" in mentor_client.get(QUEUE).content.decode()
    lab.title_en = "A renamed lab"
    lab.save()
    assert "A renamed lab" in mentor_client.get(QUEUE).content.decode()


def test_a_kept_table_carries_each_requests_own_csrf_token_and_address(
    mentor_client: Client, mentor: User, learner: User, lab: Lab
) -> None:
    run = finish(learner, lab)
    mentor_client.get(QUEUE + "?state=")  # another session fills the cache
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(mentor)
    page = strict.get(QUEUE + "?state=").content.decode()
    assert "placeholder-5f0c2a" not in page
    assert 'name="next" value="/mentoring/queue/?state="' in page  # back to this very page
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = strict.post(f"/mentoring/runs/{run.pk}/dismiss/", {"reason": "starter", "csrfmiddlewaretoken": token})
    assert response.status_code == 302  # a token of another session would be refused (403)
    assert queued(strict) == []


def test_an_administrators_queue_sees_any_learners_run_at_once(
    client: Client, admin_user: User, learner: User, cohort: Cohort, lab: Lab
) -> None:
    client.force_login(admin_user)
    assert queued(client) == []
    stranger = UserFactory(role=Role.LEARNER)  # in no cohort, mentored by nobody
    run = finish(stranger, lab)
    assert queued(client) == [run.pk]


def test_a_mentor_is_never_shown_the_queue_an_administrator_filled(
    client: Client, admin_user: User, mentor: User, learner: User, other_learner: User, cohort: Cohort, lab: Lab
) -> None:
    mine, theirs = finish(learner, lab), finish(other_learner, lab)
    client.force_login(admin_user)
    assert sorted(queued(client)) == sorted([mine.pk, theirs.pk])
    client.force_login(mentor)
    assert queued(client) == [mine.pk]


def test_a_new_page_of_the_queue_shows_a_run_at_once(mentor_client: Client, learner: User, lab: Lab) -> None:
    runs = [finish(learner, lab) for _ in range(3)]
    assert queued(mentor_client, "?all=1") == [run.pk for run in runs]
    more = finish(learner, lab)
    assert queued(mentor_client, "?all=1") == [*(run.pk for run in runs), more.pk]


def test_a_warm_queue_reads_fewer_queries_than_a_cold_one(mentor_client: Client, learner: User, lab: Lab) -> None:
    finish(learner, lab)
    mentor_client.get(QUEUE)
    cold, warm = cold_and_warm_queries(mentor_client, QUEUE)
    assert warm < cold - 1, f"cold {cold}, warm {warm}"
