"""A challenge entry's run is sealed: its score on the whole hidden test set (which, beside the public
score, would tell the private one) shows nowhere a learner or mentor reads — the run's page, grades,
the gradebook export — until the phase is revealed; then it does (each check is made again after
the reveal, where the score must appear). The run's page says what the challenge knows: the public
score, and only that."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import numpy as np
import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from challenges.models import Challenge, Entry, Phase, Rerun
from challenges.services import entry_submit, phase_reveal, phases_reveal_due
from challenges.splits import split_indices
from cohorts.background import job_result_text
from cohorts.models import CohortMember, LabDeadline
from core.models import User
from grading.services import gradebook_export_create
from grading.tasks import gradebook_export
from labs import run_events, services
from labs.models import Lab, Run, RunState, Submission
from labs.publishing import reference_run_start
from labs.services import submission_create
from labs.validation import runs_counted_today
from tests.factories import CohortFactory
from tests.labs.conftest import VALID_CODE

Y_TEST = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])  # the tiny lab's hidden labels
WHOLE = "0.9000"  # the whole hidden set's score as the pages show it (floatformat:4)


@pytest.fixture
def seeded(phase: Phase) -> Phase:
    Phase.objects.filter(pk=phase.pk).update(split_seed=3)
    phase.refresh_from_db()
    return phase


def one_wrong_in_private(phase: Phase) -> list[int]:
    """Right on every hidden row but one of the private part: public 1.0, private 0.8, whole 0.9."""
    _, private = split_indices(Y_TEST, seed=phase.split_seed, public_fraction=phase.public_fraction, classes=True)
    assert len(private) == 5
    predictions = Y_TEST.copy()
    row = int(private[0])
    predictions[row] = (Y_TEST[row] + 1) % 3
    return predictions.tolist()


def finish(run: Run, predictions: list[int]) -> Run:
    for event in (
        {"kind": "claimed", "worker": "w", "device": "cpu"},
        {"kind": "finished", "result": {"state": "succeeded", "device": "cpu", "predictions": predictions}},
    ):
        run_events.run_event_apply(run_id=run.pk, token=run.token, event=event)
    return Run.objects.get(pk=run.pk)


@pytest.fixture
def entry_run(seeded: Phase, learner: User) -> Run:
    return finish(entry_submit(phase=seeded, learner=learner, code=VALID_CODE), one_wrong_in_private(seeded))


def reveal(phase: Phase) -> None:
    now = timezone.now()
    Phase.objects.filter(pk=phase.pk).update(starts_at=now - dt.timedelta(days=2), ends_at=now - dt.timedelta(hours=1))
    assert phase_reveal(phase_id=phase.pk, now=now) is True


def notes_of(html: str) -> str:
    """The run page's note box alone ("" when it has none)."""
    if 'data-testid="run-notes"' not in html:
        return ""
    return html.split('data-testid="run-notes"')[1].split("</section>")[0]


@pytest.mark.django_db
def test_an_entry_is_sealed_and_its_challenge_scores_are_stored(entry_run: Run) -> None:
    entry = Entry.objects.get(run=entry_run)
    assert (entry.public_score, entry.private_score) == (pytest.approx(1.0), pytest.approx(0.8))
    assert (entry_run.sealed, entry_run.score, entry_run.passed) == (True, None, None)
    assert entry_run.sealed_score == pytest.approx(0.9)


@pytest.mark.django_db
def test_the_reveal_unseals_the_entries_and_its_reruns_are_the_platforms(
    seeded: Phase, learner: User, entry_run: Run
) -> None:
    reveal(seeded)
    run = Run.objects.get(pk=entry_run.pk)
    assert (run.sealed, run.score, run.passed) == (False, pytest.approx(0.9), True)
    reruns = Run.objects.filter(pk__in=Rerun.objects.values("run_id"))
    assert reruns.count() == seeded.rerun_seeds
    assert all(r.by_platform and not r.sealed and r.state == RunState.QUEUED for r in reruns)
    assert runs_counted_today(learner_id=learner.pk, lab=seeded.lab) == 1  # the entry only


@pytest.mark.django_db
def test_the_run_page_shows_no_whole_set_score_until_the_reveal(
    client: Client, seeded: Phase, learner: User, entry_run: Run
) -> None:
    client.force_login(learner)
    html = client.get(entry_run.get_absolute_url()).content.decode()
    assert WHOLE not in html and 'class="badge passed"' not in html
    reveal(seeded)
    html = client.get(entry_run.get_absolute_url()).content.decode()
    assert WHOLE in html and 'class="badge passed"' in html


