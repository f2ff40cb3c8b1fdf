"""What mentors write (review comments, line comments, session records, private notes, dismissal
notes) is stored
on every database, NUL bytes, lone surrogates and 4-byte characters included, or refused with a
clear 400. Run this module on PostgreSQL too: SQLite stores what PostgreSQL refuses."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from cohorts.models import Cohort
from core.models import User
from core.text import db_text
from labs.models import Lab
from mentorship import services
from mentorship.models import Dismissal, LineComment, MentorNote, Review, SessionRecord, Verdict
from tests.mentorship.conftest import finished_run

pytestmark = pytest.mark.django_db

DB_FUZZ = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
HARD = ["\x00", "\ud800", "\udfff", "\ud83d", "\ude00", "😀", "𠀀", " ", "\n"]
TEXT = st.lists(st.characters(exclude_categories=()) | st.sampled_from(HARD), max_size=30).map("".join)


@DB_FUZZ
@given(comment=TEXT, line_comment=TEXT, notes=TEXT, action_items=TEXT, note=TEXT)
@example(
    comment="ok\x00 \ud800 😀 𠀀", line_comment="\x00", notes="Adam \x00", action_items="\ud83d\ude00", note="\x00"
)
def test_any_text_a_mentor_writes_is_stored_cleaned_or_refused_as_empty(
    mentor: User,
    learner: User,
    cohort: Cohort,
    lab: Lab,
    comment: str,
    line_comment: str,
    notes: str,
    action_items: str,
    note: str,
) -> None:
    with transaction.atomic():  # each example starts from the same world
        run = finished_run(learner, lab)
        review = services.review_create(
            mentor=mentor, run=run, verdict=Verdict.APPROVED, comment=comment, line_comments=[(1, line_comment)]
        )
        review = Review.objects.get(pk=review.pk)
        assert review.comment == db_text(comment).strip()
        kept = [db_text(line_comment).strip()] if db_text(line_comment).strip() else []
        assert [c.text for c in LineComment.objects.filter(review=review)] == kept
        today = dt.date(2026, 11, 20)
        if db_text(notes).strip():
            record = services.session_record_create(
                mentor=mentor, learner=learner, held_on=today, notes=notes, action_items=action_items
            )
            record = SessionRecord.objects.get(pk=record.pk)
            assert (record.notes, record.action_items) == (db_text(notes).strip(), db_text(action_items).strip())
        else:
            with pytest.raises(services.MentorshipRefused):
                services.session_record_create(mentor=mentor, learner=learner, held_on=today, notes=notes)
        if db_text(note).strip():
            created = services.mentor_note_create(mentor=mentor, learner=learner, text=note)
            assert MentorNote.objects.get(pk=created.pk).text == db_text(note).strip()
        else:
            with pytest.raises(services.MentorshipRefused):
                services.mentor_note_create(mentor=mentor, learner=learner, text=note)
        transaction.set_rollback(True)


@DB_FUZZ
@given(note=TEXT)
@example(note="asked by mail\x00 \ud800 😀 𠀀")
def test_any_dismissal_note_is_stored_cleaned_or_refused_when_other_needs_words(
    mentor: User, learner: User, cohort: Cohort, lab: Lab, note: str
) -> None:
    with transaction.atomic():
        run = finished_run(learner, lab)
        if db_text(note).strip():
            dismissal, _created = services.dismissal_create(mentor=mentor, run=run, reason="other", note=note)
            assert Dismissal.objects.get(pk=dismissal.pk).note == db_text(note).strip()
        else:
            with pytest.raises(services.MentorshipRefused):
                services.dismissal_create(mentor=mentor, run=run, reason="other", note=note)
        transaction.set_rollback(True)


def raw_json(value: dict, escape: str) -> str:
    """``value`` as JSON text with a JSON escape (e.g. \\u0000) where it says ESCAPE."""
    return json.dumps(value).replace("ESCAPE", escape)


@pytest.fixture
def mentor_api(mentor: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(mentor)
    return client


@pytest.mark.parametrize("escape", ["\\u0000", "\\ud800"])
def test_a_review_with_nul_or_a_lone_surrogate_through_the_api_is_a_400(
    mentor_api: APIClient, learner: User, cohort: Cohort, lab: Lab, escape: str
) -> None:
    run = finished_run(learner, lab)
    url = f"/api/v1/runs/{run.pk}/reviews/"
    comment = raw_json({"verdict": "approved", "comment": "aESCAPEb"}, escape)
    line = raw_json({"verdict": "approved", "line_comments": [{"line": 1, "text": "aESCAPEb"}]}, escape)
    for body in (comment, line):
        assert mentor_api.post(url, data=body, content_type="application/json").status_code == 400
    assert not Review.objects.exists()


@pytest.mark.parametrize("escape", ["\\u0000", "\\ud800"])
def test_a_dismissal_note_with_nul_or_a_lone_surrogate_through_the_api_is_a_400(
    mentor_api: APIClient, learner: User, cohort: Cohort, lab: Lab, escape: str
) -> None:
    run = finished_run(learner, lab)
    body = raw_json({"reason": "other", "note": "aESCAPEb"}, escape)
    response = mentor_api.post(f"/api/v1/runs/{run.pk}/dismissal/", data=body, content_type="application/json")
    assert response.status_code == 400 and not Dismissal.objects.exists()


def test_a_review_with_emoji_and_rare_cjk_through_the_api_is_stored(
    mentor_api: APIClient, learner: User, cohort: Cohort, lab: Lab
) -> None:
    run = finished_run(learner, lab)
    body = {"verdict": "approved", "comment": "好 😀 𠀀", "line_comments": [{"line": 1, "text": "👍🏽"}]}
    response = mentor_api.post(f"/api/v1/runs/{run.pk}/reviews/", body, format="json")
    assert response.status_code == 201
    review = Review.objects.get()
    assert (review.comment, review.line_comments.get().text) == ("好 😀 𠀀", "👍🏽")


@pytest.mark.parametrize("escape", ["\\u0000", "\\ud800"])
def test_a_session_or_note_with_nul_or_a_lone_surrogate_through_the_api_is_a_400(
    mentor_api: APIClient, learner: User, cohort: Cohort, escape: str
) -> None:
    base = f"/api/v1/mentoring/mentees/{learner.username}"
    session = raw_json({"held_on": "2026-11-20", "notes": "aESCAPEb"}, escape)
    note = raw_json({"text": "aESCAPEb"}, escape)
    assert mentor_api.post(f"{base}/sessions/", data=session, content_type="application/json").status_code == 400
    assert mentor_api.post(f"{base}/notes/", data=note, content_type="application/json").status_code == 400
    assert not SessionRecord.objects.exists() and not MentorNote.objects.exists()


def test_a_nul_in_the_review_and_mentee_forms_is_a_400(
    client: Client, mentor: User, learner: User, cohort: Cohort, lab: Lab
) -> None:
    run = finished_run(learner, lab)
    client.force_login(mentor)
    review = client.post(f"/mentoring/runs/{run.pk}/review/", {"verdict": "approved", "comment": "a\x00b"})
    note = client.post(f"/mentoring/mentees/{learner.username}/", {"note": "1", "note-text": "a\x00b"})
    assert (review.status_code, note.status_code) == (400, 400)
    assert not Review.objects.exists() and not MentorNote.objects.exists()


def test_a_nul_in_a_mentees_address_is_a_400(mentor_api: APIClient, learner: User, cohort: Cohort) -> None:
    assert mentor_api.get("/api/v1/mentoring/mentees/le%00na/sessions/").status_code == 400
    assert mentor_api.get("/api/v1/mentoring/queue/?lab=%00").status_code == 400
