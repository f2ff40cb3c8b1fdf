"""The review queue shows what needs a mentor: the newest finished run of each learner and lab,
unreviewed and not dismissed, with the older ones folded into it; filters; dismissing with a reason
(and undoing it); the page and the API read the same selector."""

from __future__ import annotations

import html as html_module
import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from cohorts.models import Cohort
from core.models import User
from labs.models import Lab, RunState, Submission
from mentorship import selectors, services
from mentorship.models import Dismissal, DismissReason, Verdict
from tests.mentorship.conftest import another_lab, queued_result

pytestmark = pytest.mark.django_db


def _ids(runs: object) -> list[int]:
    return [run.pk for run in runs]


def _page_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-testid="queue-run-(\d+)"', html)]


# --- the selector -------------------------------------------------------------------------------------


def test_a_burst_of_runs_is_one_item_with_the_earlier_runs_folded_into_the_newest(
    mentor: User, learner: User, cohort: Cohort, lab: Lab
) -> None:
    burst = [queued_result(learner, lab, score=0.3) for _ in range(6)]
    newest = queued_result(learner, lab, state=RunState.FAILED)
    spirals = queued_result(learner, another_lab(lab, "spirals"))
    [first, second] = selectors.review_queue(mentor=mentor)
    assert (first.pk, first.earlier_runs) == (newest.pk, 6)
    assert (second.pk, second.earlier_runs) == (spirals.pk, 0)
    assert _ids(selectors.review_queue(mentor=mentor, all_runs=True)) == [*_ids(burst), newest.pk, spirals.pk]


def test_reviewing_the_newest_run_settles_the_lab_until_a_newer_run_finishes(
    mentor: User, learner: User, cohort: Cohort, lab: Lab
) -> None:
    older = queued_result(learner, lab)
    newest = queued_result(learner, lab)
    services.review_create(mentor=mentor, run=newest, verdict=Verdict.APPROVED)
    assert list(selectors.review_queue(mentor=mentor)) == []
    assert _ids(selectors.review_queue(mentor=mentor, all_runs=True)) == [older.pk]  # still reachable
    again = queued_result(learner, lab)
    [item] = selectors.review_queue(mentor=mentor)
    assert (item.pk, item.earlier_runs) == (again.pk, 1)  # the older one was never reviewed


def test_the_outcome_filter_judges_the_item_shown(mentor: User, learner: User, cohort: Cohort, lab: Lab) -> None:
    passed = queued_result(learner, lab, score=0.9)
    spirals = another_lab(lab, "spirals")
    queued_result(learner, spirals, score=0.9)
    not_passed = queued_result(learner, spirals, score=0.1)  # the newest spirals run did not pass
    timed_out = queued_result(learner, another_lab(lab, "cnn"), state=RunState.TIMED_OUT)
    failed = queued_result(learner, another_lab(lab, "rnn"), state=RunState.FAILED)
    expected = {
        "passed": [passed.pk],
        "not_passed": [not_passed.pk],
        "failed": [failed.pk],
        "timed_out": [timed_out.pk],
        "succeeded": [passed.pk, not_passed.pk],
    }
    assert {state: _ids(selectors.review_queue(mentor=mentor, state=state)) for state in expected} == expected


def test_learner_and_lab_filters_stay_inside_my_mentees(
    mentor: User, learner: User, other_learner: User, cohort: Cohort, lab: Lab
) -> None:
    mine = queued_result(learner, lab)
    queued_result(other_learner, lab)  # otto's mentee
    assert _ids(selectors.review_queue(mentor=mentor, learner="lena", lab="tiny")) == [mine.pk]
    assert _ids(selectors.review_queue(mentor=mentor, learner="omar")) == []
    assert _ids(selectors.review_queue(mentor=mentor, lab="spirals")) == []


def test_reference_solution_runs_never_wait_for_a_mentor(admin_user: User, learner: User, lab: Lab) -> None:
    queued_result(admin_user, lab, source=Submission.Source.REFERENCE)
    mine = queued_result(learner, lab)
    assert _ids(selectors.review_queue(mentor=admin_user)) == [mine.pk]


