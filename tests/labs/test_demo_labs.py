"""The four demo labs: definitions, datasets, metrics, reference solutions and starters.

Free of Django. Runs with the project's Django plugin or without it:
``python -m pytest tests/labs/test_demo_labs.py -p no:django --noconftest`` (the shared
``tests/conftest.py`` imports Django models, hence ``--noconftest``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.metrics import f1_score, r2_score

from labs.demo import DEMO_LAB_SLUGS, LABS_DIR, build_dataset, demo_lab, load_lab_definition, validate_definition
from labs.demo.local_run import main, make_data, resolve_params, run_solution
from labs.diagnosis import Reading, curve_from_history, diagnose
from labs.lab_spec import LabSplits
from labs.scoring import METRICS, WORST, passes, score

SPLITS = ("train", "val", "test")

EXPECTED = {  # slug: (metric, threshold, device_class, x shapes of train/val/test, num_classes)
    "linear-regression": ("r2", 0.95, "cpu", ((1000, 3), (200, 3), (300, 3)), None),
    "digits-mlp": ("accuracy", 0.95, "cpu", ((1079, 64), (359, 64), (359, 64)), 10),
    "digits-cnn": ("accuracy", 0.97, "gpu", ((1079, 1, 8, 8), (359, 1, 8, 8), (359, 1, 8, 8)), 10),
    "two-spirals": ("accuracy", 0.95, "cpu", ((1000, 2), (200, 2), (400, 2)), 2),
}
CLASSIC = tuple(EXPECTED)  # the first four: numeric data, an `epochs` parameter, val_* curves
NEW_LABS = {  # slug: (metric, threshold, device_class, [data] format)
    "loan-default": ("roc_auc", 0.9, "cpu", "csv"),
    "shapes": ("macro_f1", 0.9, "cpu", "images"),
    "transformer-addition": ("exact_match", 0.9, "gpu", "build"),
    "finetune-lora": ("accuracy", 0.9, "gpu", "jsonl"),
}
#: A reference solution must beat its threshold by at least this much.
MARGIN = 0.01
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread() -> Iterator[None]:
    # Tiny models: one thread is as fast and much steadier on a busy machine.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _arrays(dataset: LabSplits) -> dict[str, np.ndarray]:
    return {f"{axis}_{split}": getattr(dataset, f"{axis}_{split}") for split in SPLITS for axis in "xy"}


def _rows(x: np.ndarray) -> set[bytes]:
    return {row.tobytes() for row in x.reshape(len(x), -1)}


# --- definitions --------------------------------------------------------------


def test_slugs_match_folders() -> None:
    folders = {p.name for p in LABS_DIR.iterdir() if (p / "lab.toml").is_file()}
    assert folders == set(DEMO_LAB_SLUGS) == set(EXPECTED) | set(NEW_LABS)
    assert (LABS_DIR / "__init__.py").is_file()


@pytest.mark.parametrize("slug", DEMO_LAB_SLUGS)
def test_definition_is_complete(slug: str) -> None:
    definition = load_lab_definition(slug)
    metric, threshold, device_class = (EXPECTED.get(slug) or NEW_LABS[slug])[:3]
    assert validate_definition(definition) == []
    assert definition["slug"] == slug
    assert (definition["metric"], definition["threshold"]) == (metric, threshold)
    assert definition["device_class"] == device_class
    assert definition["higher_is_better"] is METRICS[metric].higher_is_better
    assert definition["submissions_per_day"] > 0
    for key in ("solution_code", "starter_code"):
        compile(definition[key], f"{slug}/{key}", "exec")
        assert "def train(data, run)" in definition[key]
        assert "def predict(model, x)" in definition[key]
    assert "TODO" in definition["starter_code"]
    assert "TODO" not in definition["solution_code"]


@pytest.mark.parametrize("slug", DEMO_LAB_SLUGS)
def test_descriptions_are_bilingual_and_consistent(slug: str) -> None:
    definition = load_lab_definition(slug)
    assert CJK.search(definition["title_zh"])
    assert CJK.search(definition["description_zh"])
    assert not CJK.search(definition["title_en"] + definition["description_en"])
    for lang in ("en", "zh"):
        text = definition[f"description_{lang}"]
        assert len(text) > 800
        assert f"≥ {definition['threshold']}" in text  # the pass mark is stated
        for name, spec in definition["params"].items():  # every hyper-parameter documented
            assert f"| `{name}` | {spec['default']} |" in text


@pytest.mark.parametrize("slug", DEMO_LAB_SLUGS)
def test_solutions_read_every_declared_param(slug: str) -> None:
    definition = load_lab_definition(slug)
    for name, spec in definition["params"].items():
        call = f'run.params.get("{name}", {spec["default"]})'
        assert call in definition["solution_code"], call
        assert call in definition["starter_code"], call


def test_resolve_params_applies_and_checks_overrides() -> None:
    definition = load_lab_definition("digits-mlp")
    params = resolve_params(definition, {"hidden": 32, "lr": 0.01})
    assert params["hidden"] == 32
    assert isinstance(params["hidden"], int)
    assert params["lr"] == 0.01
    assert params["epochs"] == 20
    for bad, problem in [
        ({"nope": 1}, "unknown param"),
        ({"hidden": 100_000}, "outside"),
        ({"hidden": 2.5}, "integer"),
    ]:
        with pytest.raises(ValueError, match=problem):
            resolve_params(definition, bad)


def test_unknown_slug_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown demo lab"):
        load_lab_definition("no-such-lab")
    with pytest.raises(ValueError, match="unknown demo lab"):
        build_dataset("no-such-lab")


# --- datasets -----------------------------------------------------------------


@pytest.mark.parametrize("slug", DEMO_LAB_SLUGS)
def test_dataset_is_deterministic(slug: str) -> None:
    first, second = build_dataset(slug), build_dataset(slug)
    for name, array in _arrays(first).items():
        np.testing.assert_array_equal(array, getattr(second, name), err_msg=name)
    assert first.meta == second.meta
    assert first.num_classes == second.num_classes


@pytest.mark.parametrize("slug", CLASSIC)
def test_dataset_shapes_and_dtypes(slug: str) -> None:
    dataset = build_dataset(slug)
    _, _, _, x_shapes, num_classes = EXPECTED[slug]
    assert dataset.num_classes == num_classes
    for split, x_shape in zip(SPLITS, x_shapes, strict=True):
        x, y = getattr(dataset, f"x_{split}"), getattr(dataset, f"y_{split}")
        assert x.shape == x_shape
        assert x.dtype == np.float32
        assert y.shape == (x_shape[0],)
        assert np.isfinite(x).all()
        if num_classes is None:
            assert y.dtype == np.float32
        else:
            assert y.dtype == np.int64
            assert set(np.unique(y)) == set(range(num_classes))  # every class in every split


@pytest.mark.parametrize("slug", CLASSIC)
def test_test_labels_do_not_leak(slug: str) -> None:
    dataset = build_dataset(slug)
    x_test = dataset.x_test.reshape(len(dataset.x_test), -1)
    y_test = dataset.y_test.astype(np.float64)
    for column in x_test.T:  # no feature is (a rescaling of) the label
        if column.std() > 0:
            assert abs(np.corrcoef(column, y_test)[0, 1]) < 0.99
    if slug != "linear-regression":  # (its whole point is a strong linear signal)
        assert not np.any(np.all(x_test == y_test[:, None], axis=0))
    # What a submission receives has nothing of the test split in it.
    data = make_data(dataset)
    assert not any("test" in name for name in vars(data))
    assert not any(isinstance(value, np.ndarray | torch.Tensor) for value in data.meta.values())


@pytest.mark.parametrize("slug", ["linear-regression", "two-spirals"])
def test_generated_splits_are_disjoint(slug: str) -> None:
    dataset = build_dataset(slug)
    train, val, test = (_rows(getattr(dataset, f"x_{split}")) for split in SPLITS)
    assert not (train & test)
    assert not (val & test)
    assert not (train & val)


@pytest.mark.parametrize("slug", ["digits-mlp", "digits-cnn"])
def test_digits_splits_partition_the_dataset(slug: str) -> None:
    dataset = build_dataset(slug)
    x_all, y_all = load_digits(return_X_y=True)
    x_split = np.concatenate([getattr(dataset, f"x_{s}").reshape(-1, 64) for s in SPLITS])
    y_split = np.concatenate([getattr(dataset, f"y_{s}") for s in SPLITS])
    # All 1,797 images are distinct, so equal sorted rows mean a partition.
    assert len(_rows(x_all)) == len(x_all)
    expected = np.column_stack([x_all / 16.0, y_all])
    actual = np.column_stack([x_split.astype(np.float64), y_split])
    np.testing.assert_allclose(np.unique(actual, axis=0), np.unique(expected, axis=0), atol=1e-7)
    assert x_split.min() == 0.0
    assert x_split.max() == 1.0
    # Stratified: every class is split 60/20/20 to within one image.
    for label in range(10):
        total = np.sum(y_all == label)
        for split, fraction in zip(SPLITS, (0.6, 0.2, 0.2), strict=True):
            count = np.sum(getattr(dataset, f"y_{split}") == label)
            assert abs(count - fraction * total) <= 1


def test_digits_labs_share_the_same_split() -> None:
    mlp, cnn = build_dataset("digits-mlp"), build_dataset("digits-cnn")
    for split in SPLITS:
        x_mlp, x_cnn = getattr(mlp, f"x_{split}"), getattr(cnn, f"x_{split}")
        np.testing.assert_array_equal(x_cnn.reshape(len(x_cnn), -1), x_mlp)
        np.testing.assert_array_equal(getattr(cnn, f"y_{split}"), getattr(mlp, f"y_{split}"))


def test_spirals_are_balanced_and_bounded() -> None:
    dataset = build_dataset("two-spirals")
    for split in SPLITS:
        y = getattr(dataset, f"y_{split}")
        assert np.mean(y) == 0.5  # stratified: exactly half of each split per arm
    assert np.abs(dataset.x_train).max() < 1.2


# --- metrics ------------------------------------------------------------------


def test_regression_metrics_by_hand() -> None:
    y_true = np.array([1.0, 2.0, 3.0, 4.0])
    y_pred = np.array([1.0, 2.0, 3.0, 5.0])
    # residuals: 0 0 0 1 -> SS_res = 1, MSE = 1/4; mean 2.5 -> SS_tot = 2.25 + 0.25 + 0.25 + 2.25 = 5
    assert score("mse", y_true, y_pred) == pytest.approx(0.25)
    assert score("r2", y_true, y_pred) == pytest.approx(0.8)
    assert score("r2", y_true, y_true) == 1.0
    assert score("r2", y_true, np.full(4, 2.5)) == pytest.approx(0.0)
    assert score("r2", np.full(3, 7.0), np.full(3, 7.0)) == 1.0  # constant target
    assert score("r2", np.full(3, 7.0), np.full(3, 6.0)) == 0.0


def test_classification_metrics_by_hand() -> None:
    y_true = np.array([0, 0, 1, 1, 2, 2])
    y_pred = np.array([0, 1, 1, 1, 2, 0])
    assert score("accuracy", y_true, y_pred) == pytest.approx(4 / 6)
    # F1 = 2tp / (2tp + fp + fn): class 0 -> 2/4, class 1 -> 4/5, class 2 -> 2/3
    assert score("macro_f1", y_true, y_pred) == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)
    # Float predictions are rounded to the nearest class id.
    assert score("accuracy", y_true, y_pred + np.array([0.3, -0.4, 0.2, 0.49, -0.2, 0.1])) == pytest.approx(4 / 6)
    assert score("accuracy", np.array([0, 1]), np.array([False, True])) == 1.0


def test_metrics_agree_with_scikit_learn() -> None:
    rng = np.random.default_rng(7)
    y_true = rng.integers(0, 5, 200)
    y_pred = np.where(rng.random(200) < 0.7, y_true, rng.integers(0, 5, 200))
    assert score("macro_f1", y_true, y_pred) == pytest.approx(f1_score(y_true, y_pred, average="macro"))
    t, p = rng.normal(size=100), rng.normal(size=100)
    assert score("r2", t, p) == pytest.approx(r2_score(t, p))


def test_metrics_accept_tensors_and_column_vectors() -> None:
    y_true = torch.tensor([0, 1, 1])
    assert score("accuracy", y_true, torch.tensor([[0], [1], [0]])) == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    "y_pred",
    [
        [np.nan, 1.0, 2.0],
        [0.0, np.inf, 2.0],
        [-np.inf, 1.0, 2.0],
        [np.nan, np.nan, np.nan],
        [1e300, 1.0, 2.0],
        [-1e308, 1e308, np.inf],
    ],
)
# One number per row, three classes (tests/labs/test_metrics.py covers the others with their shapes).
@pytest.mark.parametrize(
    "metric", sorted(m for m, info in METRICS.items() if info.prediction in ("label", "value") and m != "roc_auc")
)
def test_metrics_survive_non_finite_predictions(metric: str, y_pred: list[float]) -> None:
    y_true = np.array([0.0, 1.0, 2.0])
    value = score(metric, y_true, np.array(y_pred))
    info = METRICS[metric]
    assert np.isfinite(value)
    # At least one prediction is wrong, so the best value is out of reach.
    assert value < info.best if info.higher_is_better else value > info.best
    if metric == "accuracy":
        assert value == pytest.approx(np.mean(np.isfinite(y_pred) & (np.array(y_pred) == y_true)))


def test_non_finite_predictions_score_as_wrong() -> None:
    y_true = np.arange(10, dtype=np.float64)
    assert score("r2", y_true, np.full(10, np.nan)) <= -3.0  # worse than predicting the mean
    assert score("r2", y_true, np.full(10, 1e300)) == -WORST
    assert score("mse", y_true, np.full(10, np.inf)) == pytest.approx(81.0)  # span² each
    assert score("macro_f1", y_true.astype(int), np.full(10, np.nan)) == 0.0


@pytest.mark.parametrize(
    ("metric", "y_true", "y_pred", "problem"),
    [
        ("accuracy", [0, 1, 2], [0, 1], "expected 3 predictions"),
        ("accuracy", [0, 1], np.zeros((2, 3)), "1-D"),  # logits instead of classes
        ("accuracy", [], [], "empty"),
        ("f2", [0], [0], "unknown metric"),
        ("accuracy", [0, 1], ["a", "b"], "numeric"),
    ],
)
def test_malformed_predictions_raise_value_error(metric: str, y_true: list, y_pred: object, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        score(metric, y_true, y_pred)


def test_passes_follows_the_direction() -> None:
    assert passes(0.95, 0.95, True)
    assert not passes(0.949, 0.95, True)
    assert passes(0.1, 0.2, False)
    assert not passes(0.3, 0.2, False)


# --- reference solutions and starters -----------------------------------------


def coach_findings(log: list[dict], score: float, passed: bool, definition: dict) -> list[str]:
    """What labs.diagnosis reads in a local run's curve and score."""
    reading = Reading(
        curve=curve_from_history(log),
        score=score,
        passed=passed,
        threshold=definition["threshold"],
        higher_is_better=definition["higher_is_better"],
        wall_seconds=definition["limits"]["wall_seconds"],
    )
    return [finding.code for finding in diagnose(reading)]


