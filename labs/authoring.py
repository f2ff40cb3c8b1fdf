"""Writes that make a lab from its definition, code and data: the demo labs (``labs.demo_seed``) and an
instructor's lab folder (``import_lab``, ``labs.lab_folder``) go through the same ``lab_save``; and the
way back, a lab as a folder (``export_lab``)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from django.db import transaction

from labs.datasets import dataset_arrays, dataset_files, dataset_publish, npz_bytes
from labs.lab_folder import LabFolder, Problem, definition_toml, hidden_is_secret
from labs.lab_spec import ARTIFACT_MAX_MB, DEFAULT_ARTIFACT_MAX_MB, LIMIT_KEYS, LabSplits
from labs.models import Lab
from skills.catalogue import unknown_skills
from skills.models import Skill


def hidden_seed_for(slug: str) -> int:
    """The secret seed of a secret-seeded lab's hidden test rows (``[data] hidden = "secret-seed"``):
    the lab's own, kept in the database like its test labels (so a re-import draws the same rows), or a
    fresh random one for a lab that has none yet (``lab_save`` keeps it). Never in a file of the lab."""
    seed = Lab.objects.filter(slug=slug).values_list("hidden_seed", flat=True).first()
    return seed if seed is not None else secrets.randbits(63)


@transaction.atomic
def lab_save(
    *,
    definition: dict[str, Any],
    starter_code: str,
    solution_code: str,
    splits: LabSplits,
    scoring_code: str = "",
    files: dict[str, bytes] | None = None,
    published: bool | None = None,
    hidden_seed: int | None = None,
) -> Lab:
    """Create or update (by slug) the lab and publish its data as a new dataset version when it changed
    (runs keep the version they ran on). ``published`` None leaves a known lab's state as it is (a new
    one is a draft). ``hidden_seed``: the secret seed the hidden test rows were built with, kept with
    the lab; with ``[data] hidden`` it says whether the lab is fit for ranking (``Lab.hidden_data``)."""
    defaults: dict[str, Any] = {
        "title_en": definition["title_en"],
        "title_zh": definition["title_zh"],
        "description_en": definition["description_en"],
        "description_zh": definition["description_zh"],
        "starter_code": starter_code,
        "reference_solution": solution_code,
        "params": definition.get("params", {}),
        "metric": definition["metric"],
        "metric_options": definition.get("metric_options", {}),
        "scoring_code": scoring_code,
        "higher_is_better": definition["higher_is_better"],
        "threshold": definition["threshold"],
        "device_class": definition["device_class"],
        "submissions_per_day": definition["submissions_per_day"],
        **{key: definition["limits"][key] for key in LIMIT_KEYS},
        "artifact_max_mb": definition["limits"].get(ARTIFACT_MAX_MB, DEFAULT_ARTIFACT_MAX_MB),
        "hidden_data": Lab.HiddenData.SECRET if hidden_is_secret(definition, hidden_seed) else Lab.HiddenData.PUBLIC,
    }
    if hidden_seed is not None:
        defaults["hidden_seed"] = hidden_seed
    if published is not None:
        defaults["published"] = False  # published again below, once the dataset is there
    lab, _ = Lab.objects.update_or_create(slug=definition["slug"], defaults=defaults)
    lab.skills.set(Skill.objects.filter(slug__in=definition.get("skills", [])))  # known: skills_problems
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
        files=files,
    )
    if published:
        lab.published = True  # after the dataset: a published lab always has one
        lab.save(update_fields=["published", "updated_at"])
    return lab


def skills_problems(definition: dict[str, Any]) -> list[Problem]:
    """The skills ``lab.toml`` names that the catalogue lacks (``skills.catalogue``)."""
    return [
        Problem(
            "lab.toml", f"skills: unknown skill {slug!r} (add it to the skill catalogue: import_skills, or the admin)"
        )
        for slug in unknown_skills(list(definition.get("skills", [])))
    ]


def lab_import(folder: LabFolder) -> Lab:
    """An instructor's lab, new or changed: a draft (administrators only) until its reference solution
    has passed on the platform (``labs.publishing.reference_run_start``)."""
    return lab_save(
        definition=folder.definition,
        starter_code=folder.starter_code,
        solution_code=folder.solution_code,
        splits=folder.data,
        scoring_code=folder.scoring_code,
        files=folder.files,
        published=False,
        hidden_seed=folder.hidden_seed,
    )


class ExportRefused(ValueError):
    """The lab cannot be written where asked (the message says why)."""


def lab_export(lab: Lab, folder: Path) -> list[Path]:
    """Write ``lab`` as a lab folder (its current dataset as ``data/data.npz``, the test labels included:
    the folder is for its authors). The same lab always gives the same bytes. Returns the files written."""
    if lab.dataset_id is None:
        raise ExportRefused(f"{lab.slug} has no dataset to export")
    if folder.exists() and any(folder.iterdir()):
        raise ExportRefused(f"{folder} exists and is not empty")
    arrays, meta = dataset_arrays(lab.dataset)
    data: dict[str, Any] = {"format": "npz", "meta": meta}
    if _has_null(meta):
        raise ExportRefused(f"{lab.slug}: its data.meta holds a null, which lab.toml cannot say")
    definition = {
        "slug": lab.slug,
        "title_en": lab.title_en,
        "title_zh": lab.title_zh,
        "metric": lab.metric,
        "threshold": float(lab.threshold),
        "higher_is_better": lab.higher_is_better,
        "device_class": lab.device_class,
        "submissions_per_day": lab.submissions_per_day,
        "skills": sorted(lab.skills.values_list("slug", flat=True)),
        "description_en": lab.description_en,
        "description_zh": lab.description_zh,
        "params": lab.params,
        "limits": {key: getattr(lab, key) for key in (*LIMIT_KEYS, ARTIFACT_MAX_MB)},
        "data": data,
    }
    extra = dataset_files(lab.dataset)
    if lab.metric_options:
        definition["metric_options"] = lab.metric_options
    if extra:
        definition["files"] = sorted(extra)
    order = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")
    files = {
        "lab.toml": definition_toml(definition).encode(),
        "starter.py": lab.starter_code.encode(),
        "solution.py": lab.reference_solution.encode(),
        "data/data.npz": npz_bytes({key: arrays[key] for key in order if key in arrays}),
        **({"score.py": lab.scoring_code.encode()} if lab.scoring_code else {}),
        **{f"files/{name}": payload for name, payload in sorted(extra.items())},
    }
    for name, payload in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(payload)
    return [folder / name for name in files]


def _has_null(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_null(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_null(item) for item in value)
    return value is None