def test_the_dashboard_counts_queue_items_not_runs(mentor: User, learner: User, cohort: Cohort, lab: Lab) -> None:
    for _ in range(3):
        queued_result(learner, lab)
    queued_result(learner, another_lab(lab, "spirals"))
    [status] = selectors.mentor_dashboard(mentor=mentor)
    assert (status.runs, status.awaiting_review) == (4, 2)


# --- dismissing -----------------------------------------------------------------------------------------


def test_a_dismissed_run_leaves_the_queue_and_undoing_brings_it_back(
    mentor: User, learner: User, cohort: Cohort, lab: Lab
) -> None:
    starter = queued_result(learner, lab, score=0.1)
    dismissal, created = services.dismissal_create(mentor=mentor, run=starter, reason=DismissReason.STARTER)
    assert created and (dismissal.dismissed_by, dismissal.reason, dismissal.undone_at) == (mentor, "starter", None)
    assert list(selectors.review_queue(mentor=mentor)) == []
    [shown] = selectors.review_queue(mentor=mentor, include_dismissed=True)
    assert shown.active_dismissals == [dismissal]

    assert services.dismissal_undo(mentor=mentor, run=starter) == dismissal
    assert _ids(selectors.review_queue(mentor=mentor)) == [starter.pk]
    dismissal.refresh_from_db()
    assert dismissal.undone_by == mentor and dismissal.undone_at is not None  # kept for administrators
    assert services.dismissal_undo(mentor=mentor, run=starter) is None  # nothing left to undo


def test_dismissing_twice_keeps_the_first_dismissal(mentor: User, learner: User, cohort: Cohort, lab: Lab) -> None:
    run = queued_result(learner, lab)
    first, _ = services.dismissal_create(mentor=mentor, run=run, reason=DismissReason.DUPLICATE)
    again, created = services.dismissal_create(mentor=mentor, run=run, reason=DismissReason.STARTER)
    assert (again, created, again.reason) == (first, False, "duplicate")
    services.dismissal_undo(mentor=mentor, run=run)
    _, created = services.dismissal_create(mentor=mentor, run=run, reason=DismissReason.STARTER)
    assert created and Dismissal.objects.filter(run=run).count() == 2  # the history stays


@pytest.mark.parametrize(
    ("reason", "note", "error"),
    [("other", "  ", "Say in a few words"), ("bored", "", "Choose why"), ("", "", "Choose why")],
)
def test_a_dismissal_needs_a_reason_and_words_for_other(
    mentor: User, learner: User, cohort: Cohort, lab: Lab, reason: str, note: str, error: str
) -> None:
    run = queued_result(learner, lab)
    with pytest.raises(services.MentorshipRefused, match=error):
        services.dismissal_create(mentor=mentor, run=run, reason=reason, note=note)
    assert not Dismissal.objects.exists()


def test_only_the_learners_mentor_or_an_administrator_dismisses(
    mentor: User, other_mentor: User, admin_user: User, learner: User, cohort: Cohort, lab: Lab
) -> None:
    run = queued_result(learner, lab)
    for outsider in (other_mentor, learner):
        with pytest.raises(services.MentorshipRefused):
            services.dismissal_create(mentor=outsider, run=run, reason=DismissReason.DUPLICATE)
    services.dismissal_create(mentor=admin_user, run=run, reason=DismissReason.OTHER, note="asked by mail")
    with pytest.raises(services.MentorshipRefused):
        services.dismissal_undo(mentor=other_mentor, run=run)
    assert Dismissal.objects.get().undone_at is None


# --- the page -----------------------------------------------------------------------------------------


def test_the_page_shows_passed_as_words_and_the_score_against_the_threshold(
    client: Client, mentor: User, learner: User, cohort: Cohort, lab: Lab
) -> None:
    passed = queued_result(learner, lab, score=0.9)
    mse = another_lab(lab, "regression", threshold=0.05, higher_is_better=False)
    not_passed = queued_result(learner, mse, score=0.25)
    failed = queued_result(learner, another_lab(lab, "cnn"), state=RunState.FAILED)
    client.force_login(mentor)
    html = client.get("/mentoring/queue/").content.decode()

    def cell(run_id: int) -> str:
        match = re.search(rf'data-testid="queue-passed-{run_id}">(.*?)</td>', html, re.S)
        return html_module.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip())

    assert cell(passed.pk) == "✓ passed 0.9000 ≥ 0.8"
    assert cell(not_passed.pk) == "✗ not passed 0.2500 > 0.05"
    assert cell(failed.pk) == "– no score"
    assert html.count('aria-hidden="true">✓</span>') == 1  # the icon is decoration; the word is the content


