"""Exercises inside lessons ("check yourself"): the ```` ```exercise ```` block format, and judging
an answer. No database here: ``courses.course_files`` reads the blocks when a course folder is
imported (every problem at once), the lesson keeps them parsed (``Lesson.exercises``), and
``courses.services.exercise_check`` stores the learner's tries.

A block holds YAML. It is defined once, in either language section of the lesson, with every text
in both languages; the other section places it with a block holding only its ``id`` (a section
that does not place an exercise shows it at its end). Kinds:

- ``number``: ``answer`` (a number), ``tolerance`` (absolute; default ``1e-6 × max(1, |answer|)``);
- ``choice``: ``choices`` (two or more texts), ``answer`` (the 0-based index of the right one, or a
  list of indices when several are right: then the learner ticks all of them);
- ``code``: ``starter`` (the cell's first text), ``check`` (Python run after the learner's cell in
  the same namespace, in the lab sandbox; it fails the cell by raising, an ``AssertionError``'s
  message is what the learner reads).

Each kind has ``prompt``, optional ``hints`` (one more shown after each wrong try), ``solution``
(shown once solved or after ``solution_after`` wrong tries, default 3).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import yaml
from django.utils.translation import gettext as _

from core.bilingual import bilingual
from core.markdown import fenced_blocks, render_markdown

BLOCK_INFO = "exercise"
KINDS = ("number", "choice", "code")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
DEFAULT_SOLUTION_AFTER = 3
RELATIVE_TOLERANCE = 1e-6
CODE_TIMEOUT_S = 10
MAX_NUMBER_CHARS = 100
MAX_CODE_CHARS = 20_000
COMMON_KEYS = {"id", "kind", "prompt", "hints", "solution", "solution_after"}
KIND_KEYS = {"number": {"answer", "tolerance"}, "choice": {"answer", "choices"}, "code": {"starter", "check"}}

Exercise = dict[str, Any]  # one exercise as stored in Lesson.exercises (see _normalised)


class AnswerUnreadable(ValueError):
    """The answer is not one the exercise can judge (not a number, no choice): not a try."""


# --- reading the blocks --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Block:
    language: str
    number: int  # 1-based, in its section
    start: int
    end: int
    nested: bool
    source: str

    def where(self, exercise_id: object = None) -> str:
        section = "English" if self.language == "en" else "Chinese"
        block = f"exercise block {self.number} of the {section} text"
        return f"{block} ('{exercise_id}')" if isinstance(exercise_id, str) and exercise_id else block


def _blocks(text: str, language: str) -> list[_Block]:
    return [
        _Block(language, n, start, end, level > 0, source)
        for n, (start, end, level, source) in enumerate(fenced_blocks(text, BLOCK_INFO), start=1)
    ]


def exercises_read(en: str, zh: str) -> tuple[list[Exercise], list[str]]:
    """The exercises a lesson's two texts define, in the order they first appear, and every problem
    found (each naming its block and id)."""
    problems: list[str] = []
    defined: dict[str, Exercise] = {}
    placements: list[tuple[_Block, str]] = []
    for language, text in (("en", en), ("zh", zh)):
        placed: set[str] = set()
        for block in _blocks(text, language):
            exercise_id = _block_read(block, defined, placements, problems)
            if exercise_id is None:
                continue
            if exercise_id in placed:
                problems.append(f"{block.where(exercise_id)}: the id is used twice in this text; ids are unique")
            placed.add(exercise_id)
    problems += [
        f"{block.where(exercise_id)}: places exercise '{exercise_id}', which no block of the lesson defines"
        for block, exercise_id in placements
        if exercise_id not in defined
    ]
    return list(defined.values()), problems


def _block_read(
    block: _Block, defined: dict[str, Exercise], placements: list[tuple[_Block, str]], problems: list[str]
) -> str | None:
    """Read one block: a definition goes into ``defined``, a placement into ``placements``; its id."""
    if block.nested:
        problems.append(f"{block.where()}: an exercise block stands on its own, not inside a list or a quote")
        return None
    try:
        data = yaml.safe_load(block.source)
    except yaml.YAMLError as error:
        problems.append(f"{block.where()}: not valid YAML ({error})".replace("\n", " "))
        return None
    if not isinstance(data, dict):
        problems.append(f"{block.where()}: must be a YAML mapping (id: …, kind: …, prompt: …)")
        return None
    exercise_id = data.get("id")
    if not isinstance(exercise_id, str) or not SLUG.match(exercise_id) or len(exercise_id) > 50:
        problems.append(f"{block.where()}: 'id' must be a slug (lowercase letters, digits, hyphens): {exercise_id!r}")
        return None
    if set(data) == {"id"}:
        placements.append((block, exercise_id))
        return exercise_id
    found: list[str] = []
    exercise = _normalised(data, found)
    problems += [f"{block.where(exercise_id)}: {problem}" for problem in found]
    if exercise_id in defined:
        problems.append(f"{block.where(exercise_id)}: defined twice; the other text places it with only 'id'")
    else:
        defined[exercise_id] = exercise  # with problems too: its placements are no further problem
    return exercise_id


def _text(value: object) -> dict[str, str] | None:
    """``{"en": …, "zh": …}`` from plain text or a mapping of the two; None when it is neither."""
    if isinstance(value, str | int | float) and not isinstance(value, bool) and str(value).strip():
        return {"en": str(value).strip(), "zh": ""}
    if isinstance(value, dict) and value and set(value) <= {"en", "zh"}:
        en, zh = value.get("en") or "", value.get("zh") or ""
        if isinstance(en, str) and isinstance(zh, str) and (en.strip() or zh.strip()):
            return {"en": en.strip(), "zh": zh.strip()}
    return None


def _texts(value: object, key: str, problems: list[str]) -> list[dict[str, str]]:
    texts = [_text(item) for item in value] if isinstance(value, list) else [None]
    if None in texts:
        problems.append(f"'{key}' must be a list of texts (each text, or a mapping with 'en' and/or 'zh')")
        return []
    return texts  # type: ignore[return-value]


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _normalised(data: dict[str, Any], problems: list[str]) -> Exercise:
    """The stored form of one definition; what is wrong with it goes into ``problems``."""
    kind = data.get("kind")
    if kind not in KINDS:
        problems.append(f"'kind' must be one of {', '.join(KINDS)}: {kind!r}")
        return {}
    allowed = COMMON_KEYS | KIND_KEYS[kind]
    problems += [
        f"unknown key '{key}' for a {kind} exercise (allowed: {', '.join(sorted(allowed))})"
        for key in sorted(set(data) - allowed, key=str)
    ]
    exercise: Exercise = {"id": data["id"], "kind": kind, "prompt": _text(data.get("prompt"))}
    if exercise["prompt"] is None:
        problems.append("'prompt' must be text or a mapping with 'en' and/or 'zh' text")
    exercise["hints"] = _texts(data.get("hints", []), "hints", problems)
    exercise["solution"] = _text(data["solution"]) if "solution" in data else None
    if "solution" in data and exercise["solution"] is None:
        problems.append("'solution' must be text or a mapping with 'en' and/or 'zh' text")
    after = data.get("solution_after", DEFAULT_SOLUTION_AFTER)
    if isinstance(after, bool) or not isinstance(after, int) or not 1 <= after <= 100:
        problems.append("'solution_after' must be a whole number of wrong tries from 1 to 100")
    exercise["solution_after"] = after
    {"number": _number_fields, "choice": _choice_fields, "code": _code_fields}[kind](data, exercise, problems)
    return exercise


def _number_fields(data: dict[str, Any], exercise: Exercise, problems: list[str]) -> None:
    answer = data.get("answer")
    if not _is_number(answer):
        problems.append(f"a number exercise needs 'answer', a number: {answer!r}")
        answer = 0.0
    tolerance = data.get("tolerance", RELATIVE_TOLERANCE * max(1.0, abs(answer)))
    if not _is_number(tolerance) or tolerance < 0:
        problems.append(f"'tolerance' must be a number ≥ 0: {tolerance!r}")
    exercise.update(answer=float(answer), tolerance=float(tolerance) if _is_number(tolerance) else 0.0)


def _choice_fields(data: dict[str, Any], exercise: Exercise, problems: list[str]) -> None:
    choices = _texts(data.get("choices"), "choices", problems)
    if choices and len(choices) < 2:
        problems.append("'choices' needs at least two choices")
    answer = data.get("answer")
    answers = answer if isinstance(answer, list) else [answer]
    if not answers or not all(isinstance(a, int) and not isinstance(a, bool) for a in answers):
        problems.append(f"a choice exercise needs 'answer', the 0-based index of the right choice: {answer!r}")
        answers = []
    elif choices and any(not 0 <= a < len(choices) for a in answers):
        problems.append(f"'answer' {answer!r} is out of range: the choices are numbered 0 to {len(choices) - 1}")
    elif len(set(answers)) != len(answers):
        problems.append("'answer' lists a choice twice")
    exercise.update(choices=choices, answers=sorted(answers), several=isinstance(answer, list))


def _code_fields(data: dict[str, Any], exercise: Exercise, problems: list[str]) -> None:
    starter, check = data.get("starter", ""), data.get("check")
    if not isinstance(starter, str):
        problems.append("'starter' must be text (the code the cell starts with)")
        starter = ""
    if not isinstance(check, str) or not check.strip():
        problems.append("a code exercise needs 'check': Python that asserts on the names the learner's cell defines")
        check = ""
    else:
        try:
            compile(check, "check", "exec")
        except SyntaxError as error:
            problems.append(f"'check' is not valid Python: {error.msg} (line {error.lineno})")
    exercise.update(starter=starter, check=check)


# --- the lesson page -------------------------------------------------------------------------------


def body_parts(text: str, exercises: list[Exercise]) -> list[tuple[str, str]]:
    """The lesson text cut at its exercise blocks: ("markdown", text) and ("exercise", id) in
    order; exercises this text does not place come last."""
    lines = (text or "").replace("\r\n", "\n").split("\n")
    known = {exercise["id"] for exercise in exercises}
    parts: list[tuple[str, str]] = []
    cursor = 0
    for start, end, level, source in fenced_blocks(text, BLOCK_INFO):
        try:
            data = yaml.safe_load(source)
        except yaml.YAMLError:
            continue
        exercise_id = data.get("id") if isinstance(data, dict) else None
        if level or exercise_id not in known or ("exercise", exercise_id) in parts:
            continue
        parts += [("markdown", "\n".join(lines[cursor:start])), ("exercise", exercise_id)]
        cursor = end
    parts.append(("markdown", "\n".join(lines[cursor:])))
    parts += [("exercise", e["id"]) for e in exercises if ("exercise", e["id"]) not in parts]
    return [(kind, value) for kind, value in parts if kind == "exercise" or value.strip()]


def body_public(text: str, exercises: list[Exercise]) -> str:
    """The lesson text with each exercise block (its answer, hints and solution are in it) replaced
    by a note: what the API gives. An exercise is answered on the lesson's page, where the hints and
    the solution are earned."""
    if not exercises:
        return text
    note = _("*Check yourself (exercise `%(id)s`): answer it on the lesson's page.*")
    return "\n\n".join(
        value if kind == "markdown" else note % {"id": value} for kind, value in body_parts(text, exercises)
    )


# --- judging ---------------------------------------------------------------------------------------


def number_parse(text: str) -> float:
    """A number as a learner types it: "2.5", "2,5" (a decimal comma), "-0.5", "1e-3", "3/4",
    full-width digits; ``AnswerUnreadable`` otherwise."""
    cleaned = unicodedata.normalize("NFKC", text or "").strip().replace("−", "-").replace(" ", "")
    if "," in cleaned and "." not in cleaned and cleaned.count(",") == 1:
        cleaned = cleaned.replace(",", ".")
    if not cleaned or len(cleaned) > MAX_NUMBER_CHARS:
        raise AnswerUnreadable
    try:
        if "/" in cleaned:
            numerator, denominator = cleaned.split("/", 1)
            value = float(Fraction(numerator) / Fraction(denominator))
        else:
            value = float(cleaned)
    except (ValueError, ZeroDivisionError, OverflowError):
        raise AnswerUnreadable from None
    if not math.isfinite(value):
        raise AnswerUnreadable
    return value


def answer_judge(exercise: Exercise, answer: list[str]) -> bool:
    """Whether ``answer`` (the form's values) is right for a number or choice exercise;
    ``AnswerUnreadable`` when it cannot be judged."""
    if exercise["kind"] == "number":
        value = number_parse(answer[0] if answer else "")
        return abs(value - exercise["answer"]) <= exercise["tolerance"] + 1e-12
    try:
        chosen = sorted({int(a) for a in answer})
    except ValueError:
        raise AnswerUnreadable from None
    if not chosen or any(not 0 <= c < len(exercise["choices"]) for c in chosen):
        raise AnswerUnreadable
    return chosen == exercise["answers"]


def answer_text(exercise: Exercise, answer: list[str]) -> str:
    """What to keep of an answer (``ExerciseProgress.last_answer``)."""
    if exercise["kind"] == "choice":
        return ",".join(sorted({a.strip() for a in answer}))
    return (answer[0] if answer else "")[: MAX_CODE_CHARS if exercise["kind"] == "code" else MAX_NUMBER_CHARS]


# --- what the learner reads ----------------------------------------------------------------------


@dataclass(frozen=True)
class Feedback:
    """The answer to one check. ``state``: "correct", "wrong", "invalid" (not judged, not a try) or
    "checking" (a code cell on its way through the sandbox). ``hints`` and ``solution_html`` hold
    only what the learner has earned."""

    state: str
    message: str
    tries: int
    solved: bool
    hints: list[str]
    solution_html: str | None = None

    @property
    def correct(self) -> bool:
        return self.state == "correct"

    @property
    def hint(self) -> str | None:
        """The newest hint (the one this wrong try earned)."""
        return self.hints[-1] if self.hints and self.state == "wrong" else None


def text_of(text: dict[str, str] | None) -> str:
    return bilingual(text["en"], text["zh"]) if text else ""


def earned_hints(exercise: Exercise, wrong_tries: int) -> list[str]:
    """The hints as HTML, one per wrong try so far."""
    return [render_markdown(text_of(hint)) for hint in exercise["hints"][:wrong_tries]]


def earned_solution(exercise: Exercise, *, solved: bool, wrong_tries: int) -> str | None:
    """The worked solution as HTML once solved or after ``solution_after`` wrong tries, else None."""
    if exercise["solution"] is None or not (solved or wrong_tries >= exercise["solution_after"]):
        return None
    return render_markdown(text_of(exercise["solution"]))
