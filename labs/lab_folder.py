"""A lab as a folder (Step 9, "labs as code"): read it, check all of it, and hand back its parts.

    <slug>/
      lab.toml      the lab's keys (slug, titles, descriptions, metric, threshold, higher_is_better,
                    device_class, submissions_per_day, [params.*], [limits]) and [data]
      starter.py    what a learner starts from
      solution.py   the reference solution
      data/         the data, in the format [data] names

``[data] format``:
- ``csv``: ``data/train.csv`` and ``data/test.csv`` (and ``data/val.csv`` if you have one), a header
  row, ``label = "<column>"``; every other column is a numeric feature. Numeric labels are kept as
  numbers (a regression lab, or class ids); text labels become class ids 0…n-1 in sorted order,
  their names in ``meta["classes"]``.
- ``npz``: ``data/data.npz`` (or ``file = "…"``) holding ``x_train``, ``y_train``, ``x_test``,
  ``y_test`` and optionally ``x_val``, ``y_val``.

Without a validation split, ``val_fraction`` (default 0.2) of train becomes one: seeded
(``seed``, default 0) and, for class labels, stratified. The test labels are split off here and
never leave the site. ``read_lab_folder`` checks everything before it returns and reports every
problem at once, each with its file: ``LabFolderInvalid.problems``.
"""

from __future__ import annotations

import csv
import io
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from labs.lab_spec import LIMIT_KEYS, REQUIRED_KEYS, LabSplits, is_int, is_number, param_problems
from labs.models import DeviceClass, Metric

DATA_FORMATS = ("csv", "npz")
CLASSIFICATION_METRICS = frozenset({Metric.ACCURACY, Metric.MACRO_F1})
# A lower-is-better metric's threshold may be any non-negative number; a fraction in [0, 1] otherwise.
BOUNDED_METRICS = frozenset({Metric.ACCURACY, Metric.MACRO_F1, Metric.R2})


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

    @property
    def slug(self) -> str:
        return self.definition["slug"]


def read_lab_folder(folder: Path) -> LabFolder:
    """The lab in ``folder``, checked whole; raises ``LabFolderInvalid`` with every problem found."""
    problems: list[Problem] = []
    definition = _read_toml(folder, problems)
    if definition is not None:
        problems += [Problem("lab.toml", message) for message in definition_problems(definition, folder.name)]
    codes = {name: _read_text(folder, name, problems) for name in ("starter.py", "solution.py")}
    data = None
    if definition is not None and isinstance(definition.get("data"), dict):
        data = _read_data(folder, definition, problems)
    if problems:
        raise LabFolderInvalid(problems)
    assert definition is not None and data is not None
    return LabFolder(definition, codes["starter.py"] or "", codes["solution.py"] or "", data)


# --- lab.toml -------------------------------------------------------------------------------


def _read_toml(folder: Path, problems: list[Problem]) -> dict[str, Any] | None:
    text = _read_text(folder, "lab.toml", problems)
    if text is None:
        return None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problems.append(Problem("lab.toml", f"not valid TOML: {exc}"))
        return None


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


def definition_problems(definition: dict[str, Any], folder_name: str | None = None) -> list[str]:
    """What is wrong with a lab definition (``lab.toml`` as a dict); empty when nothing is."""
    problems = [f"missing key {key!r}" for key in REQUIRED_KEYS if key not in definition]
    if "data" not in definition:
        problems.append("missing table [data] (its format and options)")
    slug = definition.get("slug")
    if "slug" in definition and folder_name is not None and slug != folder_name:
        problems.append(f"slug {slug!r} differs from the folder's name {folder_name!r}")
    metric = definition.get("metric")
    if "metric" in definition and metric not in Metric.values:
        problems.append(f"unknown metric {metric!r}; one of {', '.join(Metric.values)}")
    if "device_class" in definition and definition["device_class"] not in DeviceClass.values:
        problems.append(f"device_class must be one of {', '.join(DeviceClass.values)}")
    if "higher_is_better" in definition and not isinstance(definition["higher_is_better"], bool):
        problems.append("higher_is_better must be true or false")
    problems += _threshold_problems(definition)
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
    elif "limits" in definition:
        problems.append("[limits] must be a table")
    data = definition.get("data")
    if "data" in definition and not isinstance(data, dict):
        problems.append("[data] must be a table")
    elif isinstance(data, dict) and data.get("format") not in DATA_FORMATS:
        problems.append(f"data.format {data.get('format')!r}: one of {', '.join(DATA_FORMATS)}")
    return problems


def _threshold_problems(definition: dict[str, Any]) -> list[str]:
    if "threshold" not in definition:
        return []
    threshold = definition["threshold"]
    if not is_number(threshold):
        return ["threshold must be a number"]
    if definition.get("metric") in BOUNDED_METRICS and not 0 <= threshold <= 1:
        return [f"threshold {threshold} out of range: {definition['metric']} lies in [0, 1]"]
    if definition.get("metric") == Metric.MSE and threshold < 0:
        return [f"threshold {threshold} out of range: mse is never negative"]
    return []


