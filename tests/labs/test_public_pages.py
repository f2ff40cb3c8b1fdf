"""What anonymous visitors see of the labs: the published list and each published lab's page, read
only (like a competition's page on Kaggle): no submit form, no runs, no data, and a sign-in link that
comes back to the lab."""

from __future__ import annotations

import pytest
from django.test import Client

from core.models import User
from labs import services
from labs.models import Lab, Submission
from tests.labs.conftest import VALID_CODE

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft_lab(db: None) -> Lab:
    return Lab.objects.create(
        slug="secret-draft", title_en="A secret draft lab", published=False, metric="accuracy", threshold=0.5
    )


def test_anonymous_visitors_see_labs_in_the_top_bar(client: Client) -> None:
    assert 'href="/labs/" data-testid="nav-labs"' in client.get("/").content.decode()


def test_anonymous_visitors_browse_the_published_labs_only(client: Client, lab: Lab, draft_lab: Lab) -> None:
    response = client.get("/labs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="lab-tiny"' in html and "Tiny lab" in html
    assert "A secret draft lab" not in html and "secret-draft" not in html


def test_anonymous_visitors_read_a_lab_without_a_form_runs_or_data(client: Client, lab: Lab, learner: User) -> None:
    services.submission_create(learner=learner, lab=lab, source="web", code=f"{VALID_CODE}\n# lena's own code\n")
    response = client.get("/labs/tiny/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<strong>Classify</strong>" in html  # the description, its Markdown rendered
    assert 'data-testid="sign-in-to-submit-link"' in html and 'href="/accounts/login/?next=/labs/tiny/"' in html
    assert "<form" not in html.split("</header>", 1)[1]  # no submit form (the top bar's language switch aside)
    assert 'data-testid="submit-form"' not in html and 'name="code"' not in html
    assert "lena's own code" not in html and "Your runs of this lab" not in html
    assert 'data-testid="runs-left"' not in html and 'data-testid="data-preview"' not in html
    assert "editor.min.js" not in html


def test_an_unpublished_lab_is_not_found_for_anonymous_visitors(client: Client, draft_lab: Lab) -> None:
    assert client.get("/labs/secret-draft/").status_code == 404


def test_an_anonymous_submission_is_sent_to_sign_in_and_stores_nothing(client: Client, lab: Lab) -> None:
    response = client.post("/labs/tiny/", {"code": VALID_CODE})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/labs/tiny/"
    assert not Submission.objects.exists()


def test_signed_in_learners_still_get_the_form_and_their_runs(client: Client, lab: Lab, learner: User) -> None:
    client.force_login(learner)
    html = client.get("/labs/tiny/").content.decode()
    assert 'data-testid="submit-form"' in html and "Your runs of this lab" in html
    assert 'data-testid="data-preview"' in html and 'data-testid="runs-left"' in html
    assert 'data-testid="sign-in-to-submit"' not in html
