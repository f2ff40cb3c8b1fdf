"""A lab as a folder: what ``labs.lab_folder.read_lab_folder`` accepts, and every problem it reports at once."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from core.models import User
from labs.datasets import dataset_test_labels
from labs.demo_seed import demo_lab_seed
from labs.lab_folder import LabFolderInvalid, read_lab_folder
from labs.models import Dataset, Lab

TOML = """
slug = "{slug}"
title_en = "Irises"
title_zh = "鸢尾花"
description_en = "Tell three irises apart."
description_zh = "区分三种鸢尾花。"
metric = "{metric}"
threshold = {threshold}
higher_is_better = true
device_class = "cpu"
submissions_per_day = 20

[params.epochs]
type = "int"
default = 20
min = 1
max = 200

[limits]
wall_seconds = 60
memory_mb = 1024
processes = 16
output_bytes = 65536
disk_mb = 64

[data]
{data}
"""


def csv_rows(n: int, *, start: int = 0, label: str = "species") -> str:
    names = ["setosa", "versicolor", "virginica"]
    lines = [f"petal_length,petal_width,{label}"]
    lines += [
        f"{1 + (i % 3) * 2 + i / 100:.2f},{0.2 + (i % 3) + i / 1000:.3f},{names[i % 3]}"
        for i in range(start, start + n)
    ]
    return "\n".join(lines) + "\n"


def make_lab(
    root: Path,
    *,
    slug: str = "irises",
    metric: str = "accuracy",
    threshold: float = 0.9,
    data: str = 'format = "csv"\nlabel = "species"',
    files: dict[str, str | bytes | None] | None = None,
) -> Path:
    folder = root / slug
    (folder / "data").mkdir(parents=True)
    contents: dict[str, str | bytes | None] = {
        "lab.toml": TOML.format(slug=slug, metric=metric, threshold=threshold, data=data),
        "starter.py": "def train(data, run):\n    return None\n\n\ndef predict(model, x):\n    return [0] * len(x)\n",
        "solution.py": "def train(data, run):\n    return 1\n\n\ndef predict(model, x):\n    return [1] * len(x)\n",
        "data/train.csv": csv_rows(90),
        "data/test.csv": csv_rows(30, start=90),
        **(files or {}),
    }
    for name, content in contents.items():
        if content is None:
            continue
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(LabFolderInvalid) as raised:
        read_lab_folder(folder)
    return [str(problem) for problem in raised.value.problems]


def test_a_csv_lab_with_text_labels_gets_class_ids_and_a_stratified_validation_split(tmp_path: Path) -> None:
    lab = read_lab_folder(make_lab(tmp_path))
    data = lab.data
    assert lab.slug == "irises" and lab.definition["threshold"] == 0.9
    assert data.meta["classes"] == ["setosa", "versicolor", "virginica"] and data.num_classes == 3
    assert data.x_train.dtype == np.float32 and data.x_train.shape[1] == 2
    assert (len(data.x_train), len(data.x_val), len(data.x_test)) == (72, 18, 30)
    assert np.bincount(data.y_val).tolist() == [6, 6, 6]  # a fifth of each class
    assert np.bincount(data.y_test).tolist() == [10, 10, 10]
    again = read_lab_folder(make_lab(tmp_path / "again"))
    assert np.array_equal(again.data.y_val, data.y_val) and np.array_equal(again.data.x_val, data.x_val)  # seeded
    assert lab.starter_code.startswith("def train") and "return 1" in lab.solution_code


def test_a_csv_lab_with_its_own_validation_split_keeps_it(tmp_path: Path) -> None:
    lab = read_lab_folder(make_lab(tmp_path, files={"data/val.csv": csv_rows(15, start=200)}))
    assert (len(lab.data.x_train), len(lab.data.x_val)) == (90, 15)


def test_a_regression_csv_keeps_numeric_labels(tmp_path: Path) -> None:
    rows = "x,y\n" + "".join(f"{i},{2 * i + 1}.5\n" for i in range(50))
    folder = make_lab(
        tmp_path,
        metric="r2",
        threshold=0.5,
        data='format = "csv"\nlabel = "y"',
        files={"data/train.csv": rows, "data/test.csv": rows},
    )
    data = read_lab_folder(folder).data
    assert data.num_classes is None and data.y_train.dtype == np.float32
    assert (len(data.x_train), len(data.x_val)) == (40, 10)


def test_an_npz_lab(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    folder = make_lab(tmp_path, data='format = "npz"', files={"data/train.csv": None, "data/test.csv": None})
    np.savez(
        folder / "data" / "data.npz",
        x_train=rng.random((60, 4), dtype=np.float32),
        y_train=np.arange(60) % 4,
        x_test=rng.random((20, 4), dtype=np.float32),
        y_test=np.arange(20) % 4,
    )
    data = read_lab_folder(folder).data
    assert data.num_classes == 4 and (len(data.x_train), len(data.x_val), len(data.x_test)) == (48, 12, 20)


def test_a_broken_folder_is_refused_with_every_problem_and_its_file(tmp_path: Path) -> None:
    broken_toml = TOML.format(slug="elsewhere", metric="auc", threshold=1.5, data='format = "csv"\nlabel = "species"')
    broken_toml = broken_toml.replace("min = 1\nmax = 200", "min = 300\nmax = 200")
    folder = make_lab(
        tmp_path,
        files={
            "lab.toml": broken_toml,
            "solution.py": b"def train(data, run):\n    return '\xff'\n",
            "data/test.csv": csv_rows(30, start=90, label="kind"),
        },
    )
    problems = problems_of(folder)
    expected = [
        "lab.toml: slug 'elsewhere' differs from the folder's name 'irises'",
        "lab.toml: unknown metric 'auc'",
        "lab.toml: params.epochs: min 300 exceeds max 200",
        "solution.py: not UTF-8 text",
        "data/test.csv: no label column 'species'",
    ]
    for start in expected:
        assert any(problem.startswith(start) for problem in problems), (start, problems)


def test_a_test_class_unseen_in_train_and_bad_rows_are_problems(tmp_path: Path) -> None:
    train = "a,species\n" + "".join(f"{i},{'x' if i % 2 else 'y'}\n" for i in range(20))
    test = "a,species\n1,x\n2,z\n"
    assert problems_of(make_lab(tmp_path / "one", files={"data/train.csv": train, "data/test.csv": test})) == [
        "data/: test classes never seen in train: z"
    ]
    ragged = "a,species\n1,x\n2\nthree,y\n"
    problems = problems_of(make_lab(tmp_path / "two", files={"data/train.csv": ragged}))
    assert "data/train.csv: line 3: 1 fields, the header has 2" in problems
    assert "data/train.csv: line 4: column 'a' is not a number" in problems


def test_a_threshold_out_of_range_and_missing_parts(tmp_path: Path) -> None:
    folder = make_lab(tmp_path, threshold=1.5, data='format = "parquet"')
    (folder / "starter.py").unlink()
    problems = problems_of(folder)
    assert "lab.toml: threshold 1.5 out of range: accuracy lies in [0, 1]" in problems
    assert "lab.toml: data.format 'parquet': one of csv, npz, images, jsonl, build" in problems
    assert "starter.py: missing" in problems


# --- import_lab ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_import_lab_makes_a_draft_with_its_data_and_updates_it_in_place(tmp_path: Path) -> None:
    folder = make_lab(tmp_path)
    out = io.StringIO()
    call_command("import_lab", str(folder), stdout=out)
    lab = Lab.objects.get(slug="irises")
    assert "irises: imported as a draft, dataset v1 (72 train, 18 validation, 30 test rows)" in out.getvalue()
    assert not lab.published and lab.metric == "accuracy" and lab.threshold == 0.9
    assert lab.params == {"epochs": {"type": "int", "default": 20, "min": 1, "max": 200}}
    assert (lab.wall_seconds, lab.memory_mb) == (60, 1024) and "return 1" in lab.reference_solution
    first = lab.dataset
    assert (first.n_train, first.n_test, first.num_classes, first.feature_shape) == (72, 30, 3, [2])
    assert dataset_test_labels(first).tolist() == [i % 3 for i in range(90, 120)]  # the test labels, kept on the site

    (folder / "data" / "test.csv").write_text(csv_rows(45, start=90), encoding="utf-8")
    call_command("import_lab", str(folder), stdout=io.StringIO())
    lab.refresh_from_db()
    assert Lab.objects.filter(slug="irises").count() == 1
    assert lab.dataset.version == 2 and lab.dataset.n_test == 45
    first.refresh_from_db()  # the old version stays for the runs that used it
    assert first.lab_id == lab.pk


@pytest.mark.django_db
def test_import_lab_refuses_a_broken_folder_listing_every_problem_and_writes_nothing(tmp_path: Path) -> None:
    folder = make_lab(tmp_path, metric="auc", threshold=-1, files={"data/train.csv": "a,b\n1,2\n"})
    err = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_lab", str(folder), stderr=err)
    assert raised.value.returncode == 2
    lines = err.getvalue().splitlines()
    assert any(line.startswith("irises/lab.toml: unknown metric 'auc'; one of accuracy, ") for line in lines)
    assert "irises/data/train.csv: no label column 'species' (columns: a, b)" in lines
    assert not Lab.objects.exists() and not Dataset.objects.exists()


# --- export_lab ------------------------------------------------------------------------------


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.mark.django_db
@pytest.mark.parametrize("source", ["csv folder", "demo lab"])
def test_export_import_export_gives_the_same_bytes(tmp_path: Path, source: str) -> None:
    if source == "csv folder":
        call_command("import_lab", str(make_lab(tmp_path / "src")), stdout=io.StringIO())
        slug = "irises"
    else:
        slug = demo_lab_seed("two-spirals").slug
    first, second = tmp_path / "first" / slug, tmp_path / "second" / slug
    call_command("export_lab", slug, str(first), stdout=io.StringIO())
    versions = Dataset.objects.filter(lab__slug=slug).count()
    call_command("import_lab", str(first), stdout=io.StringIO())
    call_command("export_lab", slug, str(second), stdout=io.StringIO())
    assert files_of(first) == files_of(second)
    assert set(files_of(first)) == {"lab.toml", "starter.py", "solution.py", "data/data.npz"}
    assert Dataset.objects.filter(lab__slug=slug).count() == versions  # the same data: no new version
    lab = Lab.objects.get(slug=slug)
    if source == "csv folder":
        assert lab.dataset.num_classes == 3
        assert '[data.meta]\nclasses = ["setosa", "versicolor", "virginica"]' in (first / "lab.toml").read_text()
        assert "description_zh = '''\n" not in (first / "lab.toml").read_text()  # one line: a plain string
    else:
        assert "description_en = '''\n" in (first / "lab.toml").read_text()  # Markdown stays readable
        assert lab.dataset.version == 1 and 'task = "classification"' in (first / "lab.toml").read_text()


@pytest.mark.django_db
def test_export_lab_refuses_an_unknown_lab_and_a_folder_in_use(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no lab 'nope'"):
        call_command("export_lab", "nope", str(tmp_path / "x"))
    call_command("import_lab", str(make_lab(tmp_path / "src")), stdout=io.StringIO())
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(CommandError, match="exists and is not empty") as raised:
        call_command("export_lab", "irises", str(tmp_path / "busy"))
    assert raised.value.returncode == 2
    assert (tmp_path / "busy" / "notes.txt").read_text() == "mine"


@pytest.mark.django_db
def test_the_admin_shows_datasets_but_offers_no_form_it_cannot_save(client: Client, tmp_path: Path) -> None:
    admin_client = client
    admin_client.force_login(User.objects.create_superuser("root", "root@example.com", "x"))
    call_command("import_lab", str(make_lab(tmp_path)), stdout=io.StringIO())
    dataset = Dataset.objects.get()
    assert admin_client.get("/admin/labs/dataset/add/").status_code == 403
    assert admin_client.post("/admin/labs/dataset/add/", {"lab": dataset.lab_id, "version": 2}).status_code == 403
    listing = admin_client.get("/admin/labs/dataset/")
    assert listing.status_code == 200 and "irises v1" in listing.content.decode()
    page = admin_client.get(f"/admin/labs/dataset/{dataset.pk}/change/")
    assert page.status_code == 200 and 'type="submit"' not in page.content.decode().split('id="content-main"')[1]
    assert Dataset.objects.count() == 1


# --- images, jsonl, build, [files], [metric], score.py ------------------------------------------


def write_png(path: Path, value: int, size: tuple[int, int] = (6, 5), mode: str = "L") -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, value if mode == "L" else (value, 0, 255 - value)).save(path)


def images_lab(root: Path, *, per_class: int = 5) -> Path:
    folder = make_lab(root, data='format = "images"', files={"data/train.csv": None, "data/test.csv": None})
    for split, count in (("train", per_class), ("test", 2)):
        for name, value in (("dark", 20), ("light", 230)):
            for i in range(count):
                write_png(folder / "data" / split / name / f"{i}.png", value + i)
    return folder


def test_an_images_lab_gives_nchw_floats_and_class_names(tmp_path: Path) -> None:
    data = read_lab_folder(images_lab(tmp_path)).data
    assert data.x_train.shape == (8, 1, 5, 6) and data.x_train.dtype == np.float32  # N×C×H×W
    assert (len(data.x_val), len(data.x_test)) == (2, 4) and data.num_classes == 2
    assert data.meta["classes"] == ["dark", "light"] and data.x_train.min() >= 0 and data.x_train.max() <= 1
    dark = data.x_test[data.y_test == 0]
    assert np.allclose(dark[0, 0, 0, 0], 20 / 255)


def test_ragged_and_unreadable_images_are_problems_with_their_files(tmp_path: Path) -> None:
    folder = images_lab(tmp_path)
    write_png(folder / "data" / "train" / "dark" / "big.png", 10, size=(9, 9))
    (folder / "data" / "test" / "light" / "broken.png").write_bytes(b"not a png")
    problems = problems_of(folder)
    assert any(p.startswith("data/test/light/broken.png: not a readable image") for p in problems), problems
    assert any(p.startswith("data/: images of different sizes") and "9×9" in p for p in problems), problems


def test_a_jsonl_lab_gives_texts_and_reports_bad_lines(tmp_path: Path) -> None:
    rows = [{"text": f"sentence {i}", "label": "pos" if i % 2 else "neg"} for i in range(20)]
    train = "\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n"
    test = '{"text": "好的", "label": "pos"}\n{"text": "bad", "label": "neg"}\n'
    files = {"data/train.csv": None, "data/test.csv": None, "data/train.jsonl": train, "data/test.jsonl": test}
    data = read_lab_folder(make_lab(tmp_path / "ok", data='format = "jsonl"', files=files)).data
    assert data.x_train.dtype.kind == "U" and data.x_test.tolist() == ["好的", "bad"]
    assert data.meta["classes"] == ["neg", "pos"] and data.y_test.tolist() == [1, 0]
    broken = {**files, "data/test.jsonl": '{"text": "x", "label": "pos"}\nnot json\n{"label": 1}\n'}
    problems = problems_of(make_lab(tmp_path / "bad", data='format = "jsonl"', files=broken))
    assert any(p.startswith("data/test.jsonl: line 2: not JSON") for p in problems), problems
    assert 'data/test.jsonl: line 3: expected {"text": "…", "label": …}' in problems


ADDITION_BUILD = """
import numpy as np

