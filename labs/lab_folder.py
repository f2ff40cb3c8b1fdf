"""A lab as a folder (Step 9, "labs as code"): read it, check all of it, and hand back its parts.

    <slug>/
      lab.toml      the lab's keys (slug, titles, descriptions, metric, threshold, higher_is_better,
                    device_class, submissions_per_day, [params.*], [limits] (optionally with
                    artifact_max_mb: the largest weights a run keeps, 0: none)), [data] (its format and
                    options), optional [metric] (the metric's options), optional [files]
      starter.py    what a learner starts from
      solution.py   the reference solution
      data/         the data, in the format [data] names (none for ``build``)
      build.py      ``build() -> dict of arrays``, for the ``build`` format
      score.py      ``score(y_true, y_pred, meta) -> float``, for ``metric = "custom"``
      files/        what [files] include names: read-only in the job folder, importable

``[data] format``:
- ``csv``: ``data/train.csv`` and ``data/test.csv`` (and ``data/val.csv`` if you have one), a header
  row, ``label = "<column>"``; every other column is a numeric feature.
- ``npz``: ``data/data.npz`` (or ``file = "…"``) holding ``x_train``, ``y_train``, ``x_test``,
  ``y_test`` and optionally ``x_val``, ``y_val``.
- ``images``: ``data/<split>/<class>/*.png|jpg`` (split train, test, optionally val), one size →
  ``N×C×H×W`` float32 in [0, 1] (C = 1 for grayscale, 3 for colour); the class folders' names, sorted,
  are the classes.
- ``jsonl``: ``data/train.jsonl``, ``data/test.jsonl`` (and ``val.jsonl``), one
  ``{"text": …, "label": …}`` per line → the texts as strings (``data.x_train`` a list of str).
- ``build``: ``build.py`` whose ``build()`` returns ``x_train``, ``y_train``, ``x_test``, ``y_test``
  (and ``x_val``, ``y_val``) as numpy arrays, and optionally ``meta``, a dict. It runs in a process of
  its own with a clean environment and a time limit (``labs.author_code``).

``[data] hidden`` says where the hidden test rows come from, and so whether the lab is fit for ranking
(``Lab.hidden_data``): ``"public"`` (the default: a public data set, the folder's own files, a build
without a secret: anyone can find them), ``"secret-seed"`` (``build`` only: ``build(hidden_seed=…)``
draws the test rows with a seed only the platform holds; ``hidden_seed=None`` gives stand-in test rows
for a learner's own machine, and the training and validation rows and ``meta`` must not depend on it:
both builds run and are compared) or ``"private"`` (the author's own rows, uploaded to the platform
and published nowhere else: their word). ``read_lab_folder(folder, hidden_seed=…)`` takes the seed
from a function of the slug (the site's: ``labs.authoring.hidden_seed_for``); without one, a
secret-seeded lab gets its stand-in rows.

Labels: for a classification metric, text labels become class ids 0…n-1 in sorted order, their names
in ``meta["classes"]``, and every test class must occur in train; ``exact_match`` keeps text labels
as text; the others want numbers. Without a validation split, ``val_fraction`` (default 0.2) of train
becomes one: seeded (``seed``, default 0) and, for class labels, stratified. The test labels are
split off here and never leave the site. ``read_lab_folder`` checks everything before it returns and
reports every problem at once, each with its file: ``LabFolderInvalid.problems``.

Django-free (numpy, the standard library and, for images, Pillow): ``labs.demo.local_run`` reads lab
folders on a learner's own machine with it.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from labs.lab_spec import (
    ARTIFACT_MAX_MB,
    CUSTOM_METRIC,
    DATA_FORMATS,
    DEFAULT_ARTIFACT_MAX_MB,
    DEVICE_CLASSES,
    HIDDEN_KINDS,
    HIDDEN_PRIVATE,
    HIDDEN_PUBLIC,
    HIDDEN_SECRET_SEED,
    LIMIT_KEYS,
    REQUIRED_KEYS,
    LabSplits,
    artifact_max_mb_problems,
    is_int,
    is_number,
    param_problems,
)
from labs.scoring import METRICS, metric_options_problems

SPLITS = ("train", "val", "test")
SLUG = re.compile(r"[-a-zA-Z0-9_]{1,50}")  # what Lab.slug and the site's <slug:…> URLs take
RESERVED_SLUGS = ("authoring", "submissions", "runs")  # /labs/<these>/ are pages of their own
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
MAX_FILES_BYTES = 64 * 1024 * 1024  # [files] together: pretrained weights of a small model, helpers
MAX_SHOWN = 5  # problems of one kind listed per file before "… and N more"


@dataclass(frozen=True)
class Problem:
    file: str  # relative to the lab's folder
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


class LabFolderInvalid(ValueError):
    """A folder that cannot become a lab; ``problems`` lists every reason found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


