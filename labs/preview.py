"""What a lab page shows of its data: each public array's shape and type, a few training rows (numbers
rounded, texts as they are, class ids as their names) and, for images, a grid of training samples as
PNGs made here.

Read from the public file only (``x_train``, ``y_train``, ``x_val``, ``y_val``, ``x_test``): the test
labels live in the database and never reach this module. Only the first rows of an array are read (its
``.npy`` header gives the shape), so a large dataset costs a page no more than a small one; a preview is
cached under its dataset's sha256, which names its content.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import math
import zipfile
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from PIL import Image

from core.fragments import fragment_key, fragments
from labs.datasets import dataset_open
from labs.models import Dataset

logger = logging.getLogger(__name__)

PUBLIC_ARRAYS = ("x_train", "y_train", "x_val", "y_val", "x_test")  # never y_test: not in the public file anyway
ROWS = 5  # rows shown of a table or of texts
IMAGES = 12  # samples in an image grid
COLUMNS = 8  # values shown of one row
TEXT_CHARS = 300
HEAD_BYTES = 8 * 2**20  # of x_train read to find samples of several classes
PIXELS = 64  # an image's longer side on the page: larger ones are scaled down, small ones up (blocky)
CACHE_SECONDS = 24 * 3600
CACHE_VERSION = 1  # bump when DataPreview changes
PREVIEW_TEMPLATE = "labs/_data_preview.html"


@dataclass(frozen=True)
class ArrayInfo:
    name: str
    shape: tuple[int, ...]
    dtype: str  # "float32", "int64", "str"…


@dataclass(frozen=True)
class Sample:
    cells: tuple[str, ...]  # the row's values, rounded; a text; nothing for an image
    label: str  # a class's name, a rounded value, a text
    image: str = ""  # a data: URI of a PNG
    width: int = 0
    height: int = 0


@dataclass(frozen=True)
class DataPreview:
    arrays: tuple[ArrayInfo, ...]
    kind: str  # "table" (a row of numbers), "text", "image", or "array" (anything else)
    samples: tuple[Sample, ...]
    columns: tuple[str, ...]  # which values of a row are shown ("table", "array"): their positions
    more_columns: bool  # a row holds more than those
    classes: tuple[str, ...]


def data_preview(dataset: Dataset) -> DataPreview | None:
    """The preview of ``dataset``, or None when its file cannot be read (logged)."""
    key = f"labs:preview:v{CACHE_VERSION}:{dataset.sha256}"
    preview = cache.get(key)
    if preview is None:
        try:
            preview = _preview(dataset)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            logger.warning("dataset %s: no preview (%s)", dataset, exc)
            return None
        cache.set(key, preview, CACHE_SECONDS)
    return preview


def data_preview_html(dataset: Dataset) -> SafeString:
    """The lab page's section on ``dataset`` (``labs/_data_preview.html``), rendered once per
    dataset and language (a dataset never changes: a new one is a new version); empty when the
    file cannot be read."""

    def render(_missing: list[str]) -> dict[str, str]:
        preview = data_preview(dataset)  # None: nothing kept, the next page tries again
        return {dataset.sha256: render_to_string(PREVIEW_TEMPLATE, {"preview": preview})} if preview else {}

    keys = {dataset.sha256: fragment_key("data-preview", CACHE_VERSION, dataset.sha256)}
    return mark_safe(fragments(keys, render).get(dataset.sha256, ""))  # noqa: S308 -- escaped by the template


def _preview(dataset: Dataset) -> DataPreview:
    with dataset_open(dataset) as handle, zipfile.ZipFile(handle) as npz:
        names = set(npz.namelist())
        meta = _meta(npz) if "meta_json.npy" in names else {}
        heads = {name: _head(npz, name) for name in PUBLIC_ARRAYS if f"{name}.npy" in names}
    arrays = tuple(ArrayInfo(name, shape, _dtype_name(head.dtype)) for name, (shape, head) in heads.items())
    classes = tuple(str(name) for name in meta.get("classes", ())) if isinstance(meta.get("classes"), list) else ()
    x, y = heads["x_train"][1], heads["y_train"][1]
    kind = _kind(x, meta)
    if kind == "image":
        samples = _image_samples(_as_images(x, meta), y, classes)
        return DataPreview(arrays, kind, samples, (), False, classes)
    rows = [(x[i], y[i]) for i in range(min(ROWS, len(x), len(y)))]
    if kind == "text":
        samples = tuple(Sample((_text(str(row)),), _label(label, classes)) for row, label in rows)
        return DataPreview(arrays, kind, samples, (), False, classes)
    width = math.prod(x.shape[1:])
    samples = tuple(
        Sample(tuple(_number(v) for v in np.ravel(row)[:COLUMNS]), _label(label, classes)) for row, label in rows
    )
    columns = tuple(str(i) for i in range(min(width, COLUMNS)))
    return DataPreview(arrays, kind, samples, columns, width > COLUMNS, classes)


def _meta(npz: zipfile.ZipFile) -> dict[str, Any]:
    with npz.open("meta_json.npy") as member:
        meta = json.loads(str(np.lib.format.read_array(member, allow_pickle=False)))
    return meta if isinstance(meta, dict) else {}


def _head(npz: zipfile.ZipFile, name: str) -> tuple[tuple[int, ...], np.ndarray]:
    """An array's shape and its first rows: ``HEAD_BYTES`` worth, at least ``IMAGES``, read without the rest."""
    with npz.open(f"{name}.npy") as member:
        version = np.lib.format.read_magic(member)
        readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
        if version not in readers:
            member.seek(0)
            array = np.lib.format.read_array(member, allow_pickle=False)
            return array.shape, array[: _rows_wanted(array.shape, array.dtype)]
        shape, fortran_order, dtype = readers[version](member)
        if fortran_order or dtype.hasobject or not shape:
            member.seek(0)
            array = np.lib.format.read_array(member, allow_pickle=False)
            return array.shape, array[: _rows_wanted(shape, dtype)] if shape else array
        rows = _rows_wanted(shape, dtype)
        size = rows * math.prod(shape[1:]) * dtype.itemsize
        payload = member.read(size)
    return tuple(shape), np.frombuffer(payload, dtype=dtype).reshape((rows, *shape[1:]))


