"""Which labs are fit for ranking: ``[data] hidden`` of a lab folder sets ``Lab.hidden_data`` at import;
a secret-seeded build draws its hidden test rows with a seed only the platform holds (kept with the lab,
in the database), while the training and validation rows stay those anyone rebuilds from the folder."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from core.models import User
from labs.datasets import dataset_open, dataset_test_labels
from labs.demo import lab_dir
from labs.demo_seed import demo_lab_seed
from labs.lab_folder import LabFolderInvalid, read_lab_folder
from labs.models import Dataset, Lab
from tests.labs.test_lab_folder import make_lab

SECRET_BUILD = """
import numpy as np


def build(hidden_seed=None):
    public = np.random.default_rng(7)
    x = public.normal(size=(60, 2)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    hidden = np.random.default_rng(8 if hidden_seed is None else [7, hidden_seed])
    x_test = hidden.normal(size=(20, 2)).astype(np.float32)
    return {
        "x_train": x[:40], "y_train": y[:40], "x_val": x[40:], "y_val": y[40:],
        "x_test": x_test, "y_test": (x_test[:, 0] > 0).astype(np.int64),
    }
"""
NO_CSV = {"data/train.csv": None, "data/test.csv": None}


def build_lab(root: Path, build_py: str = SECRET_BUILD, hidden: str = "secret-seed") -> Path:
    return make_lab(root, data=f'format = "build"\nhidden = "{hidden}"', files={**NO_CSV, "build.py": build_py})


def problems_of(folder: Path, seed: int = 5) -> list[str]:
    with pytest.raises(LabFolderInvalid) as raised:
        read_lab_folder(folder, hidden_seed=lambda slug: seed)
    return [str(problem) for problem in raised.value.problems]


def rows(x: np.ndarray) -> set[bytes]:
    return {row.tobytes() for row in x.reshape(len(x), -1)}


# --- the build with the secret seed ---------------------------------------------------------------


def test_two_spirals_hidden_rows_come_from_the_secret_and_no_file_of_its_folder_holds_them() -> None:
    folder = lab_dir("two-spirals")
    stand_in = read_lab_folder(folder).data  # what anyone builds from the folder
    secret = read_lab_folder(folder, hidden_seed=lambda slug: 1234).data
    again = read_lab_folder(folder, hidden_seed=lambda slug: 1234).data
    other = read_lab_folder(folder, hidden_seed=lambda slug: 1235).data

    for split in ("x_train", "y_train", "x_val", "y_val"):  # reproducible from the folder, secret or not
        assert np.array_equal(getattr(secret, split), getattr(stand_in, split))
    assert secret.meta == stand_in.meta
    assert np.array_equal(secret.x_test, again.x_test) and np.array_equal(secret.y_test, again.y_test)
    assert not np.array_equal(secret.x_test, other.x_test)
    assert secret.x_test.shape == stand_in.x_test.shape == (400, 2)
    assert np.bincount(secret.y_test).tolist() == [200, 200]  # as balanced as the stand-in rows

    hidden = rows(secret.x_test)
    assert not hidden & (rows(stand_in.x_train) | rows(stand_in.x_val) | rows(stand_in.x_test))
    blobs = [path.read_bytes() for path in folder.rglob("*") if path.is_file()]
    assert blobs and not any(secret.x_test.tobytes() in blob or secret.x_test[0].tobytes() in blob for blob in blobs)


def test_a_secret_seeded_folder_asks_for_its_seed_by_slug_and_only_then(tmp_path: Path) -> None:
    asked: list[str] = []
    seeded = read_lab_folder(build_lab(tmp_path / "a"), hidden_seed=lambda slug: asked.append(slug) or 99)
    assert asked == ["irises"] and seeded.hidden_seed == 99 and seeded.fit_for_ranking
    stand_in = read_lab_folder(build_lab(tmp_path / "b"))
    assert stand_in.hidden_seed is None and not stand_in.fit_for_ranking  # stand-in rows: public
    public = read_lab_folder(build_lab(tmp_path / "c", hidden="public"), hidden_seed=lambda slug: asked.append(slug))
    assert asked == ["irises"] and public.hidden_seed is None and not public.fit_for_ranking
    private = read_lab_folder(make_lab(tmp_path / "d", data='format = "csv"\nlabel = "species"\nhidden = "private"'))
    assert private.fit_for_ranking  # the author's own rows, kept by the platform


def test_a_secret_seed_that_hides_nothing_is_a_problem_of_build_py(tmp_path: Path) -> None:
    same_rows = [
        'build.py: with [data] hidden = "secret-seed", build(hidden_seed=…) must draw other test rows '
        "than build(hidden_seed=None)"
    ]
    ignores_the_seed = SECRET_BUILD.replace("8 if hidden_seed is None else [7, hidden_seed]", "8")
    assert problems_of(build_lab(tmp_path / "a", ignores_the_seed)) == same_rows
    shuffles_only = SECRET_BUILD.replace(
        '"x_test": x_test, "y_test": (x_test[:, 0] > 0).astype(np.int64),',
        '"x_test": x_test[order], "y_test": (x_test[order, 0] > 0).astype(np.int64),',
    ).replace(
        "x_test = hidden.normal(size=(20, 2)).astype(np.float32)",
        "x_test = np.random.default_rng(8).normal(size=(20, 2)).astype(np.float32)\n    order = hidden.permutation(20)",
    )
    assert problems_of(build_lab(tmp_path / "b", shuffles_only)) == same_rows  # the same rows, in another order
    moves_train = SECRET_BUILD.replace(
        "public = np.random.default_rng(7)", "public = np.random.default_rng(hidden_seed)"
    )
    assert problems_of(build_lab(tmp_path / "c", moves_train)) == [
        f'build.py: with [data] hidden = "secret-seed", {key} must not depend on hidden_seed (the folder reproduces it)'
        for key in ("x_train", "y_train", "x_val", "y_val")
    ]
    no_parameter = SECRET_BUILD.replace("def build(hidden_seed=None):", "def build():").replace("hidden_seed", "None")
    (problem,) = problems_of(build_lab(tmp_path / "d", no_parameter))
    assert problem.startswith("build.py: build() failed") and "build() takes no hidden_seed" in problem


def test_hidden_must_be_a_known_kind_and_secret_seed_needs_a_build(tmp_path: Path) -> None:
    assert "lab.toml: data.hidden 'secret': one of public, secret-seed, private" in problems_of(
        build_lab(tmp_path / "a", hidden="secret")
    )
    csv = make_lab(tmp_path / "b", data='format = "csv"\nlabel = "species"\nhidden = "secret-seed"')
    assert problems_of(csv) == [
        'lab.toml: data.hidden = "secret-seed" needs format = "build": build(hidden_seed=…) draws the test rows'
    ]


# --- import ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_import_sets_hidden_data_and_keeps_the_secret_seed_with_the_lab(tmp_path: Path, settings: object) -> None:
    settings.DATASET_STORAGE_DIR = tmp_path / "store"
    folder = build_lab(tmp_path)
    out = io.StringIO()
    call_command("import_lab", str(folder), stdout=out)
    lab = Lab.objects.get(slug="irises")
    assert lab.hidden_data == Lab.HiddenData.SECRET and lab.fit_for_ranking and lab.hidden_seed is not None
    assert "irises: fit for ranking ([data] hidden)" in out.getvalue()
    expected = read_lab_folder(folder, hidden_seed=lambda slug: lab.hidden_seed).data
    assert dataset_test_labels(lab.dataset).tolist() == expected.y_test.tolist()
    assert not np.array_equal(expected.x_test, read_lab_folder(folder).data.x_test)

    call_command("import_lab", str(folder), stdout=io.StringIO())  # the same seed: the same data
    assert Lab.objects.get().hidden_seed == lab.hidden_seed and Dataset.objects.count() == 1

    (folder / "lab.toml").write_text((folder / "lab.toml").read_text().replace("secret-seed", "public"))
    out = io.StringIO()
    call_command("import_lab", str(folder), stdout=out)
    lab.refresh_from_db()
    assert lab.hidden_data == Lab.HiddenData.PUBLIC and not lab.fit_for_ranking
    assert "irises: practice on public data ([data] hidden)" in out.getvalue()
    assert Dataset.objects.count() == 2  # the stand-in test rows are other data


@pytest.mark.django_db
def test_the_demo_two_spirals_is_fit_for_ranking_and_its_worker_file_holds_no_test_labels(
    tmp_path: Path, settings: object
) -> None:
    settings.DATASET_STORAGE_DIR = tmp_path
    lab = demo_lab_seed("two-spirals")
    assert lab.fit_for_ranking and lab.hidden_seed is not None
    assert demo_lab_seed("two-spirals").dataset_id == lab.dataset_id  # seeded again: the same hidden rows
    assert not demo_lab_seed("digits-cnn").fit_for_ranking  # scikit-learn's digits: public
    with dataset_open(lab.dataset) as handle, np.load(handle, allow_pickle=False) as public:
        assert "y_test" not in public.files  # what workers download: x_test for predict, never its labels
        stand_in = read_lab_folder(lab_dir("two-spirals")).data
        assert not rows(public["x_test"]) & rows(stand_in.x_test)


# --- where it shows ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_lab_page_and_the_api_say_whether_a_lab_is_fit_for_ranking(
    client: Client, api: APIClient, learner: User, lab: Lab
) -> None:
    client.force_login(learner)
    page = client.get("/labs/tiny/").content.decode()
    assert "Practice on public data: the hidden test rows can be found outside this platform" in page
    assert "Fit for ranking" not in page
    assert api.get("/api/v1/labs/tiny/").json()["fit_for_ranking"] is False

    Lab.objects.filter(pk=lab.pk).update(hidden_data=Lab.HiddenData.SECRET, hidden_seed=42)
    page = client.get("/labs/tiny/").content.decode()
    assert "Fit for ranking: the hidden test rows exist only on this platform." in page
    assert "Practice on public data" not in page
    detail = api.get("/api/v1/labs/tiny/").json()
    assert detail["fit_for_ranking"] is True and "hidden_seed" not in detail and "42" not in str(detail.values())
    assert api.get("/api/v1/labs/").json()["results"][0]["fit_for_ranking"] is True


@pytest.mark.django_db
def test_the_admin_lists_and_filters_labs_by_hidden_data_and_never_shows_the_seed(client: Client, lab: Lab) -> None:
    Lab.objects.create(slug="open", title_en="Open", description_en="d", starter_code="x", threshold=0.5)
    Lab.objects.filter(pk=lab.pk).update(hidden_data=Lab.HiddenData.SECRET, hidden_seed=987654321)
    client.force_login(User.objects.create_superuser("root", "root@example.com", "x"))
    secret = client.get("/admin/labs/lab/", {"hidden_data__exact": "secret"}).content.decode()
    assert f"/admin/labs/lab/{lab.pk}/change/" in secret and ">open<" not in secret
    public = client.get("/admin/labs/lab/", {"hidden_data__exact": "public"}).content.decode()
    assert ">open<" in public and f"/admin/labs/lab/{lab.pk}/change/" not in public
    change = client.get(f"/admin/labs/lab/{lab.pk}/change/").content.decode()
    assert "fit for ranking" in change and "987654321" not in change
