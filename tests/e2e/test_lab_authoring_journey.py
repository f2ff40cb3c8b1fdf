"""An administrator uploads a lab folder as a .zip in a real browser: a broken one first (every problem
listed under its file), then a valid one, which becomes a draft with a preview of its images; they queue
its reference run and the page follows it. Desktop, phone and Chinese screenshots land in test-results/."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from core.models import Role
from labs.lab_archive import lab_zip_pack
from labs.models import Lab
from tests.e2e.conftest import RESULTS, login
from tests.factories import PASSWORD, UserFactory
from tests.labs.test_lab_folder import make_lab

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

IMAGE_DATA = 'format = "npz"\n\n[data.meta]\nclasses = ["vertical", "horizontal", "diagonal"]'


def strokes(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n noisy 8×8 images of three strokes (a vertical, a horizontal, a diagonal line), N×1×8×8 in [0, 1]."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    x = rng.random((n, 1, 8, 8)).astype(np.float32) * 0.3
    for i, label in enumerate(y):
        at = rng.integers(2, 6)
        if label == 0:
            x[i, 0, :, at] = 1
        elif label == 1:
            x[i, 0, at, :] = 1
        else:
            x[i, 0, np.arange(8), np.arange(8)] = 1
    return x, y


def lab_zip(folder: Path, target: Path) -> Path:
    with target.open("wb") as sink:
        lab_zip_pack(folder, sink)
    return target


def npz(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def no_overflow(page: Page) -> None:
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the screen"


def test_admin_uploads_a_broken_then_a_valid_lab_and_sees_its_draft(
    page: Page, tmp_path: Path, settings: object
) -> None:
    settings.DATASET_STORAGE_DIR = tmp_path / "datasets"
    admin = UserFactory(role=Role.ADMIN)
    (x_train, y_train), (x_test, y_test) = strokes(60, 0), strokes(15, 1)
    valid = make_lab(
        tmp_path / "valid",
        slug="strokes",
        data=IMAGE_DATA,
        files={
            "data/train.csv": None,
            "data/test.csv": None,
            "data/data.npz": npz(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test),
        },
    )
    broken = make_lab(
        tmp_path / "broken",
        slug="strokes",
        threshold=2,
        files={"solution.py": None, "data/test.csv": "petal_length,petal_width,species\n1.0,oops,setosa\n"},
    )

    login(page, admin.username, PASSWORD)
    page.goto("/labs/")
    page.get_by_test_id("authoring-link").click()
    expect(page.get_by_test_id("authoring-title")).to_be_visible()

    page.locator("#id_archive").set_input_files(str(lab_zip(broken, tmp_path / "broken.zip")))
    page.get_by_test_id("upload-button").click()
    problems = page.get_by_test_id("upload-problems")
    expect(problems).to_be_visible()
    files = page.get_by_test_id("problems-of")
    expect(files).to_have_count(3)
    expect(files.filter(has_text="lab.toml")).to_contain_text("threshold 2 out of range")
    expect(files.filter(has_text="solution.py")).to_contain_text("missing")
    expect(files.filter(has_text="data/test.csv")).to_contain_text("is not a number")
    assert not Lab.objects.exists()
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / "lab-authoring-problems.png"), full_page=True)
    page.set_viewport_size({"width": 375, "height": 740})
    no_overflow(page)
    page.screenshot(path=str(RESULTS / "lab-authoring-phone-problems.png"), full_page=True)
    page.set_viewport_size({"width": 1200, "height": 800})

    page.locator("#id_archive").set_input_files(str(lab_zip(valid, tmp_path / "valid.zip")))
    page.get_by_test_id("upload-button").click()
    expect(page.locator(".messages")).to_contain_text("strokes imported as a draft, dataset v1")
    expect(page.get_by_test_id("lab-state")).to_have_attribute("data-state", "draft")
    expect(page.get_by_test_id("preview-images").locator("img")).to_have_count(12)
    expect(page.get_by_test_id("preview-x_train")).to_contain_text("(48, 1, 8, 8)")
    page.screenshot(path=str(RESULTS / "lab-authoring-draft.png"), full_page=True)

    page.get_by_test_id("reference-button").click()  # no lab worker here: the run waits, and the page follows it
    expect(page.get_by_test_id("reference-state")).to_have_attribute("data-state", "queued")
    expect(page.get_by_test_id("reference-live")).to_be_visible()
    with page.expect_response(lambda response: "progress.json" in response.url) as polled:
        pass  # the page polls its run (a script or CSP error would fail the journey)
    assert polled.value.ok and polled.value.json()["state"] == "queued"

    page.get_by_test_id("open-lab-page").click()
    expect(page.get_by_test_id("draft-banner")).to_be_visible()
    expect(page.get_by_test_id("preview-classes")).to_contain_text("vertical, horizontal, diagonal")
    page.screenshot(path=str(RESULTS / "lab-authoring-lab-page.png"), full_page=True)

    page.get_by_test_id("lang-zh-hans").click()
    page.set_viewport_size({"width": 375, "height": 740})
    for url, name in (("/labs/authoring/", "list"), ("/labs/authoring/strokes/", "draft"), ("/labs/strokes/", "lab")):
        page.goto(url)
        no_overflow(page)
        page.screenshot(path=str(RESULTS / f"lab-authoring-phone-zh-{name}.png"), full_page=True)