@pytest.mark.parametrize("slug", CLASSIC)
def test_reference_solution_passes(slug: str) -> None:
    definition = load_lab_definition(slug)
    value, passed, log = run_solution(slug, definition["solution_code"])
    assert passed, f"{slug}: {definition['metric']} {value:.4f} < {definition['threshold']}"
    assert value >= definition["threshold"] + MARGIN
    assert coach_findings(log, value, passed, definition) == []  # the coach finds nothing wrong in a reference
    val_key = "val_r2" if definition["metric"] == "r2" else "val_accuracy"
    assert [entry["step"] for entry in log] == list(range(1, definition["params"]["epochs"]["default"] + 1))
    assert all({"loss", val_key} <= entry.keys() for entry in log)
    assert log[-1]["loss"] < log[0]["loss"]


@pytest.mark.parametrize("slug", NEW_LABS)
def test_the_new_labs_load_from_their_format_and_their_reference_passes_here(slug: str) -> None:
    lab = demo_lab(slug)
    metric, threshold, _, data_format = NEW_LABS[slug]
    assert lab.definition["data"]["format"] == data_format
    value, passed, log = run_solution(slug, lab.solution_code)
    assert passed and value >= threshold + MARGIN, f"{slug}: {metric} {value:.4f}"
    assert coach_findings(log, value, passed, lab.definition) == []
    assert log and all("loss" in entry for entry in log)


