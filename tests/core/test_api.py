import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import AnonRateThrottle

from core.models import User
from tests.factories import PASSWORD


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.mark.django_db
def test_api_root_lists_entry_points(api: APIClient) -> None:
    body = api.get("/api/v1/").json()
    assert {"me", "token", "schema", "docs"} <= set(body)


@pytest.mark.django_db
def test_me_needs_authentication(api: APIClient) -> None:
    assert api.get("/api/v1/me/").status_code in (401, 403)


@pytest.mark.django_db
def test_token_authentication(api: APIClient, learner: User) -> None:
    token = api.post("/api/v1/auth/token/", {"username": learner.username, "password": PASSWORD}).json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    body = api.get("/api/v1/me/").json()
    assert body["username"] == learner.username
    assert body["role"] == "learner"


@pytest.mark.django_db
def test_session_authentication_and_update(api: APIClient, learner: User) -> None:
    api.force_login(learner)
    response = api.patch("/api/v1/me/", {"preferred_language": "zh-hans"}, format="json")
    assert response.status_code == 200
    assert response.json()["preferred_language"] == "zh-hans"
    assert api.patch("/api/v1/me/", {"preferred_language": "nope"}, format="json").status_code == 400


@pytest.mark.django_db
def test_anonymous_requests_are_throttled(api: APIClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "3/minute"})
    codes = [api.get("/api/v1/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


@pytest.mark.django_db
def test_openapi_schema_and_offline_docs(api: APIClient) -> None:
    schema = api.get("/api/schema/", {"format": "json"}).json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/me/" in schema["paths"]
    docs = api.get("/api/docs/").content.decode()
    assert "swagger-ui" in docs
    assert "cdn." not in docs  # vendored (drf-spectacular-sidecar), works offline


@pytest.mark.django_db
def test_openapi_schema_generates_without_warnings(tmp_path: object) -> None:
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert "/api/v1/labs/{slug}/submissions/" in (tmp_path / "schema.yml").read_text()