def test_the_page_folds_a_burst_and_links_to_its_earlier_runs(
    client: Client, mentor: User, learner: User, cohort: Cohort, lab: Lab
) -> None:
    runs = [queued_result(learner, lab) for _ in range(7)]
    client.force_login(mentor)
    html = client.get("/mentoring/queue/?state=succeeded").content.decode()
    assert _page_ids(html) == [runs[-1].pk]
    link = re.search(rf'href="([^"]+)" data-testid="earlier-{runs[-1].pk}">\+6 earlier runs<', html).group(1)
    assert link.replace("&amp;", "&") == "?all=1&learner=lena&lab=tiny"
    assert _page_ids(client.get("/mentoring/queue/" + link.replace("&amp;", "&")).content.decode()) == _ids(runs)


def test_the_page_filters_and_ignores_a_filter_it_does_not_know(
    client: Client, mentor: User, learner: User, cohort: Cohort, lab: Lab
) -> None:
    passed = queued_result(learner, lab, score=0.9)
    failed = queued_result(learner, another_lab(lab, "cnn"), state=RunState.FAILED)
    client.force_login(mentor)
    assert _page_ids(client.get("/mentoring/queue/?state=failed").content.decode()) == [failed.pk]
    assert _page_ids(client.get("/mentoring/queue/?lab=tiny&learner=lena").content.decode()) == [passed.pk]
    response = client.get("/mentoring/queue/?state=bogus")
    assert response.status_code == 200 and _page_ids(response.content.decode()) == [passed.pk, failed.pk]


def test_a_mentor_dismisses_from_the_page_and_undoes_it(
    client: Client, mentor: User, learner: User, cohort: Cohort, lab: Lab
) -> None:
    run = queued_result(learner, lab)
    client.force_login(mentor)
    html = client.get("/mentoring/queue/").content.decode()
    assert f'action="/mentoring/runs/{run.pk}/dismiss/"' in html and "csrfmiddlewaretoken" in html
    response = client.post(
        f"/mentoring/runs/{run.pk}/dismiss/", {"reason": "duplicate", "next": "/mentoring/queue/?lab=tiny"}
    )
    assert response.status_code == 302 and response["Location"] == "/mentoring/queue/?lab=tiny"
    after = client.get(response["Location"]).content.decode()
    assert _page_ids(after) == [] and f"Run #{run.pk} dismissed (duplicate)." in after
    assert 'data-testid="undo-link"' in after

    shown = client.get("/mentoring/queue/?dismissed=1").content.decode()
    assert _page_ids(shown) == [run.pk] and f'data-testid="dismissal-{run.pk}"' in shown
    assert f"Dismissed: duplicate ({mentor}," in shown
    client.post(f"/mentoring/runs/{run.pk}/dismiss/undo/", {"next": "/mentoring/queue/"})
    assert _page_ids(client.get("/mentoring/queue/").content.decode()) == [run.pk]


def test_a_dismissal_for_other_needs_words_and_an_outside_redirect_is_ignored(
    client: Client, mentor: User, learner: User, cohort: Cohort, lab: Lab
) -> None:
    run = queued_result(learner, lab)
    client.force_login(mentor)
    response = client.post(f"/mentoring/runs/{run.pk}/dismiss/", {"reason": "other", "next": "https://evil.test/"})
    assert response["Location"] == "/mentoring/queue/"
    assert "Say in a few words" in client.get("/mentoring/queue/").content.decode()
    assert not Dismissal.objects.exists()