@pytest.mark.parametrize("slug", DEMO_LAB_SLUGS)
def test_starter_runs_but_does_not_pass(slug: str) -> None:
    definition = load_lab_definition(slug)
    value, passed, log = run_solution(slug, definition["starter_code"])
    assert not passed
    assert np.isfinite(value)
    assert value < definition["threshold"] - 0.05
    assert log
    assert all("loss" in entry for entry in log)


LOGISTIC_REGRESSION = """
import torch
from torch import nn


def train(data, run):
    model = nn.Linear(data.x_train.shape[1], 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    y = data.y_train.float()
    for step in range(300):
        optimizer.zero_grad()
        loss = nn.functional.binary_cross_entropy_with_logits(model(data.x_train).squeeze(1), y)
        loss.backward()
        optimizer.step()
    run.log(step, loss=loss.item())
    return model


def predict(model, x):
    with torch.no_grad():
        return (model(x).squeeze(1) > 0).long()
"""


def test_a_linear_model_fails_two_spirals() -> None:
    value, passed, log = run_solution("two-spirals", LOGISTIC_REGRESSION)
    assert not passed
    assert value < 0.8
    assert log[-1]["loss"] > 0.5  # it has converged to a bad line, not been cut short


# --- the harness --------------------------------------------------------------

PROBE = """
import torch


def train(data, run):
    assert data.x_val is not None and data.num_classes == 2
    assert not hasattr(data, "x_test") and not hasattr(data, "y_test")
    assert data.x_train.dtype == torch.float32 and data.y_train.dtype == torch.int64
    assert 0 < run.time_left() <= 120
    run.log(0, hidden=run.params["hidden"], draw=torch.rand(()).item(), device=run.device)
    return run.seed


def predict(model, x):
    assert x.shape == (400, 2)
    return torch.zeros(len(x), dtype=torch.long)
"""


