"""The ```exercise block format: what a lesson defines, where it shows, and every problem an import
reports (with its file, block and id), all at once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.test import Client

from core.models import User
from courses.course_files import CourseFormatError, course_read
from courses.course_writer import course_write
from courses.exercises import AnswerUnreadable, answer_judge, body_parts, exercises_read, number_parse
from courses.importing import course_data, curriculum_import
from courses.models import Lesson
from tests.courses.exercise_lessons import BODY_EN, BODY_ZH
from tests.courses.test_importing import demo_copy, demo_labs  # noqa: F401 - fixtures used below
from tests.factories import LessonFactory

DEMO = Path(__file__).resolve().parents[2] / "courses" / "demo" / "ai-foundations"


def block(text: str) -> str:
    return f"```exercise\n{text.strip()}\n```"


def problems_of(en: str, zh: str = "") -> list[str]:
    return exercises_read(en, zh)[1]


def test_a_lesson_defines_each_exercise_once_and_places_it_in_both_languages() -> None:
    exercises, problems = exercises_read(BODY_EN, BODY_ZH)
    assert problems == []
    assert [(e["id"], e["kind"]) for e in exercises] == [
        ("mse-by-hand", "number"),
        ("tanh-or-sigmoid", "choice"),
        ("double-it", "code"),
    ]
    number = exercises[0]
    assert number["answer"] == 2.5 and number["tolerance"] == 0.01 and number["solution_after"] == 3
    assert number["prompt"]["zh"].startswith("目标") and len(number["hints"]) == 2
    assert exercises[1]["answers"] == [1] and exercises[1]["several"] is False
    assert exercises[2]["starter"].startswith("def double") and "assert" in exercises[2]["check"]
    parts = body_parts(BODY_ZH, exercises)
    assert [kind for kind, _ in parts] == ["markdown", "exercise", "markdown", "exercise", "exercise", "markdown"]
    assert parts[1] == ("exercise", "mse-by-hand") and "中间" in parts[2][1]


def test_an_exercise_the_other_language_does_not_place_comes_at_its_end() -> None:
    exercises, problems = exercises_read(BODY_EN, "只有文字。")
    assert problems == []
    assert body_parts("只有文字。", exercises) == [
        ("markdown", "只有文字。"),
        ("exercise", "mse-by-hand"),
        ("exercise", "tanh-or-sigmoid"),
        ("exercise", "double-it"),
    ]


def test_the_default_tolerance_is_a_millionth_of_the_answer() -> None:
    exercises, _ = exercises_read(block("id: a\nkind: number\nprompt: x\nanswer: 2000"), "")
    assert exercises[0]["tolerance"] == pytest.approx(0.002)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (block("id: a\nkind: number\nprompt: [x"), "exercise block 1 of the English text: not valid YAML"),
        (block("just text"), "must be a YAML mapping"),
        (block("id: Bad_Id\nkind: number"), "'id' must be a slug"),
        (block("id: a\nkind: essay\nprompt: x"), "exercise block 1 of the English text ('a'): 'kind' must be one of"),
        (block("id: a\nkind: number\nprompt: x"), "a number exercise needs 'answer'"),
        (block("id: a\nkind: number\nprompt: x\nanswer: yes"), "a number exercise needs 'answer'"),
        (block("id: a\nkind: number\nanswer: 1"), "'prompt' must be text"),
        (block("id: a\nkind: number\nprompt: x\nanswer: 1\ntolerance: -1"), "'tolerance' must be a number ≥ 0"),
        (block("id: a\nkind: number\nprompt: x\nanswer: 1\nchoices: [a, b]"), "unknown key 'choices'"),
        (block("id: a\nkind: choice\nprompt: x\nchoices: [a, b]\nanswer: 2"), "out of range"),
        (block("id: a\nkind: choice\nprompt: x\nchoices: [a]\nanswer: 0"), "at least two choices"),
        (block("id: a\nkind: choice\nprompt: x\nchoices: [a, b]"), "a choice exercise needs 'answer'"),
        (block("id: a\nkind: choice\nprompt: x\nchoices: [a, b]\nanswer: [1, 1]"), "lists a choice twice"),
        (block("id: a\nkind: code\nprompt: x"), "a code exercise needs 'check'"),
        (block("id: a\nkind: code\nprompt: x\ncheck: 'assert ('"), "'check' is not valid Python"),
        (block("id: a\nkind: number\nprompt: x\nanswer: 1\nsolution_after: 0"), "'solution_after' must be"),
        (block("id: a\nkind: number\nprompt: x\nanswer: 1\nhints: nope"), "'hints' must be a list of texts"),
        (
            block("id: a\nkind: number\nprompt: x\nanswer: 1") * 1
            + "\n\n"
            + block("id: a\nkind: number\nprompt: y\nanswer: 2"),
            "defined twice",
        ),
        (block("id: ghost"), "places exercise 'ghost', which no block of the lesson defines"),
        (
            "- item\n\n  " + block("id: a\nkind: number\nprompt: x\nanswer: 1").replace("\n", "\n  "),
            "not inside a list",
        ),
    ],
)
def test_each_problem_of_a_block_is_named(body: str, expected: str) -> None:
    problems = problems_of(body)
    assert any(expected in problem for problem in problems), problems


def test_an_import_reports_every_exercise_problem_with_its_file(tmp_path: Path) -> None:
    course = Path(shutil.copytree(DEMO / "training-neural-networks", tmp_path / "training-neural-networks"))
    lesson = course / "01-loss-functions" / "01-mean-squared-error.md"
    text = lesson.read_text().replace("kind: choice", "kind: quiz").replace("answer: 2.5", "answer: two")
    lesson.write_text(text)
    with pytest.raises(CourseFormatError) as error:
        course_read(course)
    mine = [p for p in error.value.problems if p.startswith("01-loss-functions/01-mean-squared-error.md: ")]
    assert len(mine) == 2, error.value.problems
    assert "('mse-by-hand'): a number exercise needs 'answer'" in mine[0]
    assert "('mse-doubled-errors'): 'kind' must be one of number, choice, code" in mine[1]


def test_exporting_writes_the_blocks_back_unchanged(tmp_path: Path) -> None:
    course = course_read(DEMO / "training-neural-networks")
    course_write(course, tmp_path / "out")
    again = course_read(tmp_path / "out")
    lesson = course.modules[0].lessons[0]
    assert again.modules[0].lessons[0].exercises == lesson.exercises != []
    written = (tmp_path / "out" / "01-loss-functions" / "01-mean-squared-error.md").read_text()
    assert "```exercise\nid: mse-by-hand\nkind: number\n" in written


@pytest.mark.parametrize(
    ("typed", "value"),
    [("2.5", 2.5), ("2,5", 2.5), (" -0.5 ", -0.5), ("1e-3", 0.001), ("3/4", 0.75), ("２.５", 2.5), ("−1", -1.0)],
)
def test_numbers_read_as_learners_type_them(typed: str, value: float) -> None:
    assert number_parse(typed) == pytest.approx(value)


@pytest.mark.parametrize("typed", ["", "two", "1/0", "nan", "inf", "1,2,3", "9" * 200])
def test_what_is_not_a_number_is_unreadable(typed: str) -> None:
    with pytest.raises(AnswerUnreadable):
        number_parse(typed)


def test_a_number_is_right_within_its_tolerance() -> None:
    exercise = exercises_read(BODY_EN, "")[0][0]
    assert answer_judge(exercise, ["2.509"]) and answer_judge(exercise, ["2,49"])
    assert not answer_judge(exercise, ["2.52"])


def test_several_right_choices_need_all_of_them() -> None:
    exercises, _ = exercises_read(block("id: a\nkind: choice\nprompt: x\nchoices: [a, b, c]\nanswer: [0, 2]"), "")
    assert exercises[0]["several"] is True
    assert answer_judge(exercises[0], ["2", "0"])
    assert not answer_judge(exercises[0], ["0"])
    with pytest.raises(AnswerUnreadable):
        answer_judge(exercises[0], ["7"])


@pytest.mark.django_db
def test_an_import_stores_the_parsed_exercises_on_the_lesson(demo_labs: list, demo_copy: Path) -> None:  # noqa: F811
    curriculum_import(demo_copy)
    lesson = Lesson.objects.get(slug="sigmoid-and-tanh")
    assert [e["id"] for e in lesson.exercises] == ["sigmoid-derivative", "tanh-over-sigmoid", "sigmoid-in-code"]
    assert lesson.exercise("sigmoid-derivative")["answer"] == 0.09
    assert course_data(lesson.course).modules[1].lessons[1].exercises == lesson.exercises


@pytest.mark.django_db
def test_the_admin_checks_exercise_blocks_as_an_import_does(client: Client, admin_user: User) -> None:
    lesson = LessonFactory()
    User.objects.filter(pk=admin_user.pk).update(is_superuser=True)  # as test_admin_messages does
    client.force_login(admin_user)
    url = f"/admin/courses/lesson/{lesson.pk}/change/"
    form = {
        "module": lesson.module_id,
        "slug": lesson.slug,
        "position": lesson.position,
        "title_en": "T",
        "body_en": "Text\n\n" + block("id: a\nkind: number\nprompt: x"),
        "minutes": 10,
        "fixes": "[]",
    }
    response = client.post(url, form)
    assert response.status_code == 200 and "a number exercise needs" in response.content.decode()
    form["body_en"] = "Text\n\n" + block("id: a\nkind: number\nprompt: x\nanswer: 1")
    assert client.post(url, form).status_code == 302
    lesson.refresh_from_db()
    assert lesson.exercise("a")["answer"] == 1.0