@dataclass
class LabFolder:
    definition: dict[str, Any]  # lab.toml as read
    starter_code: str
    solution_code: str
    data: LabSplits
    scoring_code: str = ""  # score.py, for metric = "custom"
    files: dict[str, bytes] = field(default_factory=dict)  # [files]: name -> content
    hidden_seed: int | None = None  # the secret seed the hidden test rows were built with ([data] hidden)

    @property
    def slug(self) -> str:
        return self.definition["slug"]

    @property
    def fit_for_ranking(self) -> bool:
        """Whether the hidden test rows exist only on the platform: built with a secret seed, or the
        author's own private rows."""
        return hidden_is_secret(self.definition, self.hidden_seed)

    @property
    def metric_options(self) -> dict[str, Any]:
        return dict(self.definition.get("metric_options", {}))


def hidden_is_secret(definition: dict[str, Any], hidden_seed: int | None) -> bool:
    """Whether a lab's hidden test rows exist only on the platform (``[data] hidden``; a secret-seeded
    lab only when it was built with its secret seed, not with the stand-in rows)."""
    hidden = (definition.get("data") or {}).get("hidden", HIDDEN_PUBLIC)
    return hidden == HIDDEN_PRIVATE or (hidden == HIDDEN_SECRET_SEED and hidden_seed is not None)


def read_lab_folder(folder: Path, hidden_seed: Callable[[str], int] | None = None) -> LabFolder:
    """The lab in ``folder``, checked whole; raises ``LabFolderInvalid`` with every problem found.
    ``hidden_seed``: the secret seed of a secret-seeded lab's hidden rows, from its slug (called only
    for such a lab); without it, such a lab gets its stand-in test rows."""
    folder = Path(folder)
    problems: list[Problem] = []
    definition = _read_toml(folder, problems)
    if definition is not None:
        problems += [Problem("lab.toml", message) for message in definition_problems(definition, folder.name)]
    codes = {name: _read_text(folder, name, problems) for name in ("starter.py", "solution.py")}
    scoring_code = _read_scoring(folder, definition, problems)
    files = _read_files(folder, definition, problems) if definition is not None else {}
    data, seed = None, None
    if definition is not None and isinstance(definition.get("data"), dict):
        secret = definition["data"].get("hidden") == HIDDEN_SECRET_SEED and isinstance(definition.get("slug"), str)
        seed = hidden_seed(definition["slug"]) if secret and hidden_seed is not None else None
        data = _read_data(folder, definition, problems, seed)
    if problems:
        raise LabFolderInvalid(problems)
    assert definition is not None and data is not None
    codes_of = codes["starter.py"] or "", codes["solution.py"] or ""
    return LabFolder(definition, *codes_of, data, scoring_code, files, hidden_seed=seed)


# --- lab.toml -------------------------------------------------------------------------------


def _read_toml(folder: Path, problems: list[Problem]) -> dict[str, Any] | None:
    text = _read_text(folder, "lab.toml", problems)
    if text is None:
        return None
    try:
        definition = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problems.append(Problem("lab.toml", f"not valid TOML: {exc}"))
        return None
    return metric_table(definition)


def metric_table(definition: dict[str, Any]) -> dict[str, Any]:
    """``metric = "accuracy"``, or a ``[metric]`` table with ``name`` and the metric's options (TOML
    cannot hold both): the name in ``metric``, the options in ``metric_options``."""
    definition = dict(definition)
    metric = definition.get("metric")
    options: Any = {}
    if isinstance(metric, dict):
        options = dict(metric)
        definition["metric"] = options.pop("name", None)
    definition["metric_options"] = options
    return definition