def test_harness_builds_the_contract_objects() -> None:
    value, passed, log = run_solution("two-spirals", PROBE, params={"hidden": 7}, seed=3)
    assert value == pytest.approx(0.5)
    assert not passed
    assert log[0]["hidden"] == 7.0
    assert log[0]["device"] == "cpu"
    # The seed is applied before train(): same seed, same random draws.
    again = run_solution("two-spirals", PROBE, params={"hidden": 7}, seed=3)[2]
    other = run_solution("two-spirals", PROBE, params={"hidden": 7}, seed=4)[2]
    assert again[0]["draw"] == log[0]["draw"] != other[0]["draw"]


def test_harness_accepts_any_prediction_container() -> None:
    base = "def train(data, run):\n    return None\n\ndef predict(model, x):\n    import torch\n"
    for expression in ("torch.ones(len(x), dtype=torch.bfloat16)", "[1] * len(x)", "torch.ones(len(x), 1).numpy()"):
        value, _, _ = run_solution("two-spirals", f"{base}    return {expression}\n")
        assert value == pytest.approx(0.5), expression


def test_harness_rejects_incomplete_submissions() -> None:
    with pytest.raises(ValueError, match="predict"):
        run_solution("two-spirals", "def train(data, run):\n    return None\n")
    with pytest.raises(ValueError, match="device"):
        run_solution("two-spirals", PROBE, device="tpu")


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    submission = tmp_path / "mine.py"
    submission.write_text(load_lab_definition("linear-regression")["solution_code"], encoding="utf-8")
    assert main(["linear-regression", str(submission), "--quiet", "--param", "epochs=5"]) == 0
    assert "PASSED" in capsys.readouterr().out
    assert main(["linear-regression", "--starter", "--device", "cpu"]) == 1
    out = capsys.readouterr().out
    assert "step   20" in out
    assert "not passed" in out