@pytest.mark.django_db
def test_grades_and_the_gradebook_export_leave_a_sealed_entry_out_until_the_reveal(
    client: Client, seeded: Phase, learner: User, admin_user: User, entry_run: Run
) -> None:
    cohort = CohortFactory(slug="autumn")
    CohortMember.objects.create(cohort=cohort, learner=learner)
    LabDeadline.objects.create(cohort=cohort, lab=seeded.lab, due_at=timezone.now() + dt.timedelta(days=30))
    client.force_login(learner)

    def exported() -> dict[str, str]:
        job = gradebook_export_create(cohort=cohort, requested_by=admin_user)
        gradebook_export.apply(args=[job.pk])
        job.refresh_from_db()
        [row] = csv.DictReader(io.StringIO(job_result_text(job)))
        return row

    grades = client.get("/grades/").content.decode()
    assert WHOLE not in grades and 'data-testid="counted-run"' not in grades
    row = exported()
    assert (row["tiny: run"], row["tiny: points"]) == ("", "0.00")

    reveal(seeded)
    grades = client.get("/grades/").content.decode()
    assert WHOLE in grades and 'data-testid="counted-run"' in grades
    row = exported()
    assert (row["tiny: run"], row["tiny: points"]) == (str(entry_run.pk), "100.00")


@pytest.mark.django_db
def test_the_run_page_notes_the_public_score_and_only_it(
    client: Client, seeded: Phase, learner: User, entry_run: Run
) -> None:
    client.force_login(learner)
    note = notes_of(client.get(entry_run.get_absolute_url()).content.decode())
    assert "Entry in Tiny cup — Main phase: public score 1.0" in note
    assert 'href="/challenges/tiny-cup/"' in note
    assert "0.8" not in note and "0.9" not in note  # neither the private score nor the whole set's


@pytest.mark.django_db
def test_a_blind_phase_notes_no_score_until_it_ends(client: Client, seeded: Phase, learner: User) -> None:
    Phase.objects.filter(pk=seeded.pk).update(blind=True)
    seeded.refresh_from_db()
    run = finish(entry_submit(phase=seeded, learner=learner, code=VALID_CODE), one_wrong_in_private(seeded))
    client.force_login(learner)
    note = notes_of(client.get(run.get_absolute_url()).content.decode())
    assert "blind phase: scores are shown when the phase ends" in note and "1.0" not in note
    reveal(seeded)
    assert "public score 1.0" in notes_of(client.get(run.get_absolute_url()).content.decode())


@pytest.mark.django_db
def test_no_note_before_the_entry_is_scored(client: Client, seeded: Phase, learner: User) -> None:
    client.force_login(learner)
    queued = entry_submit(phase=seeded, learner=learner, code=VALID_CODE)
    assert notes_of(client.get(queued.get_absolute_url()).content.decode()) == ""
    finish(queued, one_wrong_in_private(seeded))
    assert "public score 1.0" in notes_of(client.get(queued.get_absolute_url()).content.decode())


# --- Direct runs of the challenge's lab: its own page, the API, the academy client ---------------------
# Not entries, but the same code's score on the whole hidden set, beside the entry's public score,
# would tell the private one: they are sealed while a phase on the lab waits for its reveal.


def direct(lab: Lab, learner: User, predictions: list[int]) -> Run:
    """A run of ``lab`` submitted outside the challenge (as the lab's page and the API submit), finished."""
    return finish(submission_create(learner=learner, lab=lab, source="api", code=VALID_CODE), predictions)


def sealed_note(phase: Phase) -> str:
    when = timezone.localtime(phase.ends_at).strftime("%Y-%m-%d %H:%M")
    return f"its scores are sealed until {when}, when the challenge&#x27;s phase ends"


def numbers_in(value: Any) -> list[float]:
    """Every number anywhere in a JSON answer."""
    if isinstance(value, dict):
        return [n for v in value.values() for n in numbers_in(v)]
    if isinstance(value, list):
        return [n for v in value for n in numbers_in(v)]
    return [value] if isinstance(value, (int, float)) and not isinstance(value, bool) else []


def lab_notes_of(html: str) -> str:
    if 'data-testid="lab-notes"' not in html:
        return ""
    return html.split('data-testid="lab-notes"')[1].split("</section>")[0]


