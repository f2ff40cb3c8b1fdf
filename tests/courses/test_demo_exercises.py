"""The demo curriculum's exercises: where the seed topics have them, in both languages, and right:
each answer is computed here again from the lesson's own numbers."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
import torch

from courses.course_files import LessonData, path_read
from courses.exercises import answer_judge
from workers.author_jobs import run_author_job
from workers.harness import EXERCISE_CELL_FILE, EXERCISE_CHECK_FILE

DEMO = Path(__file__).resolve().parents[2] / "courses" / "demo" / "ai-foundations"


@pytest.fixture(scope="module")
def exercises() -> dict[str, dict]:
    _, courses = path_read(DEMO)
    lessons: list[LessonData] = [lesson for c in courses for m in c.modules for lesson in m.lessons]
    return {e["id"]: {**e, "lesson": lesson.slug} for lesson in lessons for e in lesson.exercises}


def test_the_seed_topics_have_exercises_of_every_kind(exercises: dict[str, dict]) -> None:
    lessons = {e["lesson"] for e in exercises.values()}
    assert {"mean-squared-error", "cross-entropy", "sigmoid-and-tanh", "gradient-descent"} <= lessons
    assert "backprop-worked-example" in lessons
    kinds = [e["kind"] for e in exercises.values()]
    assert kinds.count("number") >= 2 and "choice" in kinds and "code" in kinds
    for exercise in exercises.values():
        texts = [exercise["prompt"], exercise["solution"], *exercise["hints"], *exercise.get("choices", [])]
        assert all(t["en"] and t["zh"] for t in texts), exercise["id"]
        assert exercise["hints"], exercise["id"]


def mse(predictions: list[float], targets: list[float]) -> float:
    return float(
        torch.nn.functional.mse_loss(
            torch.tensor(predictions, dtype=torch.float64), torch.tensor(targets, dtype=torch.float64)
        )
    )


def backprop_w22() -> float:
    x = torch.tensor([1.0, 2.0])
    w = torch.tensor([[0.5, 0.25], [-0.3, 0.1]], requires_grad=True)
    b, v, c = torch.tensor([0.1, 0.3]), torch.tensor([1.0, -2.0]), 0.2
    loss = (v @ torch.relu(w @ x + b) + c - 2.0) ** 2
    loss.backward()
    return float(w.grad[1, 1])


def gradient_descent(w: float, rate: float, steps: int) -> float:
    for _ in range(steps):
        w -= rate * 2 * (w - 3)
    return w


def converges(rate: float) -> bool:
    w = 1.0
    for _ in range(2000):
        w -= rate * 10 * w
    return abs(w) < 1e-6


@pytest.mark.parametrize(
    ("exercise_id", "computed"),
    [
        ("mse-by-hand", lambda: mse([1, 1], [0, 3])),
        (
            "cross-entropy-uniform",
            lambda: float(torch.nn.functional.cross_entropy(torch.zeros(1, 4), torch.tensor([3]))),
        ),
        ("sigmoid-derivative", lambda: 0.9 * (1 - 0.9)),
        ("gd-two-steps", lambda: gradient_descent(0.0, 0.25, 2)),
        ("backprop-w22", backprop_w22),
    ],
)
def test_each_number_answer_is_what_the_lesson_computes(exercises: dict, exercise_id: str, computed: object) -> None:
    exercise = exercises[exercise_id]
    value = computed()
    assert value == pytest.approx(exercise["answer"], abs=exercise["tolerance"])
    assert answer_judge(exercise, [f"{value:.4f}"])
    assert not answer_judge(exercise, [f"{value + 10 * exercise['tolerance'] + 0.01:.4f}"])


def test_the_learning_rate_bound_is_where_convergence_stops(exercises: dict) -> None:
    bound = exercises["gd-largest-rate"]["answer"]
    assert converges(bound * 0.99) and not converges(bound) and not converges(bound * 1.01)


def test_each_choice_answer_is_the_right_one(exercises: dict) -> None:
    doubled = mse([2, 2], [0, 6]) / mse([1, 1], [0, 3])
    assert exercises["mse-doubled-errors"]["choices"][exercises["mse-doubled-errors"]["answers"][0]]["en"] == str(
        round(doubled)
    )
    tanh_choice = exercises["tanh-over-sigmoid"]["choices"][exercises["tanh-over-sigmoid"]["answers"][0]]["en"]
    z = torch.zeros(1, requires_grad=True)
    torch.tanh(z).backward()
    assert "zero-centred" in tanh_choice and float(z.grad) / 0.25 == 4
    y_hat = 1.0 * 1.1 + (-2.0) * 0 + 0.2  # the worked example's forward pass
    target_reached = exercises["backprop-target-reached"]
    assert math.isclose(y_hat, 1.3) and target_reached["choices"][target_reached["answers"][0]]["en"] == "All zero"


def run_cell(code: str, check: str) -> dict:
    files = {EXERCISE_CELL_FILE: code.encode(), EXERCISE_CHECK_FILE: check.encode()}
    return json.loads(run_author_job("exercise", files, timeout=10, result_max_bytes=16 * 1024))


def test_the_sigmoid_cell_passes_with_its_solution_and_not_with_its_starter(exercises: dict) -> None:
    exercise = exercises["sigmoid-in-code"]
    solution = re.search(r"```python\n(.*?)```", exercise["solution"]["en"], re.DOTALL).group(1)
    assert run_cell(solution, exercise["check"])["passed"] is True
    starter = run_cell(exercise["starter"], exercise["check"])
    assert starter["passed"] is False and starter["message"] == "sigmoid(0.0) gave 0.000000; expected 0.500000"
    with_math = "import math\ndef sigmoid(x):\n    return 1 / (1 + math.exp(-x))\n"
    result = run_cell(with_math, exercise["check"])  # math.exp takes no tensor of three numbers
    assert result["passed"] is False and result["error"]["where"] == "cell"