def test_another_mentor_and_the_learner_cannot_dismiss_through_the_page(
    client: Client, other_mentor: User, learner: User, cohort: Cohort, lab: Lab
) -> None:
    run = queued_result(learner, lab)
    for user in (other_mentor, learner):
        client.force_login(user)
        assert client.post(f"/mentoring/runs/{run.pk}/dismiss/", {"reason": "duplicate"}).status_code == 404
        assert client.post(f"/mentoring/runs/{run.pk}/dismiss/undo/").status_code == 404
    assert client.get(f"/mentoring/runs/{run.pk}/dismiss/").status_code == 405
    assert not Dismissal.objects.exists()


def test_the_review_page_shows_a_dismissal_and_offers_undo(
    client: Client, mentor: User, learner: User, cohort: Cohort, lab: Lab
) -> None:
    run = queued_result(learner, lab)
    services.dismissal_create(mentor=mentor, run=run, reason=DismissReason.NO_REVIEW)
    client.force_login(mentor)
    html = client.get(f"/mentoring/runs/{run.pk}/review/").content.decode()
    assert 'data-testid="review-dismissed"' in html and "the learner asked for no review" in html
    assert f'action="/mentoring/runs/{run.pk}/dismiss/undo/"' in html


# --- the API ------------------------------------------------------------------------------------------


def test_the_api_lists_what_the_page_lists_with_the_same_filters(
    mentor: User, learner: User, cohort: Cohort, lab: Lab
) -> None:
    for _ in range(3):
        queued_result(learner, lab, score=0.2)
    failed = queued_result(learner, another_lab(lab, "cnn"), state=RunState.FAILED)
    services.dismissal_create(mentor=mentor, run=failed, reason=DismissReason.STARTER)
    page, api = Client(), APIClient()
    page.force_login(mentor)
    api.force_authenticate(mentor)
    for query in ("", "all=1", "dismissed=1", "state=not_passed&learner=lena", "lab=cnn&dismissed=1&all=1"):
        listed = api.get(f"/api/v1/mentoring/queue/?{query}").json()
        assert [item["id"] for item in listed] == _page_ids(page.get(f"/mentoring/queue/?{query}").content.decode())
    [item] = api.get("/api/v1/mentoring/queue/").json()
    assert item["passed"] is False and (item["score"], item["threshold"], item["higher_is_better"]) == (0.2, 0.8, True)
    assert item["earlier_runs"] == 2 and item["dismissal"] is None
    [dismissed] = api.get("/api/v1/mentoring/queue/?lab=cnn&dismissed=true").json()
    assert dismissed["dismissal"]["reason"] == "starter" and dismissed["dismissal"]["dismissed_by"] == "maria"


def test_the_api_refuses_a_filter_it_does_not_know(mentor: User, cohort: Cohort) -> None:
    api = APIClient()
    api.force_authenticate(mentor)
    response = api.get("/api/v1/mentoring/queue/?state=bogus")
    assert response.status_code == 400 and "state" in response.json()["errors"]


def test_dismissing_through_the_api(mentor: User, other_mentor: User, learner: User, cohort: Cohort, lab: Lab) -> None:
    run = queued_result(learner, lab)
    url = f"/api/v1/runs/{run.pk}/dismissal/"
    api = APIClient()
    for user, code in ((other_mentor, 404), (learner, 403)):
        api.force_authenticate(user)
        assert api.post(url, {"reason": "duplicate"}, format="json").status_code == code
        assert api.delete(url).status_code == code
    api.force_authenticate(mentor)
    assert api.post(url, {"reason": "later"}, format="json").status_code == 400
    refused = api.post(url, {"reason": "other"}, format="json")
    assert refused.status_code == 400 and "Say in a few words" in refused.json()["errors"][0]
    created = api.post(url, {"reason": "other", "note": "asked on chat"}, format="json")
    assert created.status_code == 201 and created.json()["note"] == "asked on chat"
    assert api.post(url, {"reason": "duplicate"}, format="json").status_code == 200  # already dismissed
    assert api.get("/api/v1/mentoring/queue/").json() == []
    assert api.delete(url).status_code == 204
    assert [item["id"] for item in api.get("/api/v1/mentoring/queue/").json()] == [run.pk]