@pytest.mark.django_db
def test_a_direct_run_of_the_lab_is_sealed_and_its_whole_score_shows_nowhere(
    client: Client, api: APIClient, seeded: Phase, learner: User
) -> None:
    run = direct(seeded.lab, learner, one_wrong_in_private(seeded))
    assert not Entry.objects.filter(run=run).exists()
    assert (run.sealed, run.score, run.passed, run.sealed_score) == (True, None, None, pytest.approx(0.9))
    client.force_login(learner)

    def pages() -> list[str]:
        urls = [run.get_absolute_url(), "/labs/tiny/", "/labs/tiny/leaderboard/", "/labs/submissions/"]
        return [client.get(url).content.decode() for url in urls]

    def bodies() -> list[Any]:  # the run page's progress JSON and the API's run
        return [client.get(f"/labs/runs/{run.pk}/progress.json").json(), api.get(f"/api/v1/runs/{run.pk}/").json()]

    assert not any(WHOLE in page for page in pages())
    for body in bodies():
        assert (body["score"], body["passed"], body["sealed"]) == (None, None, True)
        assert not [number for number in numbers_in(body) if number == pytest.approx(0.9)]

    reveal(seeded)  # the checks above could see the score: now it is there
    assert all(WHOLE in page for page in pages())
    for body in bodies():
        assert (body["score"], body["passed"], body["sealed"]) == (pytest.approx(0.9), True, False)


@pytest.mark.django_db
def test_a_lab_with_no_phase_or_only_revealed_phases_is_not_sealed(
    client: Client, lab: Lab, challenge: Challenge, learner: User
) -> None:
    plain = direct(lab, learner, [0] * 10)
    assert (plain.sealed, plain.score) == (False, pytest.approx(0.4))
    now = timezone.now()
    phase = Phase.objects.create(
        challenge=challenge, lab=lab, title_en="Over", starts_at=now - dt.timedelta(days=3), ends_at=now
    )
    assert direct(lab, learner, [0] * 10).sealed is True  # ended, not revealed yet: still sealed
    assert phase_reveal(phase_id=phase.pk, now=now) is True
    after = direct(lab, learner, [0] * 10)
    assert (after.sealed, after.score) == (False, pytest.approx(0.4))
    client.force_login(learner)
    assert lab_notes_of(client.get("/labs/tiny/").content.decode()) == ""
    assert notes_of(client.get(after.get_absolute_url()).content.decode()) == ""


@pytest.mark.django_db
def test_a_rerun_of_a_sealed_run_is_allowed_and_sealed(client: Client, seeded: Phase, learner: User) -> None:
    run = direct(seeded.lab, learner, one_wrong_in_private(seeded))
    client.force_login(learner)
    page = client.get(run.get_absolute_url()).content.decode()
    assert 'data-testid="rerun-button"' in page and 'id="rerun-form" hidden' not in page
    response = client.post(f"/labs/runs/{run.pk}/rerun/")
    rerun = Run.objects.exclude(pk=run.pk).get()
    assert response.status_code == 302 and response["Location"] == rerun.get_absolute_url()
    rerun = finish(rerun, one_wrong_in_private(seeded))
    assert (rerun.sealed, rerun.score, rerun.passed, rerun.sealed_score) == (True, None, None, pytest.approx(0.9))
    entry_run = Run.objects.get(pk=finish(entry_submit(phase=seeded, learner=learner, code=VALID_CODE), [0] * 10).pk)
    assert services.run_rerun(run=entry_run).sealed is True  # an entry's re-run here: sealed, not an entry


@pytest.mark.django_db
def test_a_reference_run_is_never_sealed(seeded: Phase, learner: User) -> None:
    lab = seeded.lab
    Lab.objects.filter(pk=lab.pk).update(reference_solution=VALID_CODE)
    lab.refresh_from_db()
    reference = finish(reference_run_start(lab=lab, publish=False), one_wrong_in_private(seeded))
    assert (reference.sealed, reference.score) == (False, pytest.approx(0.9))
    assert services.run_rerun(run=reference).sealed is False
    source = Submission.Source.REFERENCE
    assert submission_create(learner=learner, lab=lab, source=source, code=VALID_CODE).sealed is False
    assert direct(lab, learner, [0] * 10).sealed is True  # the learners' runs of the same lab are


@pytest.mark.django_db
def test_the_reveal_unseals_the_entries_and_the_direct_runs(seeded: Phase, learner: User, entry_run: Run) -> None:
    plain = direct(seeded.lab, learner, one_wrong_in_private(seeded))
    reveal(seeded)
    for run in Run.objects.filter(pk__in=[entry_run.pk, plain.pk]):
        assert (run.sealed, run.score, run.passed) == (False, pytest.approx(0.9), True)