# --- data/ ----------------------------------------------------------------------------------


def _read_data(folder: Path, definition: dict[str, Any], problems: list[Problem]) -> LabSplits | None:
    options = definition["data"]
    before = len(problems)
    if options.get("format") == "csv":
        splits = _read_csv_splits(folder, options, problems)
    elif options.get("format") == "npz":
        splits = _read_npz(folder, options, problems)
    else:
        return None  # reported with lab.toml's problems
    if splits is None or len(problems) > before:
        return None
    classification = definition.get("metric") in CLASSIFICATION_METRICS
    meta = options.get("meta", {})  # [data.meta]: what learner code finds in data.meta (export_lab writes it)
    if not isinstance(meta, dict) or not _names(meta.get("classes", [])):
        problems.append(Problem("lab.toml", "[data.meta] must be a table; its classes, a list of class names"))
        return None
    meta = dict(meta)
    if classification:
        splits = _class_ids(splits, meta, problems)
        if splits is None:
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
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = (splits[name] for name in ("train", "val", "test"))
    return LabSplits(x_train, y_train, x_val, y_val, x_test, y_test, num_classes, meta)


def _names(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(name, str) for name in value)


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
    problems += [Problem(name, message) for message in found[:5]]
    if len(found) > 5:
        problems.append(Problem(name, f"… and {len(found) - 5} more lines like these"))
    if found:
        return None
    return features, (np.asarray(x_rows, dtype=np.float32), _labels(y_values))


def _is_float(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _labels(values: list[str]) -> np.ndarray:
    """Numbers when every label is one (int64 when whole), else the text as it came."""
    if all(_is_float(value) for value in values):
        numbers = np.asarray([float(value) for value in values])
        return numbers.astype(np.int64) if np.all(numbers == np.round(numbers)) else numbers.astype(np.float32)
    return np.asarray(values, dtype=object)


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
    missing = [key for key in ("x_train", "y_train", "x_test", "y_test") if key not in found]
    if ("x_val" in found) != ("y_val" in found):
        missing.append("y_val" if "x_val" in found else "x_val")
    if missing:
        problems.append(Problem(name, f"missing arrays: {', '.join(missing)}"))
        return None
    splits = {}
    for split in ("train", "val", "test"):
        if f"x_{split}" in found:
            x, y = found[f"x_{split}"], found[f"y_{split}"]
            if len(x) != len(y):
                problems.append(Problem(name, f"x_{split} has {len(x)} rows but y_{split} has {len(y)}"))
            splits[split] = (x, y)
    shapes = {x.shape[1:] for x, _ in splits.values()}
    if len(shapes) > 1:
        problems.append(Problem(name, f"the splits' rows have different shapes: {sorted(shapes)}"))
    return splits


def _class_ids(splits: dict, meta: dict[str, Any], problems: list[Problem]) -> dict | None:
    """Text labels become ids 0…n-1 (names in ``meta["classes"]``); every test class must be in train."""
    texts = any(y.dtype == object or y.dtype.kind in "US" for _, y in splits.values())
    if texts and "classes" in meta:
        problems.append(Problem("lab.toml", "data.meta.classes names class ids, but the labels are text"))
        return None
    if texts:
        classes = sorted({str(value) for _, y in splits.values() for value in y})
        index = {name: i for i, name in enumerate(classes)}
        splits = {k: (x, np.asarray([index[str(v)] for v in y], dtype=np.int64)) for k, (x, y) in splits.items()}
        meta["classes"] = classes
    elif not all(np.issubdtype(y.dtype, np.integer) for _, y in splits.values()):
        problems.append(Problem("data/", "class labels must be whole numbers or text"))
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
        problems.append(Problem("data/train.csv", f"too few rows ({len(y)}) to split off a validation share"))
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
    lines = [f"{key} = {_toml_value(definition[key])}" for key in TOML_ORDER]
    for name in sorted(definition.get("params", {})):
        spec = definition["params"][name]
        lines += [
            "",
            f"[params.{name}]",
            *(f"{key} = {_toml_value(spec[key])}" for key in ("type", "default", "min", "max")),
        ]
    lines += ["", "[limits]", *(f"{key} = {_toml_value(definition['limits'][key])}" for key in LIMIT_KEYS)]
    data = {key: value for key, value in definition["data"].items() if key != "meta"}
    lines += ["", "[data]", *(f"{key} = {_toml_value(value)}" for key, value in sorted(data.items()))]
    if definition["data"].get("meta"):
        meta = definition["data"]["meta"]
        lines += ["", "[data.meta]", *(f"{_toml_key(key)} = {_toml_value(value)}" for key, value in meta.items())]
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