def build():
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 100, 200), rng.integers(0, 100, 200)
    x = np.array([f"{i}+{j}=" for i, j in zip(a, b)])
    y = np.array([str(i + j) for i, j in zip(a, b)])
    return {"x_train": x[:150], "y_train": y[:150], "x_test": x[150:], "y_test": y[150:], "meta": {"digits": 2}}
"""


def test_a_build_lab_runs_build_py_and_keeps_text_labels_for_exact_match(tmp_path: Path) -> None:
    files = {"data/train.csv": None, "data/test.csv": None, "build.py": ADDITION_BUILD}
    lab = read_lab_folder(make_lab(tmp_path, metric="exact_match", data='format = "build"', files=files))
    data = lab.data
    assert data.x_train.dtype.kind == "U" and data.y_train.dtype.kind == "U" and data.num_classes is None
    assert (len(data.x_train), len(data.x_val), len(data.x_test)) == (120, 30, 50)
    assert data.meta == {"digits": 2} and data.x_test[0].endswith("=")


def test_a_failing_or_wrong_build_py_is_a_problem_of_build_py(tmp_path: Path) -> None:
    crash = "def build():\n    return 1 / 0\n"
    base = {"data/train.csv": None, "data/test.csv": None}
    problems = problems_of(make_lab(tmp_path / "a", data='format = "build"', files={**base, "build.py": crash}))
    assert len(problems) == 1 and problems[0].startswith("build.py: build() failed (exit status 1)")
    assert "ZeroDivisionError" in problems[0]
    wrong = "def build():\n    return {'x_train': [1, 2]}\n"
    problems = problems_of(make_lab(tmp_path / "b", data='format = "build"', files={**base, "build.py": wrong}))
    assert problems == ["build.py: missing arrays: y_train, x_test, y_test"]
    assert problems_of(make_lab(tmp_path / "c", data='format = "build"', files=base)) == [
        "build.py: missing: the build format runs build() -> dict of arrays"
    ]


def test_files_are_read_and_missing_ones_named(tmp_path: Path) -> None:
    toml = TOML.format(slug="irises", metric="accuracy", threshold=0.9, data='format = "csv"\nlabel = "species"')
    toml += '\n[files]\ninclude = ["helper.py", "weights.bin"]\n'
    folder = make_lab(tmp_path / "ok", files={"lab.toml": toml, "files/helper.py": "K = 3\n"})
    (folder / "files" / "weights.bin").write_bytes(bytes(range(256)))
    assert read_lab_folder(folder).files == {"helper.py": b"K = 3\n", "weights.bin": bytes(range(256))}
    toml_bad = toml.replace('"weights.bin"', '"../secret"')
    problems = problems_of(make_lab(tmp_path / "bad", files={"lab.toml": toml_bad}))
    assert "files/helper.py: missing (named in [files] include)" in problems
    assert "lab.toml: files.include: '../secret' must be a plain file name in files/" in problems


def test_a_metric_table_gives_options_and_checks_them(tmp_path: Path) -> None:
    toml = TOML.format(slug="irises", metric="x", threshold=0.9, data='format = "csv"\nlabel = "species"')
    table = toml.replace('metric = "x"\n', "").replace(
        "[params.epochs]", '[metric]\nname = "top_k_accuracy"\nk = 2\n\n[params.epochs]'
    )
    lab = read_lab_folder(make_lab(tmp_path / "ok", files={"lab.toml": table}))
    assert lab.definition["metric"] == "top_k_accuracy" and lab.metric_options == {"k": 2}
    problems = problems_of(make_lab(tmp_path / "bad", files={"lab.toml": table.replace("k = 2", "k = 0")}))
    assert any(p.startswith("lab.toml: [metric] ") and "k" in p for p in problems), problems
    lower = toml.replace('metric = "x"', 'metric = "log_loss"').replace(
        "threshold = 0.9\nhigher_is_better = true", "threshold = 0.5\nhigher_is_better = true"
    )
    problems = problems_of(make_lab(tmp_path / "dir", files={"lab.toml": lower}))
    assert "lab.toml: higher_is_better contradicts log_loss, where lower is better" in problems


def test_score_py_goes_with_a_custom_metric_only(tmp_path: Path) -> None:
    score = "def score(y_true, y_pred, meta):\n    return float((y_true == y_pred).mean())\n"
    lab = read_lab_folder(make_lab(tmp_path / "ok", metric="custom", files={"score.py": score}))
    assert lab.scoring_code == score
    assert problems_of(make_lab(tmp_path / "none", metric="custom")) == [
        'score.py: missing: metric = "custom" scores with score(y_true, y_pred, meta)'
    ]
    assert problems_of(make_lab(tmp_path / "extra", files={"score.py": score})) == [
        "score.py: used only with metric = \"custom\" (this lab says 'accuracy')"
    ]


@pytest.mark.django_db
def test_export_round_trips_files_metric_options_and_score_py(tmp_path: Path) -> None:
    toml = TOML.format(slug="irises", metric="x", threshold=0.9, data='format = "csv"\nlabel = "species"')
    toml = toml.replace('metric = "x"\n', "").replace(
        "[params.epochs]", '[metric]\nname = "top_k_accuracy"\nk = 2\n\n[params.epochs]'
    )
    toml += '\n[files]\ninclude = ["helper.py"]\n'
    call_command(
        "import_lab",
        str(make_lab(tmp_path / "src", files={"lab.toml": toml, "files/helper.py": "K = 3\n"})),
        stdout=io.StringIO(),
    )
    first, second = tmp_path / "first" / "irises", tmp_path / "second" / "irises"
    call_command("export_lab", "irises", str(first), stdout=io.StringIO())
    call_command("import_lab", str(first), stdout=io.StringIO())
    call_command("export_lab", "irises", str(second), stdout=io.StringIO())
    assert files_of(first) == files_of(second)
    assert files_of(first)["files/helper.py"] == b"K = 3\n"
    assert '[metric]\nname = "top_k_accuracy"\nk = 2\n' in (first / "lab.toml").read_text()
    custom = make_lab(
        tmp_path / "c",
        slug="scored",
        metric="custom",
        files={"score.py": "def score(y_true, y_pred, meta):\n    return 1.0\n"},
    )
    call_command("import_lab", str(custom), stdout=io.StringIO())
    call_command("export_lab", "scored", str(tmp_path / "out" / "scored"), stdout=io.StringIO())
    assert (tmp_path / "out" / "scored" / "score.py").read_text().startswith("def score(")
