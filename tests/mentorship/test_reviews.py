"""Reviews with a rubric, line comments, the queue, sessions and private notes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from cohorts.models import Cohort
from core.models import User
from labs.models import Lab, RunState
from mentorship import selectors, services
from mentorship.models import Review, Rubric, Verdict
from notifications.models import Notification
from tests.mentorship.conftest import finished_run, levels_for

pytestmark = pytest.mark.django_db


def test_a_mentor_reviews_a_mentees_run_with_the_rubric(
    mentor: User, learner: User, cohort: Cohort, lab: Lab, rubric: Rubric
) -> None:
    run = finished_run(learner, lab)
    review = services.review_create(
        mentor=mentor,
        run=run,
        verdict=Verdict.APPROVED,
        comment="Nice **work**",
        levels=levels_for(rubric, "Partly"),
        line_comments=[(2, "why this import?")],
        confirm_low_points=True,  # 4 of 10 points: an approval under half needs the confirmation
    )
    assert (review.points, review.max_points) == (4, 10)
    assert [c.line for c in review.line_comments.all()] == [2]
    note = Notification.objects.get(user=learner)
    assert note.kind == "review_posted" and note.url.endswith("#review")


def test_every_criterion_needs_a_level(mentor: User, learner: User, cohort: Cohort, lab: Lab, rubric: Rubric) -> None:
    run = finished_run(learner, lab)
    levels = levels_for(rubric, "Fully")
    levels.pop(rubric.criteria.first().pk)
    with pytest.raises(services.MentorshipRefused, match="Correctness"):
        services.review_create(mentor=mentor, run=run, verdict=Verdict.APPROVED, levels=levels)
    assert not Review.objects.exists()


def test_a_level_of_another_criterion_is_refused(
    mentor: User, learner: User, cohort: Cohort, lab: Lab, rubric: Rubric
) -> None:
    run = finished_run(learner, lab)
    first, second = rubric.criteria.all()
    levels = {first.pk: second.levels.first().pk, second.pk: second.levels.first().pk}
    with pytest.raises(services.MentorshipRefused):
        services.review_create(mentor=mentor, run=run, verdict=Verdict.APPROVED, levels=levels)


def test_line_comments_must_point_into_the_code(mentor: User, learner: User, cohort: Cohort, lab: Lab) -> None:
    run = finished_run(learner, lab)
    with pytest.raises(services.MentorshipRefused, match="Line 999"):
        services.review_create(mentor=mentor, run=run, verdict=Verdict.CHANGES_REQUESTED, line_comments=[(999, "x")])


def test_another_mentor_cannot_review(other_mentor: User, learner: User, cohort: Cohort, lab: Lab) -> None:
    run = finished_run(learner, lab)
    with pytest.raises(services.MentorshipRefused):
        services.review_create(mentor=other_mentor, run=run, verdict=Verdict.APPROVED)


def test_an_unfinished_run_cannot_be_reviewed(mentor: User, learner: User, cohort: Cohort, lab: Lab) -> None:
    from labs import services as lab_services
    from tests.labs.conftest import VALID_CODE

    run = lab_services.submission_create(learner=learner, lab=lab, source="web", code=VALID_CODE)
    with pytest.raises(services.MentorshipRefused, match="not finished"):
        services.review_create(mentor=mentor, run=run, verdict=Verdict.APPROVED)


def test_all_runs_holds_only_unreviewed_finished_runs_of_my_mentees_oldest_first(
    mentor: User, learner: User, other_learner: User, cohort: Cohort, lab: Lab
) -> None:
    first = finished_run(learner, lab)
    second = finished_run(learner, lab, passed=False, state=RunState.FAILED)
    finished_run(other_learner, lab)  # another mentor's mentee
    reviewed = finished_run(learner, lab)
    services.review_create(mentor=mentor, run=reviewed, verdict=Verdict.APPROVED)
    assert list(selectors.review_queue(mentor=mentor, all_runs=True)) == [first, second]
    assert list(selectors.review_queue(mentor=mentor, all_runs=True, state=RunState.FAILED)) == [second]
    assert list(selectors.review_queue(mentor=mentor, all_runs=True, lab="nope")) == []
    # by default the newest run of the learner's lab was reviewed: nothing waits
    assert list(selectors.review_queue(mentor=mentor)) == []


def test_dashboard_flags_repeated_failures_and_inactivity(
    mentor: User, learner: User, other_learner: User, cohort: Cohort, lab: Lab
) -> None:
    for _ in range(3):
        finished_run(learner, lab, passed=False, state=RunState.FAILED)
    [status] = selectors.mentor_dashboard(mentor=mentor)
    assert (status.learner, status.stuck_reason, status.failures_in_a_row) == (learner, "failing", 3)
    finished_run(learner, lab)
    [status] = selectors.mentor_dashboard(mentor=mentor)
    # four runs of one lab wait as one item of the queue
    assert (status.stuck, status.runs, status.labs_passed, status.awaiting_review) == (False, 4, 1, 1)
    later = status.last_active + dt.timedelta(days=8)
    assert selectors.mentor_dashboard(mentor=mentor, now=later)[0].stuck_reason == "inactive"


def test_private_notes_stay_with_their_author(mentor: User, learner: User, admin_user: User, cohort: Cohort) -> None:
    services.mentor_note_create(mentor=mentor, learner=learner, text="Struggles with shapes")
    assert selectors.notes_about(reader=mentor, learner=learner).count() == 1
    assert selectors.notes_about(reader=admin_user, learner=learner).count() == 1
    assert selectors.notes_about(reader=learner, learner=learner).count() == 0


def test_learner_sees_review_with_line_comments_on_the_run_page(
    client: Client, mentor: User, learner: User, cohort: Cohort, lab: Lab, rubric: Rubric
) -> None:
    run = finished_run(learner, lab)
    services.review_create(
        mentor=mentor,
        run=run,
        verdict=Verdict.CHANGES_REQUESTED,
        comment="Try a *smaller* step",
        levels=levels_for(rubric, "Fully"),
        line_comments=[(3, "return the model")],
    )
    services.mentor_note_create(mentor=mentor, learner=learner, text="SECRET-NOTE")
    client.force_login(learner)
    html = client.get(run.get_absolute_url()).content.decode()
    assert 'data-testid="review-points">10 / 10' in html and "<em>smaller</em>" in html
    assert 'data-testid="line-comment-3"' in html and "return the model" in html
    assert "SECRET-NOTE" not in html and 'data-testid="review-link"' not in html
    assert "SECRET-NOTE" not in client.get("/mentoring/me/").content.decode()


def test_mentor_posts_a_review_through_the_page(
    client: Client, mentor: User, learner: User, cohort: Cohort, lab: Lab, rubric: Rubric
) -> None:
    run = finished_run(learner, lab)
    client.force_login(mentor)
    assert f'data-testid="queue-run-{run.pk}"' in client.get("/mentoring/queue/").content.decode()
    data = {f"criterion_{c}": level for c, level in levels_for(rubric, "Fully").items()}
    data |= {"verdict": "approved", "comment": "Good", "line_comments": "1: tidy\nL2：fine"}
    response = client.post(f"/mentoring/runs/{run.pk}/review/", data)
    assert response.status_code == 302
    review = Review.objects.get()
    assert [(c.line, c.text) for c in review.line_comments.all()] == [(1, "tidy"), (2, "fine")]
    assert f'data-testid="queue-run-{run.pk}"' not in client.get("/mentoring/queue/").content.decode()


def test_a_bad_line_comment_keeps_the_form_and_says_why(
    client: Client, mentor: User, learner: User, cohort: Cohort, lab: Lab
) -> None:
    run = finished_run(learner, lab)
    client.force_login(mentor)
    response = client.post(f"/mentoring/runs/{run.pk}/review/", {"verdict": "approved", "line_comments": "oops"})
    assert response.status_code == 400
    assert "not understood: oops" in response.content.decode()
    assert not Review.objects.exists()


def test_sessions_are_visible_to_the_learner(client: Client, mentor: User, learner: User, cohort: Cohort) -> None:
    client.force_login(mentor)
    client.post(
        f"/mentoring/mentees/{learner.username}/",
        {
            "session": "1",
            "session-held_on": "2026-11-20",
            "session-notes": "Talked about Adam",
            "session-action_items": "Read the Adam lesson\nRe-run two-spirals",
        },
    )
    client.force_login(learner)
    html = client.get("/mentoring/me/").content.decode()
    assert "Talked about Adam" in html and "Re-run two-spirals" in html


def test_dashboard_shows_each_mentees_share_of_the_cohorts_lessons(mentor: User, learner: User, cohort: Cohort) -> None:
    from courses import services as course_services
    from tests.factories import course_with_lessons

    course = course_with_lessons(slug="basics", modules=1, lessons_per_module=4)
    cohort.courses.add(course)
    course_services.enrollment_create(user=learner, course=course)
    course_services.lesson_complete(user=learner, lesson=course.lessons.first())
    [status] = selectors.mentor_dashboard(mentor=mentor)
    assert status.course_percent == 25
