"""A custom metric: the lab's score.py runs in the lab sandbox with the hidden labels and a run's
predictions, never with learner code; its failure is the lab author's, never the learner's."""

from __future__ import annotations

import numpy as np
import pytest

from labs.author_code import ScoringFailed, run_score
from labs.models import Lab, Run, RunState
from labs.run_events import run_score as run_events_score
from labs.services import submission_create
from tests.labs.conftest import VALID_CODE

AGREEMENT = """
import numpy as np

def score(y_true, y_pred, meta):
    return float(np.mean(y_true == np.rint(y_pred))) * meta.get("scale", 1)
"""


def test_score_py_runs_in_the_sandbox_with_labels_predictions_and_meta() -> None:
    y_true, y_pred = np.array([0, 1, 1, 0]), np.array([0.0, 1.0, 0.0, 0.2])
    assert run_score(AGREEMENT, y_true, y_pred, {"scale": 2}) == 1.5
    texts = "def score(y_true, y_pred, meta):\n    return sum(a == b for a, b in zip(y_true, y_pred)) / len(y_true)\n"
    assert run_score(texts, np.array(["12", "7"]), np.array(["12", "8"]), {}) == 0.5


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("def score(y_true, y_pred, meta):\n    return 1 / 0\n", "ZeroDivisionError"),
        ("def score(y_true, y_pred, meta):\n    return float('nan')\n", "expected a finite number"),
        ("def score(y_true, y_pred, meta):\n    return 'high'\n", "expected a number"),
        ("def other():\n    pass\n", "does not define score"),
        (
            "import urllib.request\ndef score(y_true, y_pred, meta):\n"
            "    return len(urllib.request.urlopen('http://127.0.0.1:8000', timeout=2).read())\n",
            "URLError",
        ),
    ],
)
def test_a_failing_score_py_is_the_authors_error_with_its_reason(code: str, reason: str) -> None:
    with pytest.raises(ScoringFailed, match=reason):
        run_score(code, np.array([0, 1]), np.array([0, 1]), {})


def test_a_score_py_that_never_ends_is_stopped() -> None:
    with pytest.raises(ScoringFailed, match="limit: time"):
        run_score(
            "def score(y_true, y_pred, meta):\n    while True:\n        pass\n",
            np.array([0]),
            np.array([0]),
            {},
            timeout=2,
        )


def scoring_run(lab: Lab, learner: object, predictions: list) -> Run:
    run = submission_create(learner=learner, lab=lab, source="web", code=VALID_CODE)
    Run.objects.filter(pk=run.pk).update(state=RunState.SCORING, predictions=predictions)
    return run


@pytest.mark.django_db
def test_a_custom_lab_scores_runs_and_a_broken_score_py_is_never_charged_to_the_learner(
    lab: Lab, django_user_model: object
) -> None:
    learner = django_user_model.objects.create_user("ming", password="x")
    Lab.objects.filter(pk=lab.pk).update(metric="custom", scoring_code=AGREEMENT, threshold=0.5)
    lab.refresh_from_db()
    run = scoring_run(lab, learner, [0, 1, 2, 0, 1, 2, 0, 1, 2, 2])  # 9 of the 10 hidden labels
    run_events_score(run_id=run.pk)
    run.refresh_from_db()
    assert (run.state, run.score, run.passed) == (RunState.SUCCEEDED, 0.9, True)

    Lab.objects.filter(pk=lab.pk).update(scoring_code="def score(y_true, y_pred, meta):\n    return y_true[99]\n")
    broken = scoring_run(lab, learner, [0] * 10)
    run_events_score(run_id=broken.pk)
    broken.refresh_from_db()
    lab.refresh_from_db()
    assert broken.state == RunState.FAILED and broken.score is None
    assert broken.reason == "platform: the lab's scoring program failed; its authors are told"  # not the learner's
    assert f"run {broken.pk}: " in lab.scoring_problem and "IndexError" in lab.scoring_problem
