"""Publishing a lab's data stores it once, named by its content, and brings a lost file back."""

from __future__ import annotations

import pytest

from labs.datasets import dataset_open, dataset_storage
from labs.models import Lab
from tests.labs.conftest import tiny_dataset_publish

pytestmark = pytest.mark.django_db


def test_the_same_data_published_again_is_the_same_version(lab: Lab) -> None:
    assert tiny_dataset_publish(lab) == lab.dataset
    assert lab.datasets.count() == 1


def test_publishing_the_same_data_again_restores_a_lost_file(lab: Lab) -> None:
    dataset = lab.dataset
    dataset_storage().delete(dataset.file_name)  # a wiped volume, a bucket emptied by mistake
    assert not dataset_storage().exists(dataset.file_name)
    assert tiny_dataset_publish(lab) == dataset  # the seed or an import runs again
    with dataset_open(dataset) as handle:
        assert handle.read(4) == b"PK\x03\x04"  # the .npz (a zip) is back
