"""`make run`'s demo: the cohort, its mentors, and the demo learners' runs trained for real by a
lab worker, then waiting in their mentor's review queue."""

from __future__ import annotations

import subprocess

import pytest
from django.core.management import call_command

from cohorts.models import Cohort
from labs.demo_seed import DEMO_SUBMISSIONS
from labs.models import Run, RunState, Submission
from mentorship import selectors
from mentorship.models import Rubric
from tests.labs.test_pipeline import wait_until_final

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_demo_cohort_has_mentors_deadlines_rubrics_and_real_runs_to_review(
    site_worker: subprocess.Popen, lab_worker: subprocess.Popen, settings: object, tmp_path: object
) -> None:
    settings.DATASET_STORAGE_DIR = tmp_path
    call_command("seed_demo", with_runs=True, verbosity=0)
    call_command("seed_demo", with_runs=True, verbosity=0)  # idempotent: nothing queued twice
    cohort = Cohort.objects.get(slug="spring-2026")
    pairs = {(m.learner.username, m.mentor.username) for m in cohort.members.select_related("learner", "mentor")}
    assert pairs == {("learner", "mentor"), ("learner2", "mentor2")}
    assert cohort.deadlines.count() == 4 and Rubric.objects.count() == 4

    every = [wait_until_final(run) for run in Run.objects.select_related("submission__lab", "submission__learner")]
    assert all(run.state == RunState.SUCCEEDED for run in every), [(r.state, r.reason) for r in every]
    # the demo challenge's labs' reference solutions (its leaderboards' baseline rows), never sealed
    references = [r for r in every if r.submission.source == Submission.Source.REFERENCE]
    assert sorted(r.submission.lab.slug for r in references) == ["digits-cnn", "two-spirals"]
    assert all(r.score is not None and not r.sealed for r in references)
    runs = [r for r in every if r.submission.source != Submission.Source.REFERENCE]
    assert len(runs) == len(DEMO_SUBMISSIONS)
    # two-spirals is the demo challenge's Final lab: its runs are sealed until the Final is revealed
    # (challenges.receivers.run_sealing_receive); their withheld score passes all the same.
    assert {r.submission.lab.slug for r in runs if r.sealed} == {"two-spirals"}
    outcomes = {
        (
            r.submission.learner.username,
            r.submission.lab.slug,
            r.submission.lab.passes(r.sealed_score) if r.sealed else r.passed,
        )
        for r in runs
    }
    assert ("learner", "digits-mlp", True) in outcomes and ("learner", "digits-mlp", False) in outcomes
    assert ("learner2", "two-spirals", True) in outcomes

    mentor = cohort.members.get(learner__username="learner").mentor
    queue = list(selectors.review_queue(mentor=mentor))  # digits-mlp's two runs fold into the newest
    assert {(run.submission.learner.username, run.submission.lab.slug) for run in queue} == {
        ("learner", "linear-regression"),
        ("learner", "digits-mlp"),
    }
    assert len(selectors.review_queue(mentor=mentor, all_runs=True)) == 3
