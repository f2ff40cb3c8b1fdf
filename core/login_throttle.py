"""Sign-in throttling: after ``LOGIN_MAX_FAILURES`` wrong passwords for one username, or from one
address, within ``LOGIN_LOCK_SECONDS``, further attempts are refused with a clear message until
the window has passed — even with the right password, so guessing gains nothing. A successful
sign-in clears the username's count. Counts live in the cache (set ``CACHE_URL`` to a shared
cache such as Redis when several web processes run)."""

from __future__ import annotations

import hashlib
import math
import time

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response


def _key(kind: str, value: str) -> str:
    return f"login-failures:{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"


def _client_ip(request: HttpRequest | None) -> str:
    return (request.META.get("REMOTE_ADDR") or "") if request is not None else ""


def _keys(username: str, request: HttpRequest | None) -> list[str]:
    return [_key("user", username.strip().lower()), _key("ip", _client_ip(request))]


def locked_for(username: str, request: HttpRequest | None) -> int:
    """Seconds until sign-in is allowed again (0: allowed now)."""
    now = time.time()
    waits = []
    for key in _keys(username, request):
        failures = [t for t in cache.get(key, []) if now - t < settings.LOGIN_LOCK_SECONDS]
        if len(failures) >= settings.LOGIN_MAX_FAILURES:
            waits.append(settings.LOGIN_LOCK_SECONDS - (now - failures[-settings.LOGIN_MAX_FAILURES]))
    return math.ceil(max(waits, default=0))


def failure_record(username: str, request: HttpRequest | None) -> None:
    now = time.time()
    for key in _keys(username, request):
        recent = [t for t in cache.get(key, []) if now - t < settings.LOGIN_LOCK_SECONDS]
        cache.set(key, [*recent, now][-settings.LOGIN_MAX_FAILURES :], settings.LOGIN_LOCK_SECONDS)


def failures_clear(username: str) -> None:
    cache.delete(_key("user", username.strip().lower()))


def locked_message(wait: int) -> str:
    minutes = max(1, math.ceil(wait / 60))
    return _("Too many failed sign-ins. Try again in %(minutes)s minutes, or reset your password.") % {
        "minutes": minutes
    }


class ThrottledAuthenticationForm(AuthenticationForm):
    def clean(self) -> dict:
        username = self.cleaned_data.get("username") or ""
        wait = locked_for(username, self.request)
        if wait:
            raise forms.ValidationError(locked_message(wait), code="throttled")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            failure_record(username, self.request)
            raise
        failures_clear(username)
        return cleaned


class ThrottledObtainAuthToken(ObtainAuthToken):
    """The API's sign-in (a username and password for a token), locked like the sign-in page: the
    same counts, so guessing through one does not dodge the lock of the other."""

    def post(self, request: Request, *args: object, **kwargs: object) -> Response:
        data = request.data if hasattr(request.data, "get") else {}
        username = str(data.get("username") or "")
        wait = locked_for(username, request)
        if wait:
            return Response(
                {"errors": [locked_message(wait)]},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(wait)},
            )
        serializer = self.get_serializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except ValidationError:
            if username and data.get("password"):  # a wrong password, not a malformed request
                failure_record(username, request)
            raise
        failures_clear(username)
        token, _created = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})
