"""A challenge phase's open leaderboards hear of every change to it (``board:<slug>:<phase>``;
core.live) when it commits: an entry, its scores, the reveal, the lab's reference run (the baseline);
the phase's pages follow the board while it is open."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from challenges.models import Challenge, Phase
from challenges.services import entry_submit, phase_reveal
from core.models import User
from labs import run_events
from labs.models import Lab
from labs.publishing import reference_run_start
from tests.challenges.conftest import entry_create
from tests.labs.conftest import VALID_CODE
from tests.live import heard, page_topics, topics_of

BOARD = "board:tiny-cup:1"
PERFECT = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]


def finish(run: object) -> None:
    result = {"state": "succeeded", "predictions": PERFECT}
    run_events.run_event_apply(run_id=run.pk, token=run.token, event={"kind": "finished", "result": result})


@pytest.mark.django_db
def test_an_entry_and_its_scores_tell_the_board(
    phase: Phase, learner: User, django_capture_on_commit_callbacks: object
) -> None:
    with heard() as messages, django_capture_on_commit_callbacks(execute=True):
        run = entry_submit(phase=phase, learner=learner, code=VALID_CODE)
    assert topics_of(messages).count(BOARD) == 1  # the contestant's count of entries
    with heard() as messages, django_capture_on_commit_callbacks(execute=True):
        finish(run)
    assert topics_of(messages).count(BOARD) == 1


@pytest.mark.django_db
def test_the_reveal_tells_the_board_once(
    phase: Phase, learner: User, django_capture_on_commit_callbacks: object
) -> None:
    entry_create(phase, learner)
    end = timezone.now().replace(microsecond=0)
    Phase.objects.filter(pk=phase.pk).update(starts_at=end - dt.timedelta(days=1), ends_at=end)
    with heard() as messages, django_capture_on_commit_callbacks(execute=True):
        phase_reveal(phase_id=phase.pk, now=end)
        phase_reveal(phase_id=phase.pk, now=end)  # revealed already: nothing changes
    assert topics_of(messages).count(BOARD) == 1


@pytest.mark.django_db
def test_the_labs_reference_run_tells_the_boards_of_its_phases(
    phase: Phase, lab: Lab, django_capture_on_commit_callbacks: object
) -> None:
    Lab.objects.filter(pk=lab.pk).update(reference_solution=VALID_CODE)
    lab.refresh_from_db()
    run = reference_run_start(lab=lab, publish=False)
    with heard() as messages, django_capture_on_commit_callbacks(execute=True):
        finish(run)
    assert BOARD in topics_of(messages)


@pytest.mark.django_db
def test_the_phase_pages_follow_the_board_while_it_is_open(client: Client, phase: Phase, learner: User) -> None:
    Challenge.objects.filter(pk=phase.challenge_id).update(published=True)
    client.force_login(learner)
    for url in ("/challenges/tiny-cup/", "/challenges/tiny-cup/phases/1/"):
        html = client.get(url).content.decode()
        assert page_topics(html) == [f"user:{learner.pk}", BOARD]
        assert f'data-live-topic="{BOARD}"' in html
    Phase.objects.filter(pk=phase.pk).update(ends_at=timezone.now() - dt.timedelta(seconds=1))
    assert page_topics(client.get("/challenges/tiny-cup/phases/1/").content.decode()) == [f"user:{learner.pk}"]


@pytest.mark.django_db
def test_a_signed_out_visitor_polls_the_board(client: Client, phase: Phase) -> None:
    Challenge.objects.filter(pk=phase.challenge_id).update(published=True)
    html = client.get("/challenges/tiny-cup/phases/1/").content.decode()
    assert page_topics(html) is None and "data-board-url" in html