def _read_text(folder: Path, name: str, problems: list[Problem]) -> str | None:
    path = folder / name
    if not path.is_file():
        problems.append(Problem(name, "missing"))
        return None
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(Problem(name, f"not UTF-8 text (byte {exc.start})"))
        return None


def _read_scoring(folder: Path, definition: dict[str, Any] | None, problems: list[Problem]) -> str:
    custom = definition is not None and definition.get("metric") == CUSTOM_METRIC
    if not (folder / "score.py").exists():
        if custom:
            problems.append(Problem("score.py", 'missing: metric = "custom" scores with score(y_true, y_pred, meta)'))
        return ""
    if definition is not None and not custom:
        problems.append(
            Problem("score.py", f'used only with metric = "custom" (this lab says {definition.get("metric")!r})')
        )
        return ""
    code = _read_text(folder, "score.py", problems) or ""
    if code and "def score(" not in code:
        problems.append(Problem("score.py", "defines no score(y_true, y_pred, meta)"))
    return code


def _read_files(folder: Path, definition: dict[str, Any], problems: list[Problem]) -> dict[str, bytes]:
    spec = definition.get("files", {})
    include = spec.get("include", []) if isinstance(spec, dict) else None
    if not _names(include) or (isinstance(spec, dict) and set(spec) - {"include"}):
        problems.append(Problem("lab.toml", '[files] holds include = ["name", …]: files of the folder files/'))
        return {}
    files: dict[str, bytes] = {}
    for name in include:
        if not name or name != Path(name).name or name.startswith("."):
            problems.append(Problem("lab.toml", f"files.include: {name!r} must be a plain file name in files/"))
        elif not (folder / "files" / name).is_file():
            problems.append(Problem(f"files/{name}", "missing (named in [files] include)"))
        else:
            files[name] = (folder / "files" / name).read_bytes()
            if name.endswith(".py") and not _utf8(files[name]):
                problems.append(Problem(f"files/{name}", "not UTF-8 text"))
    if sum(map(len, files.values())) > MAX_FILES_BYTES:
        problems.append(Problem("files/", f"together larger than {MAX_FILES_BYTES // 2**20} MB"))
    return files


def _utf8(payload: bytes) -> bool:
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


SKILL_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def definition_problems(definition: dict[str, Any], folder_name: str | None = None) -> list[str]:
    """What is wrong with a lab definition (``lab.toml`` as a dict); empty when nothing is."""
    problems = [f"missing key {key!r}" for key in REQUIRED_KEYS if key not in definition]
    if "data" not in definition:
        problems.append("missing table [data] (its format and options)")
    slug = definition.get("slug")
    if "slug" in definition and not (isinstance(slug, str) and SLUG.fullmatch(slug) and slug not in RESERVED_SLUGS):
        reserved = ", ".join(RESERVED_SLUGS)
        problems.append(f"slug {slug!r}: at most 50 letters, digits, hyphens and underscores, and none of {reserved}")
    elif "slug" in definition and folder_name is not None and slug != folder_name:
        problems.append(f"slug {slug!r} differs from the folder's name {folder_name!r}")
    metric = definition.get("metric")
    if "metric" in definition and metric not in (*METRICS, CUSTOM_METRIC):
        problems.append(f"unknown metric {metric!r}; one of {', '.join((*METRICS, CUSTOM_METRIC))}")
    options = definition.get("metric_options", {})
    if "metric" in definition and metric is None:
        problems.append('[metric] must give the metric\'s name = "…" with its options')
    elif metric in METRICS:
        problems += [f"[metric] {message}" for message in metric_options_problems(metric, options)]
    elif options and metric == CUSTOM_METRIC:
        problems.append("[metric]: a custom metric takes no options (score.py gets data.meta)")
    if "device_class" in definition and definition["device_class"] not in DEVICE_CLASSES:
        problems.append(f"device_class must be one of {', '.join(DEVICE_CLASSES)}")
    if "higher_is_better" in definition and not isinstance(definition["higher_is_better"], bool):
        problems.append("higher_is_better must be true or false")
    elif metric in METRICS and definition.get("higher_is_better") not in (None, METRICS[metric].higher_is_better):
        better = "higher" if METRICS[metric].higher_is_better else "lower"
        problems.append(f"higher_is_better contradicts {metric}, where {better} is better")
    problems += _threshold_problems(definition)
    skills = definition.get("skills", [])
    if not (isinstance(skills, list) and all(isinstance(v, str) and SKILL_SLUG.fullmatch(v) for v in skills)):
        problems.append('skills must be a list of skill slugs, e.g. skills = ["gradient-descent"]')
    per_day = definition.get("submissions_per_day")
    if "submissions_per_day" in definition and not (is_int(per_day) and per_day > 0):
        problems.append("submissions_per_day must be a positive integer")
    params = definition.get("params", {})
    if not isinstance(params, dict):
        problems.append("[params] must be a table of tables")
    else:
        for name, spec in params.items():
            problems += param_problems(name, spec)
    limits = definition.get("limits")
    if isinstance(limits, dict):
        problems += [
            f"limits.{key} must be a positive integer"
            for key in LIMIT_KEYS
            if not (is_int(limits.get(key)) and limits[key] > 0)
        ]
        problems += artifact_max_mb_problems(limits)
    elif "limits" in definition:
        problems.append("[limits] must be a table")
    data = definition.get("data")
    if "data" in definition and not isinstance(data, dict):
        problems.append("[data] must be a table")
    elif isinstance(data, dict) and data.get("format") not in DATA_FORMATS:
        problems.append(f"data.format {data.get('format')!r}: one of {', '.join(DATA_FORMATS)}")
    if isinstance(data, dict) and data.get("hidden", HIDDEN_PUBLIC) not in HIDDEN_KINDS:
        problems.append(f"data.hidden {data.get('hidden')!r}: one of {', '.join(HIDDEN_KINDS)}")
    elif isinstance(data, dict) and data.get("hidden") == HIDDEN_SECRET_SEED and data.get("format") != "build":
        problems.append('data.hidden = "secret-seed" needs format = "build": build(hidden_seed=…) draws the test rows')
    return problems


