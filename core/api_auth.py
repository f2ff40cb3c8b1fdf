"""The API's personal tokens: ``Authorization: Token <key>`` or ``Authorization: Bearer <key>``.

This class comes first in ``DEFAULT_AUTHENTICATION_CLASSES``: DRF asks the first class for the
``WWW-Authenticate`` header, and only with one does a refusal answer 401 rather than 403. Session
sign-in (with its CSRF check) comes after it and is unchanged."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from core import selectors, services
from core.models import ApiToken, User

KEYWORDS = (b"token", b"bearer")


def invalid_token_message(request: Request) -> str:
    url = request.build_absolute_uri(reverse("api_tokens"))
    return _("Invalid or revoked API token. Create a new one at %(url)s.") % {"url": url}


class ApiTokenAuthentication(BaseAuthentication):
    """A request with a token header is the token's owner's, or is refused (401) with a message
    saying where to make a new token. A request without one is left to the next class."""

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        words = get_authorization_header(request).split()
        if not words or words[0].lower() not in KEYWORDS:
            return None
        if len(words) != 2:
            raise AuthenticationFailed(invalid_token_message(request))
        token = selectors.token_by_key(key=words[1].decode("latin-1"))
        if token is None or token.is_revoked or not token.user.is_active:
            raise AuthenticationFailed(invalid_token_message(request))
        services.token_touch(token=token)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return "Token"


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """How the API description (drf-spectacular) presents the tokens."""

    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'A personal API token (made on /accounts/tokens/), as "Token <key>" or "Bearer <key>".',
        }
