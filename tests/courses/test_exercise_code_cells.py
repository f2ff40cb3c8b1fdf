"""Code cells: the learner's cell and the exercise's check run in the lab sandbox (the harness's
``exercise`` task), never in the web process; the page hears back by polling. A crash, a time
limit or a failed assert is the learner's try, with the reason in words they can act on."""

from __future__ import annotations

import subprocess
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from core.models import User
from courses.models import CodeCheck, CodeCheckState, ExerciseProgress, Lesson
from courses.services import CODE_CHECK_STALE, code_check_run, exercise_check
from tests.courses.exercise_lessons import exercise_lesson

JSON = {"HTTP_ACCEPT": "application/json"}


def checked(user: User, lesson: Lesson, code: str) -> CodeCheck:
    """The cell checked as the site worker checks it (the real sandbox), here in the test's process."""
    feedback = exercise_check(user=user, lesson=lesson, exercise_id="double-it", answer=[code])
    assert feedback.state == "checking"
    check = CodeCheck.objects.filter(user=user).latest("created_at")
    code_check_run(check_id=check.pk)
    check.refresh_from_db()
    return check


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "passed", "words"),
    [
        ("def double(x):\n    return 2 * x\n", True, "Correct! Your code passes every check."),
        (
            "def double(x):\n    print('got', x)\n    return x\n",
            False,
            "double(2) should be 4\nYour code printed:\ngot 2",
        ),
        ("def double(x):\n    return y\n", False, "Your code raised NameError: name 'y' is not defined (line 2)"),
        ("def triple(x):\n    return 3 * x\n", False, "The check raised NameError: name 'double' is not defined"),
        ("def double(x)\n    return 2 * x\n", False, "Your code raised SyntaxError: expected ':' (line 1)"),
        ("import os\nos._exit(3)\n", False, "Your code stopped the checker: exit status 3"),
    ],
)
def test_a_cell_is_judged_in_the_sandbox(learner: User, code: str, passed: bool, words: str) -> None:
    lesson = exercise_lesson()
    check = checked(learner, lesson, code)
    assert (check.state, check.passed) == (CodeCheckState.DONE, passed)
    assert check.message.startswith(words), check.message
    progress = ExerciseProgress.objects.get(user=learner, exercise="double-it")
    assert (progress.tries, progress.solved) == (1, passed)


@pytest.mark.django_db
def test_a_cell_that_never_ends_is_stopped_and_counts_as_a_try(learner: User) -> None:
    check = checked(learner, exercise_lesson(), "while True:\n    pass\n")
    assert check.passed is False and check.message.startswith("Your code did not finish within 10 seconds.")
    assert ExerciseProgress.objects.get(user=learner).tries == 1


@pytest.mark.django_db
def test_one_cell_at_a_time_and_a_replayed_task_changes_nothing(learner: User) -> None:
    lesson = exercise_lesson()
    exercise_check(user=learner, lesson=lesson, exercise_id="double-it", answer=["def double(x):\n    return 2 * x\n"])
    again = exercise_check(user=learner, lesson=lesson, exercise_id="double-it", answer=["x = 1\n"])
    assert again.message == "Your last cell is still being checked." and CodeCheck.objects.count() == 1
    check = CodeCheck.objects.get()
    code_check_run(check_id=check.pk)
    code_check_run(check_id=check.pk)  # the message delivered twice
    assert ExerciseProgress.objects.get().tries == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_page_sends_a_cell_to_the_site_worker_and_polls_its_result(
    site_worker: subprocess.Popen, client: Client, learner: User
) -> None:
    lesson = exercise_lesson()
    client.force_login(learner)
    url = f"{lesson.get_absolute_url()}exercises/double-it/"
    data = client.post(url + "check/", {"answer": "def double(x):\n    return x + x\n"}, **JSON).json()
    assert data["state"] == "checking" and data["status_url"] == url + "status/"
    deadline = time.monotonic() + 90
    while data["state"] == "checking" and time.monotonic() < deadline:
        time.sleep(0.5)
        data = client.get(data.get("status_url") or url + "status/", **JSON).json()
    assert data["state"] == "correct" and data["solved"] and "CODE-SOLUTION" in data["solution_html"]
    html = client.get(lesson.get_absolute_url()).content.decode()
    assert "return x + x" in html and 'data-testid="exercise-solved"' in html


@pytest.mark.django_db
def test_a_lost_check_says_so_and_no_longer_blocks_a_new_one(client: Client, learner: User) -> None:
    lesson = exercise_lesson()
    exercise_check(user=learner, lesson=lesson, exercise_id="double-it", answer=["x = 1\n"])
    CodeCheck.objects.update(created_at=timezone.now() - CODE_CHECK_STALE - timedelta(seconds=1))
    client.force_login(learner)
    status = client.get(f"{lesson.get_absolute_url()}exercises/double-it/status/").json()
    assert status["state"] == "failed" and "did not count as a try" in status["message"]
    again = exercise_check(user=learner, lesson=lesson, exercise_id="double-it", answer=["x = 2\n"])
    assert again.message == "Checking your code…" and CodeCheck.objects.count() == 2