def _threshold_problems(definition: dict[str, Any]) -> list[str]:
    if "threshold" not in definition:
        return []
    threshold = definition["threshold"]
    metric = definition.get("metric")
    if not is_number(threshold):
        return ["threshold must be a number"]
    if metric in METRICS and METRICS[metric].bounded and not 0 <= threshold <= 1:
        return [f"threshold {threshold} out of range: {metric} lies in [0, 1]"]
    if metric in METRICS and not METRICS[metric].higher_is_better and threshold < METRICS[metric].best:
        return [f"threshold {threshold} out of range: {metric} is never below {METRICS[metric].best:g}"]
    return []


# --- data/ ----------------------------------------------------------------------------------


def _read_data(
    folder: Path, definition: dict[str, Any], problems: list[Problem], hidden_seed: int | None = None
) -> LabSplits | None:
    options = definition["data"]
    before = len(problems)
    readers = {"csv": _read_csv_splits, "npz": _read_npz, "images": _read_images, "jsonl": _read_jsonl}
    if options.get("format") in readers:
        splits = readers[options["format"]](folder, options, problems)
    elif options.get("format") == "build":
        splits = _read_built(folder, options, problems, hidden_seed)
    else:
        return None  # reported with lab.toml's problems
    if splits is None or len(problems) > before:
        return None
    metric = definition.get("metric")
    info = METRICS.get(metric)
    classification = info is not None and info.is_classification
    meta = options.get("meta", {})  # [data.meta]: what learner code finds in data.meta (export_lab writes it)
    if not isinstance(meta, dict) or not _names(meta.get("classes", [])):
        problems.append(Problem("lab.toml", "[data.meta] must be a table; its classes, a list of class names"))
        return None
    meta = {**splits.pop("meta", {}), **meta}
    if classification:
        splits = _class_ids(splits, meta, problems)
        if splits is None:
            return None
    elif info is not None and not _label_kinds_fit(metric, info.prediction, splits, problems):
        return None
    if "val" not in splits:
        splits = _split_off_validation(splits, options, classification, problems)
        if splits is None:
            return None
    num_classes = None
    if classification:
        num_classes = (
            len(meta["classes"]) if "classes" in meta else max(int(y.max()) for _, y in splits.values() if len(y)) + 1
        )
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = (splits[name] for name in SPLITS)
    return LabSplits(x_train, y_train, x_val, y_val, x_test, y_test, num_classes, meta)


