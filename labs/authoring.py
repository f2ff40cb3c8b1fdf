"""Writes that make a lab from its definition, code and data: the demo labs (``labs.demo_seed``) and an
instructor's lab folder (``import_lab``, ``labs.lab_folder``) go through the same ``lab_save``."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from labs.datasets import dataset_publish
from labs.lab_folder import LabFolder
from labs.lab_spec import LIMIT_KEYS, LabSplits
from labs.models import Lab


@transaction.atomic
def lab_save(
    *,
    definition: dict[str, Any],
    starter_code: str,
    solution_code: str,
    splits: LabSplits,
    published: bool | None = None,
) -> Lab:
    """Create or update (by slug) the lab and publish its data as a new dataset version when it changed
    (runs keep the version they ran on). ``published`` None leaves a known lab's state as it is."""
    defaults: dict[str, Any] = {
        "title_en": definition["title_en"],
        "title_zh": definition["title_zh"],
        "description_en": definition["description_en"],
        "description_zh": definition["description_zh"],
        "starter_code": starter_code,
        "reference_solution": solution_code,
        "params": definition.get("params", {}),
        "metric": definition["metric"],
        "higher_is_better": definition["higher_is_better"],
        "threshold": definition["threshold"],
        "device_class": definition["device_class"],
        "submissions_per_day": definition["submissions_per_day"],
        **{key: definition["limits"][key] for key in LIMIT_KEYS},
    }
    if published is not None:
        defaults["published"] = published
    lab, _ = Lab.objects.update_or_create(slug=definition["slug"], defaults=defaults)
    dataset_publish(
        lab=lab,
        x_train=splits.x_train,
        y_train=splits.y_train,
        x_val=splits.x_val,
        y_val=splits.y_val,
        x_test=splits.x_test,
        y_test=splits.y_test,
        num_classes=splits.num_classes,
        meta=splits.meta,
    )
    return lab


def lab_import(folder: LabFolder) -> Lab:
    """An instructor's lab: saved as a draft (not published) until an administrator publishes it."""
    return lab_save(
        definition=folder.definition,
        starter_code=folder.starter_code,
        solution_code=folder.solution_code,
        splits=folder.data,
        published=False,
    )
