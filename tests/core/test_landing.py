"""The page a visitor lands on: what there is to learn, before signing in."""

from __future__ import annotations

import pytest
from django.test import Client

from core.templatetags.platform_tags import summary
from labs.models import Lab
from tests.factories import CourseFactory
from tests.labs.conftest import tiny_lab_create


@pytest.mark.django_db
def test_the_landing_page_shows_published_courses_and_labs_and_what_there_is(
    client: Client, settings: object, tmp_path: object
) -> None:
    settings.DATASET_STORAGE_DIR = tmp_path
    tiny_lab_create()
    CourseFactory(slug="visible", title_en="Gradient descent by hand")
    CourseFactory(slug="hidden", title_en="A course in the making", published=False)
    Lab.objects.create(slug="draft", title_en="A lab in the making", starter_code="", metric="accuracy", threshold=1)

    html = client.get("/").content.decode()

    assert "Gradient descent by hand" in html and "A course in the making" not in html
    assert 'data-testid="lab-tiny"' in html and "Classify points." in html  # the lab's summary, as text
    assert "A lab in the making" not in html
    assert "1 course · " in " ".join(html.split()) and "1 lab · " in " ".join(html.split())
    assert 'href="/accounts/login/"' in html


@pytest.mark.django_db
def test_an_empty_platform_says_so_instead_of_showing_nothing(client: Client) -> None:
    html = client.get("/").content.decode()

    assert "No courses are published yet." in html and "No labs are published yet." in html


def test_a_card_summary_is_the_first_prose_paragraph_as_plain_text_cut_to_length() -> None:
    text = "# Title\n\n$$x^2$$\n\n- a list\n\nThe **first** paragraph, with [a link](/x).\n\nThe second."

    assert summary(text) == "The first paragraph, with a link."
    assert summary("word " * 100, 40).endswith("…") and len(summary("word " * 100, 40)) <= 40
    assert summary("") == ""