def _label_kinds_fit(metric: str, prediction: str, splits: dict, problems: list[Problem]) -> bool:
    texts = any(_is_text(y) for _, y in splits.values())
    if prediction == "sequence":
        if not texts and not all(y.ndim == 2 and y.dtype.kind in "iu" for _, y in splits.values()):
            problems.append(Problem("data/", f"{metric} needs text labels or rows of token ids"))
            return False
        return True
    if texts:
        problems.append(Problem("data/", f"{metric} needs numeric labels; these are text"))
        return False
    return True


def _is_text(array: np.ndarray) -> bool:
    return array.dtype == object or array.dtype.kind in "US"


def _names(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(name, str) for name in value)


def _report(problems: list[Problem], name: str, found: list[str]) -> None:
    problems += [Problem(name, message) for message in found[:MAX_SHOWN]]
    if len(found) > MAX_SHOWN:
        problems.append(Problem(name, f"… and {len(found) - MAX_SHOWN} more like these"))


def _read_csv_splits(
    folder: Path, options: dict[str, Any], problems: list[Problem]
) -> dict[str, tuple[np.ndarray, np.ndarray]] | None:
    label = options.get("label")
    if not isinstance(label, str) or not label:
        problems.append(Problem("lab.toml", 'data.label must name the label column, e.g. label = "species"'))
        return None
    names = ["train", "test"] + (["val"] if (folder / "data" / "val.csv").exists() else [])
    splits, header_of = {}, {}
    for name in names:
        read = _read_csv(folder, f"data/{name}.csv", label, problems)
        if read is not None:
            header_of[name], splits[name] = read
    headers = {tuple(header) for header in header_of.values()}
    if len(headers) > 1:
        problems.append(Problem("data/", f"the splits' feature columns differ: {sorted(headers)}"))
    return splits if len(splits) == len(names) else None


def _read_csv(
    folder: Path, name: str, label: str, problems: list[Problem]
) -> tuple[list[str], tuple[np.ndarray, np.ndarray]] | None:
    text = _read_text(folder, name, problems)
    if text is None:
        return None
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    if not rows:
        problems.append(Problem(name, "empty: a header row and at least one data row are needed"))
        return None
    header, body = rows[0], [row for row in rows[1:] if row]
    if label not in header:
        problems.append(Problem(name, f"no label column {label!r} (columns: {', '.join(header)})"))
        return None
    if not body:
        problems.append(Problem(name, "no data rows"))
        return None
    at = header.index(label)
    features = [column for column in header if column != label]
    x_rows, y_values, found = [], [], []
    for line, row in enumerate(body, start=2):
        if len(row) != len(header):
            found.append(f"line {line}: {len(row)} fields, the header has {len(header)}")
            continue
        try:
            x_rows.append([float(value) for i, value in enumerate(row) if i != at])
        except ValueError:
            bad = next(header[i] for i, value in enumerate(row) if i != at and not _is_float(value))
            found.append(f"line {line}: column {bad!r} is not a number")
            continue
        y_values.append(row[at])
    _report(problems, name, found)
    if found:
        return None
    return features, (np.asarray(x_rows, dtype=np.float32), _labels(y_values))