@pytest.mark.django_db
def test_a_second_unrevealed_phase_on_the_lab_keeps_the_direct_runs_sealed(
    seeded: Phase, learner: User, entry_run: Run
) -> None:
    now = timezone.now()
    later = Phase.objects.create(
        challenge=seeded.challenge,
        lab=seeded.lab,
        position=2,
        title_en="Final phase",
        starts_at=now,
        ends_at=now + dt.timedelta(days=30),
    )
    plain = direct(seeded.lab, learner, one_wrong_in_private(seeded))
    later_entry = finish(entry_submit(phase=later, learner=learner, code=VALID_CODE), [0] * 10)
    reveal(seeded)
    assert Run.objects.get(pk=entry_run.pk).sealed is False  # the revealed phase's entry
    assert Run.objects.get(pk=plain.pk).sealed is True  # the direct run waits for the last phase
    assert Run.objects.get(pk=later_entry.pk).sealed is True
    assert direct(seeded.lab, learner, [0] * 10).sealed is True

    reveal(later)
    for run in Run.objects.filter(pk__in=[plain.pk, later_entry.pk]):
        assert run.sealed is False and run.score is not None


@pytest.mark.django_db
def test_the_lab_page_notes_until_when_its_scores_are_sealed(
    client: Client, seeded: Phase, learner: User, admin_user: User
) -> None:
    assert seeded.challenge.published is False
    client.force_login(learner)
    note = lab_notes_of(client.get("/labs/tiny/").content.decode())
    assert "This lab is used by a challenge: " + sealed_note(seeded) in note
    assert "Tiny cup" not in note and "/challenges/" not in note  # a challenge the learner may not see
    anonymous = lab_notes_of(Client().get("/labs/tiny/").content.decode())
    assert sealed_note(seeded) in anonymous and "Tiny cup" not in anonymous

    Challenge.objects.filter(pk=seeded.challenge_id).update(published=True)
    note = lab_notes_of(client.get("/labs/tiny/").content.decode())
    assert "This lab is used by the challenge Tiny cup: " + sealed_note(seeded) in note
    assert 'href="/challenges/tiny-cup/"' in note


@pytest.mark.django_db
def test_the_run_note_of_a_direct_sealed_run_names_the_date_and_the_challenge_to_whom_may_see_it(
    client: Client, seeded: Phase, learner: User, admin_user: User
) -> None:
    later = seeded.ends_at + dt.timedelta(days=3)  # a second phase ending later: the seal's last day
    second = Phase.objects.create(
        challenge=seeded.challenge, lab=seeded.lab, position=2, title_en="Two", starts_at=seeded.ends_at, ends_at=later
    )
    run = direct(seeded.lab, learner, one_wrong_in_private(seeded))
    client.force_login(learner)
    note = notes_of(client.get(run.get_absolute_url()).content.decode())
    assert note.count("<li>") == 1 and "This lab is used by a challenge: " + sealed_note(second) in note
    assert "Tiny cup" not in note and "href" not in note

    client.force_login(admin_user)  # an administrator sees every challenge
    note = notes_of(client.get(run.get_absolute_url()).content.decode())
    assert "This lab is used by the challenge Tiny cup: " + sealed_note(second) in note
    assert 'href="/challenges/tiny-cup/"' in note

    Challenge.objects.filter(pk=seeded.challenge_id).update(published=True)
    client.force_login(learner)
    assert "the challenge Tiny cup" in notes_of(client.get(run.get_absolute_url()).content.decode())


@pytest.mark.django_db
def test_the_beat_unseals_what_no_phase_holds_any_more(seeded: Phase, learner: User, entry_run: Run) -> None:
    plain = direct(seeded.lab, learner, one_wrong_in_private(seeded))
    phases_reveal_due()  # the phase is open: everything stays sealed
    assert set(Run.objects.filter(pk__in=[entry_run.pk, plain.pk]).values_list("sealed", flat=True)) == {True}

    seeded.challenge.delete()  # before its end: nothing is revealed, nothing would unseal these runs
    assert Run.objects.get(pk=plain.pk).sealed is True
    phases_reveal_due()
    for run in Run.objects.filter(pk__in=[entry_run.pk, plain.pk]):
        assert (run.sealed, run.score, run.passed) == (False, pytest.approx(0.9), True)
