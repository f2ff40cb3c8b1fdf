"""Checking a lesson's exercises: instant feedback, a hint after each wrong try, the worked
solution once earned (and never in the page before), tries that count only what can be judged,
and the same answers with and without JavaScript."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from core.models import User
from courses.models import ExerciseProgress, Lesson
from courses.selectors import ExerciseResult, exercise_results
from courses.services import exercise_check
from tests.courses.exercise_lessons import exercise_lesson

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def lesson(db: None) -> Lesson:
    return exercise_lesson()


def check_url(lesson: Lesson, exercise_id: str) -> str:
    return f"{lesson.get_absolute_url()}exercises/{exercise_id}/check/"


def test_a_right_number_is_solved_at_once(learner: User, lesson: Lesson) -> None:
    feedback = exercise_check(user=learner, lesson=lesson, exercise_id="mse-by-hand", answer=["2,5"])
    assert feedback.correct and feedback.tries == 1 and feedback.solved
    assert "SOLVED-TEXT" in feedback.solution_html  # the worked solution, once solved
    progress = ExerciseProgress.objects.get(user=learner, lesson=lesson, exercise="mse-by-hand")
    assert progress.solved and progress.solved_at is not None and progress.last_answer == "2,5"


def test_each_wrong_try_earns_a_hint_and_the_third_the_solution(learner: User, lesson: Lesson) -> None:
    first = exercise_check(user=learner, lesson=lesson, exercise_id="mse-by-hand", answer=["3"])
    assert first.state == "wrong" and first.tries == 1 and first.solution_html is None
    assert "Square each error" in first.hint and len(first.hints) == 1
    second = exercise_check(user=learner, lesson=lesson, exercise_id="mse-by-hand", answer=["2"])
    assert "divide by N" in second.hint and len(second.hints) == 2 and second.solution_html is None
    third = exercise_check(user=learner, lesson=lesson, exercise_id="mse-by-hand", answer=["1"])
    assert third.tries == 3 and "SOLVED-TEXT" in third.solution_html and not third.solved


def test_what_is_not_a_number_does_not_count_as_a_try(learner: User, lesson: Lesson) -> None:
    feedback = exercise_check(user=learner, lesson=lesson, exercise_id="mse-by-hand", answer=["two and a half"])
    assert feedback.state == "invalid" and feedback.tries == 0 and "not a number" in feedback.message
    assert not ExerciseProgress.objects.filter(user=learner).exists()
    no_choice = exercise_check(user=learner, lesson=lesson, exercise_id="tanh-or-sigmoid", answer=[])
    assert no_choice.state == "invalid" and no_choice.tries == 0


def test_a_try_after_solving_does_not_undo_it(learner: User, lesson: Lesson) -> None:
    exercise_check(user=learner, lesson=lesson, exercise_id="tanh-or-sigmoid", answer=["1"])
    later = exercise_check(user=learner, lesson=lesson, exercise_id="tanh-or-sigmoid", answer=["0"])
    assert later.state == "wrong" and later.solved and later.tries == 1
    assert exercise_results(learner) == [
        ExerciseResult(
            lesson_id=lesson.pk,
            exercise_id="tanh-or-sigmoid",
            tries=1,
            solved=True,
            solved_at=ExerciseProgress.objects.get().solved_at,
        )
    ]


def test_the_skill_profile_reads_every_tried_exercise(learner: User, other_learner: User, lesson: Lesson) -> None:
    exercise_check(user=learner, lesson=lesson, exercise_id="mse-by-hand", answer=["9"])
    exercise_check(user=learner, lesson=lesson, exercise_id="tanh-or-sigmoid", answer=["1"])
    exercise_check(user=other_learner, lesson=lesson, exercise_id="mse-by-hand", answer=["2.5"])
    results = exercise_results(learner)
    assert [(r.exercise_id, r.tries, r.solved) for r in results] == [
        ("mse-by-hand", 1, False),
        ("tanh-or-sigmoid", 1, True),
    ]
    assert results[0].solved_at is None and results[1].solved_at is not None


# --- the page ------------------------------------------------------------------------------------


def test_the_page_shows_each_exercise_as_a_form_in_place(client: Client, learner: User, lesson: Lesson) -> None:
    client.force_login(learner)
    html = client.get(lesson.get_absolute_url()).content.decode()
    assert html.index("Before the exercise") < html.index('id="exercise-mse-by-hand"') < html.index("Between.")
    assert 'inputmode="decimal"' in html and 'aria-live="polite"' in html
    assert '<legend class="exercise-prompt"' in html and 'type="radio" name="answer" value="1"' in html
    assert "def double(x):" in html  # the code cell's starter
    assert "js/exercises.js" in html


def test_no_answer_hint_or_solution_is_in_the_page_before_it_is_earned(
    client: Client, learner: User, lesson: Lesson
) -> None:
    client.force_login(learner)
    html = client.get(lesson.get_absolute_url()).content.decode()
    for secret in ("SOLVED-TEXT", "CHOICE-SOLUTION", "CODE-SOLUTION", "Square each error", "2.5", "assert double"):
        assert secret not in html, secret
    client.post(check_url(lesson, "mse-by-hand"), {"answer": "7"})
    html = client.get(lesson.get_absolute_url()).content.decode()
    assert "Square each error" in html and "divide by N" not in html and "SOLVED-TEXT" not in html


def test_without_javascript_a_check_comes_back_to_the_exercise_with_its_feedback(
    client: Client, learner: User, lesson: Lesson
) -> None:
    client.force_login(learner)
    response = client.post(check_url(lesson, "mse-by-hand"), {"answer": "1"})
    assert response.status_code == 302 and response["Location"].endswith("#exercise-mse-by-hand")
    html = client.get(response["Location"]).content.decode()
    assert "Not quite. Try again." in html and "Square each error" in html
    assert "Not quite" not in client.get(lesson.get_absolute_url()).content.decode()  # shown once
    client.post(check_url(lesson, "mse-by-hand"), {"answer": "oops"})
    html = client.get(lesson.get_absolute_url()).content.decode()
    assert "That is not a number" in html and 'value="oops"' in html
    client.post(check_url(lesson, "mse-by-hand"), {"answer": "2.5"})
    html = client.get(lesson.get_absolute_url()).content.decode()
    assert "Correct!" in html and "SOLVED-TEXT" in html and 'data-testid="exercise-solved"' in html


def test_with_javascript_a_check_answers_json(client: Client, learner: User, lesson: Lesson) -> None:
    client.force_login(learner)
    data = client.post(check_url(lesson, "tanh-or-sigmoid"), {"answer": "0"}, **JSON).json()
    assert data["state"] == "wrong" and data["tries"] == 1 and data["solution_html"] is None
    data = client.post(check_url(lesson, "tanh-or-sigmoid"), {"answer": "1"}, **JSON).json()
    assert data["state"] == "correct" and data["solved"] and "CHOICE-SOLUTION" in data["solution_html"]


def test_a_check_needs_a_post_with_a_csrf_token_and_a_signed_in_learner(
    learner: User, lesson: Lesson, client: Client
) -> None:
    assert client.post(check_url(lesson, "mse-by-hand"), {"answer": "2.5"}).status_code == 302  # to sign in
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(learner)
    assert strict.post(check_url(lesson, "mse-by-hand"), {"answer": "2.5"}).status_code == 403
    assert strict.get(check_url(lesson, "mse-by-hand")).status_code == 405
    strict.get(lesson.get_absolute_url())
    token = strict.cookies["csrftoken"].value
    ok = strict.post(check_url(lesson, "mse-by-hand"), {"answer": "2.5", "csrfmiddlewaretoken": token}, **JSON)
    assert ok.json()["state"] == "correct"
    assert strict.post(check_url(lesson, "nope"), {"csrfmiddlewaretoken": token}).status_code == 404


def test_checks_are_rate_limited(client: Client, learner: User, lesson: Lesson) -> None:
    client.force_login(learner)
    for _ in range(60):
        client.post(check_url(lesson, "mse-by-hand"), {"answer": "x"}, **JSON)
    response = client.post(check_url(lesson, "mse-by-hand"), {"answer": "2.5"}, **JSON)
    assert response.status_code == 429 and "Too many tries" in response.json()["message"]


def test_the_page_reads_in_chinese(client: Client, learner: User, lesson: Lesson) -> None:
    client.force_login(learner)
    client.cookies["django_language"] = "zh-hans"
    with translation.override("en"):  # the page activates Chinese in this thread: back to English after
        html = client.get(lesson.get_absolute_url()).content.decode()
    assert html.index("练习之前") < html.index("目标 <span") < html.index("中间")


@pytest.mark.django_db
def test_the_lessons_api_never_gives_an_exercise_answer_hint_or_solution(learner: User) -> None:
    from rest_framework.test import APIClient

    lesson = exercise_lesson()
    api = APIClient()
    api.force_authenticate(learner)
    for language in ("en", "zh-hans"):
        with translation.override("en"):  # the request switches the thread's language: not for later tests
            data = api.get(f"/api/v1/lessons/{lesson.pk}/", HTTP_ACCEPT_LANGUAGE=language).json()
        text = data["body"] + data["body_html"]
        for secret in (
            "answer:",
            "2.5",
            "Square each error",
            "先把每个误差平方",
            "SOLVED-TEXT",
            "CHOICE-SOLUTION",
            "CODE-SOLUTION",
            "double(2) == 4",
            "tolerance",
        ):
            assert secret not in text, (language, secret)
        assert "mse-by-hand" in data["body"] and "double-it" in data["body"]  # where each exercise stands
    assert ("Before the exercise." in data["body"]) is False  # the Chinese text came last
    assert "练习之前。" in data["body"]