def _is_float(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _labels(values: list[Any]) -> np.ndarray:
    """Numbers when every label is one (int64 when whole), else the text as it came."""
    if all(not isinstance(value, bool) and _is_float(value) for value in values):
        numbers = np.asarray([float(value) for value in values])
        return numbers.astype(np.int64) if np.all(numbers == np.round(numbers)) else numbers.astype(np.float32)
    return np.asarray([str(value) for value in values], dtype=str)


def _read_npz(folder: Path, options: dict[str, Any], problems: list[Problem]) -> dict | None:
    name = f"data/{options.get('file', 'data.npz')}"
    path = folder / name
    if not path.is_file():
        problems.append(Problem(name, "missing"))
        return None
    try:
        with np.load(path, allow_pickle=False) as arrays:
            found = {key: arrays[key] for key in arrays.files}
    except (OSError, ValueError) as exc:
        problems.append(Problem(name, f"not a readable .npz without pickles: {exc}"))
        return None
    return _split_arrays(found, name, problems)


def _split_arrays(found: dict[str, Any], name: str, problems: list[Problem]) -> dict | None:
    """``x_train``, ``y_train``… (arrays from a .npz or build.py) as ``{split: (x, y)}``."""
    missing = [key for key in ("x_train", "y_train", "x_test", "y_test") if key not in found]
    if ("x_val" in found) != ("y_val" in found):
        missing.append("y_val" if "x_val" in found else "x_val")
    if missing:
        problems.append(Problem(name, f"missing arrays: {', '.join(missing)}"))
        return None
    splits = {}
    for split in SPLITS:
        if f"x_{split}" not in found:
            continue
        x, y = found[f"x_{split}"], found[f"y_{split}"]
        if not isinstance(x, np.ndarray) or not isinstance(y, np.ndarray) or x.dtype == object or y.dtype == object:
            problems.append(Problem(name, f"x_{split} and y_{split} must be numpy arrays of numbers or text"))
            continue
        if x.ndim == 0 or y.ndim == 0 or len(x) != len(y):
            problems.append(Problem(name, f"x_{split} has {x.shape} rows but y_{split} has {y.shape}"))
        elif len(x) == 0:
            problems.append(Problem(name, f"x_{split} has no rows"))
        splits[split] = (x, y)
    shapes = {x.shape[1:] for x, _ in splits.values()}
    if len(shapes) > 1:
        problems.append(Problem(name, f"the splits' rows have different shapes: {sorted(shapes)}"))
    return splits


def _read_images(folder: Path, options: dict[str, Any], problems: list[Problem]) -> dict | None:
    from PIL import Image, UnidentifiedImageError  # the site's import only: learners get arrays

    root = folder / "data"
    names = ["train", "test"] + (["val"] if (root / "val").is_dir() else [])
    classes = sorted(
        {p.name for split in names if (root / split).is_dir() for p in (root / split).iterdir() if p.is_dir()}
    )
    if not classes:
        problems.append(Problem("data/", "no class folders: images go in data/<split>/<class>/*.png"))
        return None
    splits, sizes, found = {}, {}, []
    for split in names:
        if not (root / split).is_dir():
            problems.append(Problem(f"data/{split}/", "missing"))
            continue
        pixels, labels = [], []
        for label, name in enumerate(classes):
            files = sorted(p for p in (root / split / name).glob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
            for path in files:
                where = str(path.relative_to(folder))
                try:
                    with Image.open(path) as image:
                        image.load()
                        mode = "L" if image.mode in ("1", "L", "I", "I;16", "F") else "RGB"
                        array = np.asarray(image.convert(mode), dtype=np.float32) / 255.0
                except (OSError, UnidentifiedImageError, ValueError) as exc:
                    found.append((where, f"not a readable image: {exc}"))
                    continue
                array = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
                sizes.setdefault(array.shape, where)  # each size with the first file that has it
                pixels.append(array)
                labels.append(label)
        if not pixels:
            problems.append(Problem(f"data/{split}/", "no images (.png or .jpg) in its class folders"))
            continue
        splits[split] = (pixels, np.asarray(labels, dtype=np.int64))
    for where, message in found[:MAX_SHOWN]:
        problems.append(Problem(where, message))
    if len(sizes) > 1:
        described = ", ".join(f"{'×'.join(map(str, shape))} ({where})" for shape, where in list(sizes.items())[:4])
        problems.append(Problem("data/", f"images of different sizes or colour modes (one size needed): {described}"))
        return None
    if found or len(splits) < len(names):
        return None
    meta = {"classes": classes}
    return {split: (np.stack(pixels), y) for split, (pixels, y) in splits.items()} | {"meta": meta}


def _read_jsonl(folder: Path, options: dict[str, Any], problems: list[Problem]) -> dict | None:
    names = ["train", "test"] + (["val"] if (folder / "data" / "val.jsonl").exists() else [])
    splits = {}
    for split in names:
        name = f"data/{split}.jsonl"
        text = _read_text(folder, name, problems)
        if text is None:
            continue
        texts, labels, found = [], [], []
        for line, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
            except ValueError as exc:
                found.append(f"line {line}: not JSON ({exc})")
                continue
            if not isinstance(row, dict) or not isinstance(row.get("text"), str) or "label" not in row:
                found.append(f'line {line}: expected {{"text": "…", "label": …}}')
                continue
            if not isinstance(row["label"], str | int | float) or isinstance(row["label"], bool):
                found.append(f"line {line}: label must be text or a number")
                continue
            texts.append(row["text"])
            labels.append(row["label"])
        _report(problems, name, found)
        if not texts and not found:
            problems.append(Problem(name, "no rows"))
        if texts and not found:
            splits[split] = (np.asarray(texts, dtype=str), _labels(labels))
    return splits if len(splits) == len(names) else None


def _read_built(
    folder: Path, options: dict[str, Any], problems: list[Problem], hidden_seed: int | None = None
) -> dict | None:
    """``build()``'s splits; for a secret-seeded lab ``build(hidden_seed=…)``'s, checked against the
    stand-in build (``hidden_seed=None``, what anyone can run from the folder): the same training and
    validation rows and ``meta`` (they go to workers and learners), other test rows."""
    from labs.author_code import BuildFailed, run_build

    if not (folder / "build.py").is_file():
        problems.append(Problem("build.py", "missing: the build format runs build() -> dict of arrays"))
        return None
    secret = options.get("hidden") == HIDDEN_SECRET_SEED
    timeout = options.get("timeout_seconds", 300)
    try:
        arrays, meta = run_build(folder / "build.py", timeout, {"hidden_seed": hidden_seed} if secret else None)
        if secret and hidden_seed is not None:
            stand_in = run_build(folder / "build.py", timeout, {"hidden_seed": None})
            problems += [Problem("build.py", message) for message in _secret_seed_problems((arrays, meta), stand_in)]
    except BuildFailed as exc:
        problems.append(Problem("build.py", str(exc)))
        return None
    splits = _split_arrays(arrays, "build.py", problems)
    return None if splits is None else splits | {"meta": meta}


def _secret_seed_problems(
    built: tuple[dict[str, np.ndarray], dict[str, Any]], stand_in: tuple[dict[str, np.ndarray], dict[str, Any]]
) -> list[str]:
    """What makes a build with the secret seed no better than the folder's own stand-in build."""
    (arrays, meta), (public, public_meta) = built, stand_in
    where = 'with [data] hidden = "secret-seed",'
    problems = [
        f"{where} {key} must not depend on hidden_seed (the folder reproduces it)"
        for key in ("x_train", "y_train", "x_val", "y_val")
        if (key in arrays) != (key in public) or (key in arrays and not _same_array(arrays[key], public[key]))
    ]
    if meta != public_meta:
        problems.append(f"{where} meta must not depend on hidden_seed (learners read it)")
    if all(key in arrays and key in public for key in ("x_test", "y_test")):
        secret_rows, stand_in_rows = _test_rows(arrays), _test_rows(public)
        if secret_rows and secret_rows <= stand_in_rows:  # none: _split_arrays reports why
            problems.append(f"{where} build(hidden_seed=…) must draw other test rows than build(hidden_seed=None)")
    return problems


def _same_array(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b))


def _test_rows(arrays: dict[str, np.ndarray]) -> set[tuple[bytes, bytes]]:
    x, y = np.asarray(arrays["x_test"]), np.asarray(arrays["y_test"])
    if x.ndim == 0 or y.ndim == 0 or len(x) != len(y):
        return set()
    return {(x[i].tobytes(), y[i].tobytes()) for i in range(len(x))}


def _class_ids(splits: dict, meta: dict[str, Any], problems: list[Problem]) -> dict | None:
    """Text labels become ids 0…n-1 (names in ``meta["classes"]``); every test class must be in train."""
    texts = any(_is_text(y) for _, y in splits.values())
    if texts and "classes" in meta and not all(_is_text(y) for _, y in splits.values()):
        problems.append(Problem("lab.toml", "data.meta.classes names class ids, but the labels are text"))
        return None
    if texts:
        classes = sorted({str(value) for _, y in splits.values() for value in y})
        index = {name: i for i, name in enumerate(classes)}
        splits = {k: (x, np.asarray([index[str(v)] for v in y], dtype=np.int64)) for k, (x, y) in splits.items()}
        meta["classes"] = classes
    elif not all(np.issubdtype(y.dtype, np.integer) and y.ndim == 1 for _, y in splits.values()):
        problems.append(Problem("data/", "class labels must be whole numbers or text, one per row"))
        return None
    if "classes" in meta and any(
        len(y) and (y.min() < 0 or y.max() >= len(meta["classes"])) for _, y in splits.values()
    ):
        problems.append(Problem("data/", f"class ids must lie in 0…{len(meta['classes']) - 1} (data.meta.classes)"))
        return None
    unseen = sorted(set(splits["test"][1].tolist()) - set(splits["train"][1].tolist()))
    if unseen:
        names = [meta["classes"][i] for i in unseen] if "classes" in meta else unseen
        problems.append(Problem("data/", f"test classes never seen in train: {', '.join(map(str, names))}"))
        return None
    return splits


def _split_off_validation(
    splits: dict, options: dict[str, Any], classification: bool, problems: list[Problem]
) -> dict | None:
    fraction = options.get("val_fraction", 0.2)
    seed = options.get("seed", 0)
    if not (is_number(fraction) and 0 < fraction < 1) or not is_int(seed):
        problems.append(Problem("lab.toml", "data.val_fraction must lie in (0, 1) and data.seed be an integer"))
        return None
    x, y = splits["train"]
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(y == label) for label in np.unique(y)] if classification else [np.arange(len(y))]
    val = np.sort(np.concatenate([rng.permutation(g)[: round(len(g) * fraction)] for g in groups]))
    train = np.setdiff1d(np.arange(len(y)), val)
    if len(val) == 0 or len(train) == 0:
        problems.append(Problem("data/", f"too few training rows ({len(y)}) to split off a validation share"))
        return None
    return {**splits, "train": (x[train], y[train]), "val": (x[val], y[val])}


