"""Personal API tokens: made and revoked on /accounts/tokens/, shown once, stored hashed, accepted as
``Token`` or ``Bearer``; a bad one answers 401 saying where to make a new one."""

from __future__ import annotations

import hashlib
import importlib
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import ApiToken, User
from core.services import token_create, token_revoke
from tests.factories import PASSWORD

PAGE = "/accounts/tokens/"
ME = "/api/v1/me/"
INVALID = "Invalid or revoked API token. Create a new one at http://testserver/accounts/tokens/."


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def key_on(page: str) -> str:
    match = re.search(r'value="([^"]+)"[^>]*data-testid="new-token-key"', page)
    assert match, "the new key is not on the page"
    return match.group(1)


def with_key(key: str, keyword: str = "Token") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {key}")
    return client


def every_stored_value() -> str:
    """Every column of every API token row and every session, as text: where a key must not be."""
    rows = [repr(row) for row in ApiToken.objects.values_list()]
    with connection.cursor() as cursor:
        cursor.execute("SELECT session_data FROM django_session")
        rows += [row[0] for row in cursor.fetchall()]
    return "\n".join(rows)


# --- the page ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_token_made_on_the_page_is_shown_once_and_stored_only_as_a_hash(learner: User) -> None:
    client = signed_in(learner)
    made = client.post(PAGE, {"name": "my laptop"})
    assert made.status_code == 200
    assert "no-store" in made["Cache-Control"]  # the page with the key is not kept by the browser
    key = key_on(made.content.decode())
    assert key.startswith("aca_") and len(key) >= 40
    token = ApiToken.objects.get()
    assert (token.user, token.name, token.prefix) == (learner, "my laptop", key[:12])
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in every_stored_value()

    again = client.get(PAGE).content.decode()
    assert key not in again  # never shown a second time
    assert "my laptop" in again and f"{token.prefix}…" in again and "never" in again


@pytest.mark.django_db
def test_the_page_shows_copy_paste_examples_with_the_new_key(learner: User) -> None:
    page = signed_in(learner).post(PAGE, {"name": "colab"}).content.decode()
    key = key_on(page)
    assert f"export ACADEMY_TOKEN={key}" in page
    assert """-F file=@solution.py -F 'params={"epochs":5}'""" in page
    assert "--data-binary @solution.py" in page and "Content-Type: text/x-python" in page
    assert "http://testserver/api/v1/labs/digits-mlp/submissions/" in page
    assert 'src="/static/js/tokens.js"' in page


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_token_needs_a_name_of_at_most_100_characters(learner: User, name: str) -> None:
    answer = signed_in(learner).post(PAGE, {"name": name})
    assert answer.status_code == 400
    assert 'class="errorlist"' in answer.content.decode()
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_the_page_needs_a_sign_in_and_lists_only_ones_own_tokens(learner: User, other_learner: User) -> None:
    assert Client().get(PAGE)["Location"].startswith("/accounts/login/")
    token_create(user=learner, name="lena's laptop")
    token_create(user=other_learner, name="omar's laptop")
    page = signed_in(learner).get(PAGE).content.decode()
    assert "lena&#x27;s laptop" in page and "omar" not in page


@pytest.mark.django_db
def test_the_profile_page_and_the_footer_link_to_the_tokens(learner: User) -> None:
    page = signed_in(learner).get("/accounts/profile/").content.decode()
    assert 'data-testid="profile-api-tokens"' in page and 'data-testid="footer-api-tokens"' in page


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_pages_render_in_both_languages(learner: User, language: str) -> None:
    learner.preferred_language = language
    learner.save()
    token, _key = token_create(user=learner, name="laptop")
    client = signed_in(learner)
    assert client.get(PAGE).status_code == 200
    assert client.get(f"{PAGE}{token.pk}/revoke/").status_code == 200


