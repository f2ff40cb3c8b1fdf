"""Security headers on every answer (a Content-Security-Policy without inline script or style,
nosniff, Referrer-Policy, framing refused, COOP, CORP, Permissions-Policy), and no inline code in
any page for that policy to block. The browser side (no violation reported while the journeys run,
the API docs and the admin work): tests/e2e/conftest.py and tests/e2e/test_security_headers.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.http import HttpResponse

from core.models import User
from tests.security import world as fixtures
from tests.security.endpoints import ROWS
from tests.security.world import World, client_for

_world_of_the_module, world = fixtures._world_of_the_module, fixtures.world  # the fixtures used here

REPO = Path(__file__).resolve().parents[2]

EXPECTED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
# Executable inline code in a page: a <script> without src (JSON data blocks are not executed),
# a <style> element, a style="..." attribute, an on...="..." handler, a javascript: URL.
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"(href|src|action)\s*=\s*[\"']?\s*javascript:", re.IGNORECASE)


def header_problems(response: HttpResponse) -> list[str]:
    problems = [
        f"{name}: {response.headers.get(name)!r}"
        for name, value in EXPECTED_HEADERS.items()
        if response.headers.get(name) != value
    ]
    csp = response.headers.get("Content-Security-Policy", "")
    directives = dict([*part.strip().split(" ", 1), ""][:2] for part in csp.split(";") if part.strip())
    for name, value in {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "frame-ancestors": "'none'",
    }.items():
        if directives.get(name) != value:
            problems.append(f"CSP {name}: {directives.get(name)!r} in {csp!r}")
    if "camera=()" not in response.headers.get("Permissions-Policy", ""):
        problems.append(f"Permissions-Policy: {response.headers.get('Permissions-Policy')!r}")
    return problems


def inline_code(html: str) -> list[str]:
    return [m.group(0)[:80] for pattern in (INLINE_SCRIPT, INLINE_STYLE, INLINE_HANDLER, JAVASCRIPT_URL)
            for m in pattern.finditer(html)]  # fmt: skip


@pytest.mark.django_db
def test_every_page_and_endpoint_answers_with_the_security_headers_and_no_inline_code(world: World) -> None:
    """Every GET row of the authorization table, as a persona it grants and as an anonymous visitor
    (a page, a redirect, a 401/403/404), plus the schema, the docs, the admin and a 404."""
    requests = []
    for row in ROWS:
        if row.method != "get":
            continue
        personas = {row.allowed[0] if row.allowed else "anonymous", "anonymous"}
        requests += [(row.name, persona, row.url(world), row.api) for persona in sorted(personas)]
    requests += [
        ("schema", "learner", "/api/schema/", True),
        ("docs", "anonymous", "/api/docs/", False),
        ("docs script", "anonymous", "/api/docs/?script=", False),
        ("admin", "superuser", "/admin/", False),
        ("admin change list", "superuser", "/admin/courses/course/", False),
        ("admin add form", "superuser", "/admin/courses/course/add/", False),
        ("admin sign-in", "anonymous", "/admin/login/", False),
        ("missing page", "learner", "/no/such/page/", False),
        ("missing API object", "learner", "/api/v1/runs/999999/", True),
    ]
    superuser = world.users["admin_user"]
    User.objects.filter(pk=superuser.pk).update(is_superuser=True)  # sees every model in Django's admin
    failures, html_pages = [], 0
    for name, persona, url, api in requests:
        client = client_for(world, "admin_user" if persona == "superuser" else persona, api=api)
        response = client.get(url)
        problems = header_problems(response)
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            html_pages += 1
            body = response.content.decode()
            problems += [f"inline code {snippet!r}" for snippet in inline_code(body)]
        if problems:
            failures.append(f"{name} as {persona} ({url} -> {response.status_code}): {problems}")
    assert failures == []
    assert len(requests) > 60 and html_pages > 25  # the walk really covered the site


def test_no_template_or_script_carries_inline_code() -> None:
    """The source the pages come from: our templates, and scripts that write HTML."""
    templates = [*REPO.glob("templates/**/*.html"), *REPO.glob("*/templates/**/*.html")]
    found = {str(path.relative_to(REPO)): inline_code(path.read_text()) for path in templates}
    assert {path: snippets for path, snippets in found.items() if snippets} == {}
    assert len(templates) > 30
    for script in REPO.glob("static/js/*.js"):
        text = script.read_text()
        assert "eval(" not in text and "new Function" not in text, script
        assert not re.search(r"innerHTML\s*=.*style=", text), script