# --- writing a folder (export_lab) ------------------------------------------------------------

TOML_ORDER = (
    "slug",
    "title_en",
    "title_zh",
    "metric",
    "threshold",
    "higher_is_better",
    "device_class",
    "submissions_per_day",
    "description_en",
    "description_zh",
)


def definition_toml(definition: dict[str, Any]) -> str:
    """``lab.toml`` for a definition, in one canonical form (so an export of an import is the same bytes)."""
    options = definition.get("metric_options") or {}
    lines = [f"{key} = {_toml_value(definition[key])}" for key in TOML_ORDER if not (key == "metric" and options)]
    if definition.get("skills"):  # written only when tagged: older folders export as they were
        lines.append(f"skills = {_toml_value(list(definition['skills']))}")
    if options:
        metric = {"name": definition["metric"], **dict(sorted(options.items()))}
        lines += ["", "[metric]", *(f"{key} = {_toml_value(value)}" for key, value in metric.items())]
    for name in sorted(definition.get("params", {})):
        spec = definition["params"][name]
        lines += [
            "",
            f"[params.{name}]",
            *(f"{key} = {_toml_value(spec[key])}" for key in ("type", "default", "min", "max")),
        ]
    lines += ["", "[limits]", *(f"{key} = {_toml_value(definition['limits'][key])}" for key in LIMIT_KEYS)]
    artifact_max_mb = definition["limits"].get(ARTIFACT_MAX_MB, DEFAULT_ARTIFACT_MAX_MB)
    if artifact_max_mb != DEFAULT_ARTIFACT_MAX_MB:  # written only when set: older folders export as they were
        lines.append(f"{ARTIFACT_MAX_MB} = {_toml_value(artifact_max_mb)}")
    data = {key: value for key, value in definition["data"].items() if key != "meta"}
    lines += ["", "[data]", *(f"{key} = {_toml_value(value)}" for key, value in sorted(data.items()))]
    if definition["data"].get("meta"):
        meta = definition["data"]["meta"]
        lines += ["", "[data.meta]", *(f"{_toml_key(key)} = {_toml_value(value)}" for key, value in meta.items())]
    if definition.get("files"):
        lines += ["", "[files]", f"include = {_toml_value(sorted(definition['files']))}"]
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(key)} = {_toml_value(value[key])}" for key in value) + "}"
    if value is None:
        raise ValueError("TOML has no null: leave the key out")
    text = str(value)
    plain = all(c in "\n\t" or " " <= c != "\x7f" for c in text)
    if "\n" in text and plain and "'''" not in text and not text.endswith("'"):
        return "'''\n" + text + "'''"  # a literal block, as an author writes it
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007F")


def _toml_key(key: str) -> str:
    return key if key and all(c.isascii() and (c.isalnum() or c in "-_") for c in key) else json.dumps(key)
