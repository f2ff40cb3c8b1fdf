"""The lab list's cards: a summary of each lab, and for a learner where they stand with it."""

from __future__ import annotations

import pytest
from django.test import Client

from core.models import Role
from labs.models import Lab
from tests.factories import UserFactory
from tests.mentorship.conftest import finished_run


def _second_lab(lab: Lab) -> Lab:
    return Lab.objects.create(
        **{f.name: getattr(lab, f.name) for f in Lab._meta.concrete_fields if f.name not in ("id", "slug", "title_en")},
        slug="second",
        title_en="Second lab",
    )


@pytest.mark.django_db
def test_a_learner_sees_which_labs_they_passed_and_which_they_only_tried(client: Client, lab: Lab) -> None:
    second = _second_lab(lab)
    learner, other = UserFactory(role=Role.LEARNER), UserFactory(role=Role.LEARNER)
    finished_run(learner, lab, passed=False)
    finished_run(learner, lab, passed=True)
    finished_run(learner, second, passed=False)
    finished_run(other, second, passed=True)  # someone else's pass is not theirs
    client.force_login(learner)

    html = client.get("/labs/").content.decode()

    assert 'data-testid="lab-status-tiny">passed<' in html
    assert 'data-testid="lab-status-second">tried<' in html
    assert "Classify points." in html  # the description's first paragraph, as text


@pytest.mark.django_db
def test_the_cards_cost_the_same_queries_for_one_lab_or_many(
    client: Client, lab: Lab, django_assert_max_num_queries: object
) -> None:
    learner = UserFactory(role=Role.LEARNER)
    client.force_login(learner)
    client.get("/labs/")
    for n in range(5):
        finished_run(learner, Lab.objects.create(**{**_fields(lab), "slug": f"lab-{n}"}), passed=bool(n % 2))
    with django_assert_max_num_queries(8):
        client.get("/labs/")


def _fields(lab: Lab) -> dict[str, object]:
    return {f.name: getattr(lab, f.name) for f in Lab._meta.concrete_fields if f.name not in ("id", "slug")}


@pytest.mark.django_db
def test_a_visitor_sees_the_cards_without_any_status(client: Client, lab: Lab) -> None:
    html = client.get("/labs/").content.decode()

    assert 'data-testid="lab-tiny"' in html and "lab-status-" not in html