@pytest.mark.django_db
def test_revoking_asks_first_then_the_token_is_refused(learner: User) -> None:
    token, key = token_create(user=learner, name="old laptop")
    assert with_key(key).get(ME).status_code == 200
    client = signed_in(learner)
    confirm = client.get(f"{PAGE}{token.pk}/revoke/")
    assert confirm.status_code == 200 and "old laptop" in confirm.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None  # asking changes nothing

    revoked = client.post(f"{PAGE}{token.pk}/revoke/", follow=True)
    assert revoked.redirect_chain[-1][0] == PAGE
    assert "was revoked" in revoked.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert with_key(key).get(ME).status_code == 401
    again = client.post(f"{PAGE}{token.pk}/revoke/", follow=True)
    assert "already revoked" in again.content.decode()


@pytest.mark.django_db
def test_another_users_token_cannot_be_revoked(learner: User, other_learner: User) -> None:
    token, key = token_create(user=other_learner, name="omar's laptop")
    client = signed_in(learner)
    assert client.get(f"{PAGE}{token.pk}/revoke/").status_code == 404
    assert client.post(f"{PAGE}{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert with_key(key).get(ME).json()["username"] == other_learner.username


@pytest.mark.django_db
def test_only_the_owner_or_an_administrator_may_revoke(learner: User, other_learner: User, admin_user: User) -> None:
    token, _key = token_create(user=learner, name="laptop")
    with pytest.raises(PermissionDenied):
        token_revoke(token=token, by=other_learner)
    token_revoke(token=token, by=admin_user)
    first = token.revoked_at
    assert first is not None
    token_revoke(token=token, by=learner)
    assert token.revoked_at == first  # revoking twice keeps the first time


# --- the API ----------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("keyword", ["Token", "Bearer", "bearer"])
def test_a_token_works_as_token_or_bearer(learner: User, keyword: str) -> None:
    _token, key = token_create(user=learner, name="laptop")
    answer = with_key(key, keyword).get(ME)
    assert answer.status_code == 200
    assert answer.json()["username"] == learner.username


@pytest.mark.django_db
def test_a_token_needs_no_csrf_header(learner: User) -> None:
    _token, key = token_create(user=learner, name="laptop")
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.patch(ME, {"display_name": "Lena"}, format="json").status_code == 200


def _revoked(user: User) -> str:
    token, key = token_create(user=user, name="old")
    token_revoke(token=token, by=user)
    return f"Token {key}"


def _of_inactive(user: User) -> str:
    _token, key = token_create(user=user, name="laptop")
    User.objects.filter(pk=user.pk).update(is_active=False)
    return f"Bearer {key}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header",
    [
        lambda user: "Token aca_not-a-key-anyone-was-given",
        lambda user: "Bearer aca_not-a-key-anyone-was-given",
        _revoked,
        _of_inactive,
        lambda user: "Token",
        lambda user: "Token two words",
    ],
    ids=["unknown", "unknown bearer", "revoked", "inactive user", "no key", "spaces"],
)
def test_a_bad_token_is_a_401_saying_where_to_make_one(learner: User, header: object) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header(learner))
    answer = client.get(ME)
    assert answer.status_code == 401
    assert answer.json() == {"detail": INVALID}
    assert answer["WWW-Authenticate"] == "Token"


@pytest.mark.django_db
def test_no_credentials_is_a_401_too(db: None) -> None:
    answer = APIClient().get(ME)
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"] == "Token"


@pytest.mark.django_db
def test_a_session_still_works_and_still_needs_the_csrf_header(learner: User) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(learner)
    assert client.get(ME).json()["username"] == learner.username
    refused = client.patch(ME, {"display_name": "Lena"}, format="json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    client.get("/accounts/profile/")  # sets the CSRF cookie, as a browser would have it
    csrf = client.cookies["csrftoken"].value
    assert client.patch(ME, {"display_name": "Lena"}, format="json", headers={"X-CSRFToken": csrf}).status_code == 200


@pytest.mark.django_db
def test_last_use_is_written_at_most_once_a_minute(learner: User) -> None:
    token, key = token_create(user=learner, name="laptop")
    client = with_key(key)
    client.get(ME)
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None and timezone.now() - first < timedelta(seconds=10)
    with CaptureQueriesContext(connection) as queries:
        client.get(ME)
    assert not [q for q in queries if q["sql"].startswith("UPDATE")]  # no write on every request
    token.refresh_from_db()
    assert token.last_used_at == first

    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=2))
    client.get(ME)
    token.refresh_from_db()
    assert token.last_used_at > first
    page = signed_in(learner).get(PAGE).content.decode()
    assert timezone.localtime(token.last_used_at).strftime("%Y-%m-%d %H:%M") in page


