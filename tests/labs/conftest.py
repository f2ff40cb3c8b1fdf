from __future__ import annotations

import numpy as np
import pytest

from labs.datasets import dataset_publish
from labs.models import Dataset, Lab

VALID_CODE = """
import torch

def train(data, run):
    run.log(0, loss=1.0)
    return None

def predict(model, x):
    return torch.zeros(len(x))
"""


@pytest.fixture
def lab(db: None, tmp_path: object, settings: object) -> Lab:
    """A small classification lab with a real published dataset (10 hidden test labels)."""
    settings.DATASET_STORAGE_DIR = tmp_path
    return tiny_lab_create()


def tiny_lab_create() -> Lab:
    """The ``lab`` fixture's lab; its dataset goes to ``settings.DATASET_STORAGE_DIR``."""
    lab = Lab.objects.create(
        slug="tiny",
        title_en="Tiny lab",
        title_zh="小实验",
        description_en="**Classify** points.",
        starter_code=VALID_CODE,
        metric="accuracy",
        threshold=0.8,
        submissions_per_day=5,
        params={
            "epochs": {"type": "int", "default": 5, "min": 1, "max": 50},
            "lr": {"type": "float", "default": 0.1, "min": 0.0001, "max": 1.0},
        },
    )
    tiny_dataset_publish(lab)
    Lab.objects.filter(pk=lab.pk).update(published=True)  # a draft until it has its dataset
    lab.refresh_from_db()
    return lab


def tiny_dataset_publish(lab: Lab) -> Dataset:
    """The tiny lab's data (the same bytes every time): 30 training points, 10 hidden test labels."""
    rng = np.random.default_rng(0)
    return dataset_publish(
        lab=lab,
        x_train=rng.normal(size=(30, 2)).astype(np.float32),
        y_train=rng.integers(0, 3, 30),
        x_test=rng.normal(size=(10, 2)).astype(np.float32),
        y_test=np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0]),
        num_classes=3,
    )
