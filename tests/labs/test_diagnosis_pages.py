"""The coach's findings where people read them: the run page (and its progress.json when the run
ends), the API's run object, the learner's notification, the mentor's review page and queue, with
the lessons that teach the fix. Runs here are real: a NaN and a time limit through the sandbox."""

from __future__ import annotations

import datetime as dt
import re
import subprocess

import pytest
from django.test import Client
from django.utils import timezone, translation
from rest_framework.test import APIClient

from cohorts.models import Cohort, CohortMember
from core.models import User
from courses.models import Lesson
from labs import services
from labs.diagnosis import run_diagnose, run_findings
from labs.models import Lab, Run, RunState, Submission
from notifications.models import Notification
from tests.factories import CourseFactory, LessonFactory, ModuleFactory
from tests.labs.conftest import VALID_CODE
from tests.labs.test_diagnosis import HAND_WRITTEN_CROSS_ENTROPY
from tests.labs.test_pipeline import wait_until_final

DIVERGING = [{"step": n, "t": n / 10, "metrics": {"loss": 0.5 * 1.6**n}} for n in range(1, 16)]


def lesson_fixing(*codes: str, title: str = "Gradient descent and the learning rate") -> Lesson:
    course = CourseFactory(published=True)
    return LessonFactory(
        module=ModuleFactory(course=course), title_en=title, title_zh="梯度下降与学习率", fixes=list(codes)
    )


def ended_run(learner: User, lab: Lab, curve: list[dict], **fields: object) -> Run:
    """A run that ended with ``curve``, read by the coach as the site reads one at its end."""
    submission = Submission.objects.create(
        learner=learner, lab=lab, code=VALID_CODE, code_sha256="0" * 64, source="web"
    )
    fields = {"state": RunState.SUCCEEDED, "score": 0.2, "passed": False} | fields
    run = Run.objects.create(submission=submission, dataset=lab.dataset, seed=1, curve=curve, **fields)
    run.refresh_from_db()
    run_diagnose(Run.objects.select_related("submission__lab").get(pk=run.pk))
    run.refresh_from_db()
    return run


@pytest.mark.django_db
def test_the_run_page_says_why_with_the_lesson_that_fixes_it_in_both_languages(
    client: Client, learner: User, lab: Lab
) -> None:
    lesson = lesson_fixing("diverging")
    run = ended_run(learner, lab, DIVERGING)
    assert [f["code"] for f in run.diagnosis] == ["diverging"]
    client.force_login(learner)
    page = client.get(run.get_absolute_url()).content.decode()
    assert 'data-testid="finding-diverging"' in page and "The loss grew" in page
    assert f'href="{lesson.get_absolute_url()}"' in page and "Gradient descent and the learning rate" in page
    client.cookies["django_language"] = "zh-hans"
    page = client.get(run.get_absolute_url()).content.decode()
    assert "损失在上升" in page and "梯度下降与学习率" in page
    # the curve's evidence, to mark on the chart
    progress = re.search(r'id="run-progress"[^>]*>(.*?)</script>', page, re.S).group(1)
    assert '"marks"' in progress and '"points"' in progress


@pytest.mark.django_db
def test_progress_json_brings_the_findings_once_the_run_has_ended(client: Client, learner: User, lab: Lab) -> None:
    run = ended_run(learner, lab, DIVERGING, state=RunState.RUNNING, score=None, passed=None)
    client.force_login(learner)
    progress = client.get(f"/labs/runs/{run.pk}/progress.json").json()
    assert "diagnosis_html" not in progress and run.diagnosis is None  # still running: nothing to read yet
    Run.objects.filter(pk=run.pk).update(state=RunState.SUCCEEDED, score=0.2, passed=False)
    progress = client.get(f"/labs/runs/{run.pk}/progress.json").json()  # ended before the coach stored it
    assert 'data-testid="finding-diverging"' in progress["diagnosis_html"]
    assert progress["marks"][0]["points"][0][0] == 1


@pytest.mark.django_db
def test_a_clean_run_shows_no_coach(client: Client, learner: User, lab: Lab) -> None:
    falling = [{"step": n, "t": n, "metrics": {"loss": 1 / n}} for n in range(1, 10)]
    run = ended_run(learner, lab, falling, score=0.95, passed=True)
    assert run.diagnosis == []
    client.force_login(learner)
    page = client.get(run.get_absolute_url()).content.decode()
    assert re.search(r'data-testid="coach"[^>]*hidden', page)
    assert "finding-" not in page