def _rows_wanted(shape: tuple[int, ...], dtype: np.dtype) -> int:
    row_bytes = max(1, math.prod(shape[1:]) * dtype.itemsize)
    return min(shape[0], max(IMAGES, HEAD_BYTES // row_bytes))


def _dtype_name(dtype: np.dtype) -> str:
    return "str" if dtype.kind == "U" else dtype.name


def _kind(x: np.ndarray, meta: dict[str, Any]) -> str:
    if x.dtype.kind == "U":
        return "text" if x.ndim == 1 else "array"
    if x.dtype.kind not in "fiub":
        return "array"
    if _image_shape(x, meta) is not None:
        return "image"
    return "table" if x.ndim == 2 else "array"


def _image_shape(x: np.ndarray, meta: dict[str, Any]) -> tuple[int, int, int] | None:
    """C×H×W of one image: an N×C×H×W array (C is 1 or 3), or rows whose meta["image_shape"] says so."""
    shape: tuple[int, ...] = tuple(x.shape[1:]) if x.ndim == 4 else ()
    declared = meta.get("image_shape")
    if x.ndim == 2 and isinstance(declared, list) and all(isinstance(n, int) and n > 0 for n in declared):
        shape = tuple(declared) if math.prod(declared) == x.shape[1] else ()
    if len(shape) == 2:
        shape = (1, *shape)
    if len(shape) == 3 and shape[0] in (1, 3) and min(shape[1:]) >= 4:
        return shape[0], shape[1], shape[2]
    return None


def _as_images(x: np.ndarray, meta: dict[str, Any]) -> np.ndarray:
    shape = _image_shape(x, meta)
    assert shape is not None
    return x.reshape((len(x), *shape))


def _image_samples(images: np.ndarray, y: np.ndarray, classes: tuple[str, ...]) -> tuple[Sample, ...]:
    """Up to ``IMAGES`` samples, taking the classes in turn, so that a sorted dataset shows them all."""
    order = _classes_in_turn(y[: len(images)]) if y.ndim == 1 and y.dtype.kind in "iu" else range(len(images))
    samples = []
    for i in list(order)[:IMAGES]:
        uri, width, height = _png(images[i])
        samples.append(Sample((), _label(y[i], classes) if i < len(y) else "", uri, width, height))
    return tuple(samples)


def _classes_in_turn(y: np.ndarray) -> list[int]:
    queues = [list(np.flatnonzero(y == label)) for label in np.unique(y)]
    order: list[int] = []
    while any(queues) and len(order) < IMAGES:
        order += [int(queue.pop(0)) for queue in queues if queue]
    return order


def _png(image: np.ndarray) -> tuple[str, int, int]:
    """A C×H×W image as a PNG data URI, and its size: values in [0, 1] as they are, others stretched."""
    pixels = np.nan_to_num(image.astype(np.float64))
    low, high = float(pixels.min()), float(pixels.max())
    if low < 0 or high > 1:
        pixels = (pixels - low) / (high - low) if high > low else np.zeros_like(pixels)
    channels = (pixels * 255).round().astype(np.uint8)
    picture = Image.fromarray(channels[0]) if len(channels) == 1 else Image.fromarray(channels.transpose(1, 2, 0))
    picture.thumbnail((PIXELS, PIXELS))
    factor = PIXELS // max(picture.size)
    if factor > 1:  # 8×8 digits: scaled up here, sharp, rather than blurred by a browser
        picture = picture.resize((picture.width * factor, picture.height * factor), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii"), *picture.size


def _label(value: Any, classes: tuple[str, ...]) -> str:
    array = np.asarray(value)
    if array.ndim > 0:
        values = [_number(v) for v in array.ravel()[:COLUMNS]]
        return " ".join(values) + (" …" if array.size > COLUMNS else "")
    if array.dtype.kind == "U":
        return _text(str(array))
    if array.dtype.kind in "iu" and 0 <= int(array) < len(classes):
        return classes[int(array)]
    return _number(array)


def _number(value: Any) -> str:
    array = np.asarray(value)
    if array.dtype.kind in "iub":
        return str(int(array))
    if array.dtype.kind == "f":
        return f"{float(array):.4g}"
    return _text(str(array))


def _text(text: str) -> str:
    return text if len(text) <= TEXT_CHARS else text[:TEXT_CHARS] + "…"