# --- the API's sign-in: a username and password for a personal token ------------------------------


@pytest.mark.django_db
def test_signing_in_through_the_api_makes_a_named_personal_token(learner: User) -> None:
    api = APIClient()
    answer = api.post("/api/v1/auth/token/", {"username": learner.username, "password": PASSWORD, "name": "cli"})
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"token", "name", "created_at"} and body["name"] == "cli"
    token = ApiToken.objects.get()
    assert token.key_hash == ApiToken.hash_key(body["token"])
    assert with_key(body["token"]).get(ME).status_code == 200

    unnamed = api.post("/api/v1/auth/token/", {"username": learner.username, "password": PASSWORD}, format="json")
    assert unnamed.json()["name"].startswith("API sign-in 20")
    assert unnamed.json()["token"] != body["token"]  # a new token each time, each revocable on its own
    assert ApiToken.objects.filter(user=learner).count() == 2


@pytest.mark.django_db
def test_signing_in_through_the_api_ignores_a_stale_token(learner: User) -> None:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=_revoked(learner))
    answer = api.post("/api/v1/auth/token/", {"username": learner.username, "password": PASSWORD})
    assert answer.status_code == 200


@pytest.mark.django_db
def test_a_wrong_password_is_a_400_with_a_message(learner: User) -> None:
    answer = APIClient().post("/api/v1/auth/token/", {"username": learner.username, "password": "guess"})
    assert answer.status_code == 400
    assert answer.json() == {"non_field_errors": ["Unable to log in with provided credentials."]}
    assert not ApiToken.objects.exists()


# --- tokens made by DRF's authtoken app before personal tokens ---------------------------------------


@pytest.mark.django_db
def test_drf_tokens_are_imported_hashed_and_the_old_table_emptied(learner: User) -> None:
    migration = importlib.import_module("core.migrations.0005_api_tokens")
    old_key = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        cursor.execute('CREATE TABLE authtoken_token ("key" varchar(40) PRIMARY KEY, "user_id" integer NOT NULL)')
        cursor.execute('INSERT INTO authtoken_token ("key", "user_id") VALUES (%s, %s)', [old_key, learner.pk])
    migration.drf_tokens_import(apps, SimpleNamespace(connection=connection))
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM authtoken_token")
        assert cursor.fetchone()[0] == 0  # no key left in clear
        cursor.execute("DROP TABLE authtoken_token")
    assert old_key not in every_stored_value()
    assert with_key(old_key).get(ME).json()["username"] == learner.username  # old clients keep working


@pytest.mark.django_db
def test_importing_drf_tokens_without_their_table_does_nothing(db: None) -> None:
    migration = importlib.import_module("core.migrations.0005_api_tokens")
    migration.drf_tokens_import(apps, SimpleNamespace(connection=connection))
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_an_administrator_revokes_a_leaked_token_in_the_admin(learner: User, admin_user: User) -> None:
    User.objects.filter(pk=admin_user.pk).update(is_superuser=True)
    token, key = token_create(user=learner, name="leaked laptop")
    client = signed_in(admin_user)
    listing = client.get("/admin/core/apitoken/").content.decode()
    assert "leaked laptop" in listing and token.key_hash not in listing
    assert client.get("/admin/core/apitoken/add/").status_code == 403  # only the owner makes tokens
    client.post("/admin/core/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert with_key(key).get(ME).status_code == 401
