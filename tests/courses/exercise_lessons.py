"""A lesson with one exercise of each kind, as an author writes it, for the exercise tests."""

from __future__ import annotations

from courses.exercises import exercises_read
from courses.models import Lesson
from tests.factories import LessonFactory

NUMBER = """```exercise
id: mse-by-hand
kind: number
prompt: {en: "Predictions $[1, 1]$ for targets $[0, 3]$: the MSE?", zh: "目标 $[0, 3]$，预测 $[1, 1]$：MSE？"}
answer: 2.5
tolerance: 0.01
hints:
  - {en: "Square each error first.", zh: "先把每个误差平方。"}
  - {en: "Then divide by N = 2.", zh: "再除以 N = 2。"}
solution: {en: "SOLVED-TEXT (1 + 4) / 2 = 2.5", zh: "解答文字 (1 + 4) / 2 = 2.5"}
solution_after: 3
```"""

CHOICE = """```exercise
id: tanh-or-sigmoid
kind: choice
prompt: {en: "Which is zero-centred?", zh: "哪个以零为中心？"}
choices: [{en: sigmoid, zh: sigmoid}, {en: tanh, zh: tanh}]
answer: 1
solution: {en: "CHOICE-SOLUTION tanh", zh: "选择题解答 tanh"}
```"""

CODE = """```exercise
id: double-it
kind: code
prompt: {en: "Write `double(x)`.", zh: "写出 `double(x)`。"}
starter: |
  def double(x):
      return x
check: |
  assert double(2) == 4, "double(2) should be 4"
solution: {en: "CODE-SOLUTION return 2 * x", zh: "代码解答 return 2 * x"}
```"""

BODY_EN = f"Before the exercise.\n\n{NUMBER}\n\nBetween.\n\n{CHOICE}\n\n{CODE}\n\nAfter the exercises.\n"
BODY_ZH = (
    "练习之前。\n\n```exercise\nid: mse-by-hand\n```\n\n中间。\n\n"
    "```exercise\nid: tanh-or-sigmoid\n```\n\n```exercise\nid: double-it\n```\n\n练习之后。\n"
)


def exercise_lesson(**fields: object) -> Lesson:
    """A saved lesson holding the three exercises, parsed as an import parses them."""
    body_en, body_zh = fields.pop("body_en", BODY_EN), fields.pop("body_zh", BODY_ZH)
    exercises, problems = exercises_read(body_en, body_zh)
    assert not problems, problems
    return LessonFactory(body_en=body_en, body_zh=body_zh, exercises=exercises, **fields)
