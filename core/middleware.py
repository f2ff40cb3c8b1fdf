from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.request import split_domain_port
from django.template.defaultfilters import filesizeformat
from django.utils import translation
from django.utils.translation import gettext as _


class UserLanguageMiddleware:
    """A signed-in user's saved language wins over the browser's and the cookie's."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        language = getattr(user, "preferred_language", "") if user and user.is_authenticated else ""
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if language:
            response.headers.setdefault("Content-Language", language)
        return response


class RequestSizeLimitMiddleware:
    """Refuse a request whose declared body exceeds ``MAX_REQUEST_BYTES`` with 413, before anything
    reads it. Django's own limits cover form fields only; DRF's JSON parser and file uploads read
    the stream whatever its size. (Without a Content-Length, Django reads no body at all.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            size = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            size = 0  # Django treats a malformed length as no body
        limit = settings.MAX_REQUEST_BYTES
        if size <= limit:
            return self.get_response(request)
        with translation.override(translation.get_language_from_request(request)):
            message = _("The request is too large (%(size)s); the limit is %(limit)s.") % {
                "size": filesizeformat(size),
                "limit": filesizeformat(limit),
            }
            return _refusal(request, message, status=413)


class NulInAddressMiddleware:
    """Refuse with 400 a request whose path or query string holds a NUL character. PostgreSQL cannot
    compare text holding one, so a lookup by it (a username in the path, a filter in the query) would
    be a server error. Form and API fields refuse NUL themselves, and Django decodes addresses with
    replacement, so no lone surrogate comes this way."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = [text for name, values in request.GET.lists() for text in (name, *values)]
        if not any("\x00" in text for text in (request.path, *query)):
            return self.get_response(request)
        with translation.override(translation.get_language_from_request(request)):
            return _refusal(request, _("The address holds a NUL character."), status=400)


def _refusal(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    """A refusal before any view runs, in the active language: JSON under /api/, plain text elsewhere."""
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"errors": [message]}, status=status)
    else:
        response = HttpResponse(message, content_type="text/plain; charset=utf-8", status=status)
    response.headers["Content-Language"] = translation.get_language()
    return response


class SecurityHeadersMiddleware:
    """The headers Django does not set itself, on every response: a Content-Security-Policy (no
    inline script or style: the templates load everything from /static/; ``content_security_policy``),
    a Permissions-Policy and
    a Cross-Origin-Resource-Policy; and X-Frame-Options on the responses that skip Django's own
    middleware (e.g. the 413 above)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", content_security_policy(request))
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if not getattr(response, "xframe_options_exempt", False):
            response.headers.setdefault("X-Frame-Options", settings.X_FRAME_OPTIONS)
        return response


def content_security_policy(request: HttpRequest) -> str:
    """``CONTENT_SECURITY_POLICY``, whose connect-src also allows the events server when it listens on
    a port of its own (``LIVE_EVENTS_PORT``): the page's host on that port, as static/js/live.js
    opens it. A host Django refuses gets the policy as it is."""
    policy, port = settings.CONTENT_SECURITY_POLICY, settings.LIVE_EVENTS_PORT
    if not port:
        return policy
    try:
        domain, _port = split_domain_port(request.get_host())
    except DisallowedHost:
        return policy
    if not domain:
        return policy
    origin = f"{request.scheme}://{domain}:{port}"
    return re.sub(r"connect-src ([^;]*)", lambda m: f"connect-src {m.group(1)} {origin}", policy, count=1)
