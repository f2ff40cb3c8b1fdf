import re

import pytest
from django.core import mail
from django.test import Client

from core.models import User
from tests.factories import PASSWORD


@pytest.mark.django_db
def test_login_and_logout(client: Client, learner: User) -> None:
    response = client.post("/accounts/login/", {"username": learner.username, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").context["user"] == learner
    client.post("/accounts/logout/")
    assert not client.get("/").context["user"].is_authenticated


@pytest.mark.django_db
def test_wrong_password_is_refused_with_a_message(client: Client, learner: User) -> None:
    response = client.post("/accounts/login/", {"username": learner.username, "password": "nope"})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()


@pytest.mark.django_db
def test_password_change(client: Client, learner: User) -> None:
    client.force_login(learner)
    response = client.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": "a-brand-new-pass-77", "new_password2": "a-brand-new-pass-77"},
    )
    assert response.status_code == 302
    learner.refresh_from_db()
    assert learner.check_password("a-brand-new-pass-77")


@pytest.mark.django_db
def test_password_reset_mails_a_working_link(client: Client, learner: User) -> None:
    client.post("/accounts/password_reset/", {"email": learner.email})
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    form_url = client.get(link).url  # Django swaps the token for a session-bound URL
    response = client.post(form_url, {"new_password1": "reset-pass-123!", "new_password2": "reset-pass-123!"})
    assert response.status_code == 302
    learner.refresh_from_db()
    assert learner.check_password("reset-pass-123!")


@pytest.mark.django_db
def test_profile_saves_name_and_language(client: Client, learner: User) -> None:
    client.force_login(learner)
    response = client.post(
        "/accounts/profile/", {"display_name": "Lena L.", "email": "lena@example.org", "preferred_language": "zh-hans"}
    )
    assert response.status_code == 302
    learner.refresh_from_db()
    assert (learner.display_name, learner.preferred_language) == ("Lena L.", "zh-hans")


@pytest.mark.django_db
def test_profile_rejects_an_unknown_language(client: Client, learner: User) -> None:
    client.force_login(learner)
    response = client.post("/accounts/profile/", {"display_name": "x", "email": "", "preferred_language": "klingon"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