@pytest.mark.django_db
def test_the_api_run_object_carries_the_diagnosis(api: APIClient, learner: User, lab: Lab) -> None:
    lesson = lesson_fixing("diverging")
    run = ended_run(learner, lab, DIVERGING)
    body = api.get(f"/api/v1/runs/{run.pk}/").json()
    (finding,) = body["diagnosis"]
    assert finding["code"] == "diverging" and finding["lessons"] == [lesson.get_absolute_url()]
    assert finding["message"].startswith("Your loss grew") and finding["evidence"]["metric"] == "loss"
    with translation.override("zh-hans"):
        body = api.get(f"/api/v1/runs/{run.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert "不降反升" in body["diagnosis"][0]["message"]
    listed = api.get("/api/v1/runs/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [row["diagnosis"][0]["code"] for row in rows if row["id"] == run.pk] == ["diverging"]


@pytest.mark.django_db
def test_a_sealed_run_keeps_its_closeness_to_the_pass_mark_to_itself(learner: User, lab: Lab) -> None:
    short = [{"step": 1, "t": 1, "metrics": {"loss": 0.4}}]
    run = ended_run(learner, lab, short, score=None, passed=None, sealed=True, sealed_score=0.78)
    assert run.diagnosis == []
    services.runs_unseal(run_ids=[run.pk])  # the reveal: the score is told, and what it tells
    run.refresh_from_db()
    assert [f["code"] for f in run.diagnosis] == ["below_threshold_close"]


@pytest.mark.django_db
def test_the_mentor_sees_the_findings_on_the_review_page_and_in_the_queue(
    client: Client, mentor: User, learner: User, lab: Lab
) -> None:
    today = timezone.localdate()
    cohort = Cohort.objects.create(slug="c", name="C", starts_on=today, ends_on=today + dt.timedelta(30))
    CohortMember.objects.create(cohort=cohort, learner=learner, mentor=mentor)
    run = ended_run(learner, lab, DIVERGING, finished_at=timezone.now())
    client.force_login(mentor)
    review = client.get(f"/mentoring/runs/{run.pk}/review/").content.decode()
    assert 'data-testid="finding-diverging"' in review, review[review.find("<main") :][:3000]
    assert "curve says" in review and "What the learner" in review, review[review.find("coach-title") :][:300]
    queue = client.get("/mentoring/queue/").content.decode()
    assert f'data-testid="queue-finding-{run.pk}"' in queue and "The loss grew" in queue


@pytest.mark.django_db
def test_runs_that_ended_before_the_coach_are_read_on_the_fly(learner: User, lab: Lab) -> None:
    run = ended_run(learner, lab, DIVERGING)
    Run.objects.filter(pk=run.pk).update(diagnosis=None)
    run.refresh_from_db()
    assert [f["code"] for f in run_findings(run)] == ["diverging"]


# --- through the sandbox ------------------------------------------------------------------------

SLOW_AND_IMPROVING = """
import time
import torch


def train(data, run):
    loss = 2.0
    for step in range(1, 10_000):
        loss *= 0.9
        run.log(step, loss=loss)
        time.sleep(0.2)
    return None


def predict(model, x):
    return torch.zeros(len(x))
"""


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_nan_in_the_sandbox_is_read_from_its_log_and_told_to_the_learner(
    learner: User, lab: Lab, site_worker: subprocess.Popen, lab_worker: subprocess.Popen
) -> None:
    lesson_fixing("nan_loss", title="Softmax and cross-entropy")
    run = wait_until_final(
        services.submission_create(learner=learner, lab=lab, source="api", code=HAND_WRITTEN_CROSS_ENTROPY)
    )
    assert "dropped non-finite metric 'loss'" in run.log
    assert [f["code"] for f in run.diagnosis] == ["nan_loss"], (run.state, run.reason, run.log[-2000:])
    notification = Notification.objects.get(user=learner, url=run.get_absolute_url())
    assert notification.title.endswith("coach: The loss became NaN")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_time_limit_while_the_loss_still_falls(
    learner: User, lab: Lab, site_worker: subprocess.Popen, lab_worker: subprocess.Popen
) -> None:
    Lab.objects.filter(pk=lab.pk).update(wall_seconds=6)
    lab.refresh_from_db()
    run = wait_until_final(services.submission_create(learner=learner, lab=lab, source="api", code=SLOW_AND_IMPROVING))
    assert (run.state, run.reason) == (RunState.TIMED_OUT, "limit: time")
    assert [f["code"] for f in run.diagnosis] == ["time_limit_while_improving"]
    assert run.diagnosis[0]["evidence"]["wall_seconds"] == 6
