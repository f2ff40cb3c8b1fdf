"""Sign-in throttling: after ``LOGIN_MAX_FAILURES`` wrong passwords for one username, or from one
address, within ``LOGIN_LOCK_SECONDS``, further attempts are refused with a clear message until
the window has passed — even with the right password, so guessing gains nothing. A successful
sign-in clears the username's count. Counts live in the shared cache (``CACHE_URL``), so every web
process sees them, and in a copy inside the process: the shared cache fails open (``core.cache``),
and an outage of it must not lift the lock, so each process then still counts what it saw."""

from __future__ import annotations

import hashlib
import math
import time

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpRequest
from django.utils.translation import gettext as _

_local = LocMemCache("login-throttle", {"OPTIONS": {"MAX_ENTRIES": 10_000}})


def _failures(key: str, now: float) -> list[float]:
    """The recent failures of ``key``: the shared count joined with this process's own."""
    seen = set(cache.get(key, [])) | set(_local.get(key, []))
    return sorted(t for t in seen if now - t < settings.LOGIN_LOCK_SECONDS)


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
        failures = _failures(key, now)
        if len(failures) >= settings.LOGIN_MAX_FAILURES:
            waits.append(settings.LOGIN_LOCK_SECONDS - (now - failures[-settings.LOGIN_MAX_FAILURES]))
    return math.ceil(max(waits, default=0))


def failure_record(username: str, request: HttpRequest | None) -> None:
    now = time.time()
    for key in _keys(username, request):
        recent = [*_failures(key, now), now][-settings.LOGIN_MAX_FAILURES :]
        cache.set(key, recent, settings.LOGIN_LOCK_SECONDS)
        _local.set(key, recent, settings.LOGIN_LOCK_SECONDS)


def failures_clear(username: str) -> None:
    key = _key("user", username.strip().lower())
    cache.delete(key)
    _local.delete(key)


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
