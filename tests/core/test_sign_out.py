"""Signing out makes the browser forget what the site kept in it (the editor's drafts): the response
says ``Clear-Site-Data: "storage"``, and the page loads static/js/signout.js for browsers that ignore it."""

from __future__ import annotations

import pytest
from django.test import Client

from core.models import User

pytestmark = pytest.mark.django_db


def test_signing_out_asks_the_browser_to_clear_the_sites_storage(client: Client, learner: User) -> None:
    client.force_login(learner)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response.url == "/"
    assert response["Clear-Site-Data"] == '"storage"'
    assert "_auth_user_id" not in client.session


def test_signing_out_is_still_a_post_only(client: Client, learner: User) -> None:
    client.force_login(learner)
    assert client.get("/accounts/logout/").status_code == 405
    assert "_auth_user_id" in client.session


def test_signed_in_pages_mark_the_sign_out_form_and_load_the_script_that_forgets_drafts(
    client: Client, learner: User
) -> None:
    assert "js/signout.js" not in client.get("/").content.decode()
    client.force_login(learner)
    html = client.get("/").content.decode()
    assert 'class="inline" data-signout data-testid="signout-form"' in html
    assert "js/signout.js" in html
