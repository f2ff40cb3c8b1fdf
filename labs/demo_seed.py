"""Load the four demo labs (definitions, reference solutions, generated data). Idempotent."""

from __future__ import annotations

from django.db import transaction

from core.models import User
from labs.datasets import dataset_publish
from labs.demo import DEMO_LAB_SLUGS, load_lab_definition
from labs.demo.builders import build_dataset
from labs.models import Lab, Submission
from labs.services import submission_create


@transaction.atomic
def demo_lab_seed(slug: str) -> Lab:
    definition = load_lab_definition(slug)
    limits = definition["limits"]
    lab, _ = Lab.objects.update_or_create(
        slug=slug,
        defaults={
            "title_en": definition["title_en"],
            "title_zh": definition["title_zh"],
            "description_en": definition["description_en"],
            "description_zh": definition["description_zh"],
            "starter_code": definition["starter_code"],
            "reference_solution": definition["solution_code"],
            "params": definition["params"],
            "metric": definition["metric"],
            "higher_is_better": definition["higher_is_better"],
            "threshold": definition["threshold"],
            "device_class": definition["device_class"],
            "submissions_per_day": definition["submissions_per_day"],
            **{key: limits[key] for key in ("wall_seconds", "memory_mb", "processes", "output_bytes", "disk_mb")},
        },
    )
    data = build_dataset(slug)
    dataset_publish(
        lab=lab,
        x_train=data.x_train,
        y_train=data.y_train,
        x_val=data.x_val,
        y_val=data.y_val,
        x_test=data.x_test,
        y_test=data.y_test,
        num_classes=data.num_classes,
        meta=data.meta,
    )
    return lab


def demo_labs_seed() -> list[Lab]:
    return [demo_lab_seed(slug) for slug in DEMO_LAB_SLUGS]


# What the demo learners have submitted when `make run` starts: (learner, lab, which code).
# The runs are real: they are queued here and the lab worker trains and scores them.
DEMO_SUBMISSIONS = (
    ("learner", "linear-regression", "solution"),
    ("learner", "digits-mlp", "starter"),
    ("learner", "digits-mlp", "solution"),
    ("learner2", "two-spirals", "solution"),
    ("learner2", "linear-regression", "starter"),
)


def demo_runs_seed() -> list[int]:
    """Queue the demo learners' submissions, once: a learner who already submitted is left alone."""
    learners = {u.username: u for u in User.objects.filter(username__in={name for name, *_ in DEMO_SUBMISSIONS})}
    done = set(Submission.objects.filter(learner__in=learners.values()).values_list("learner__username", flat=True))
    queued = []
    for username, slug, which in DEMO_SUBMISSIONS:
        if username not in learners or username in done:
            continue
        code = load_lab_definition(slug)[f"{which}_code"]
        lab = Lab.objects.get(slug=slug)
        run = submission_create(learner=learners[username], lab=lab, source=Submission.Source.CLI, code=code)
        queued.append(run.pk)
    return queued
