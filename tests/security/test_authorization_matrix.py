"""Who may open what: every page and API endpoint of every app (``tests.security.endpoints``), tried
by seven personas. An endpoint grants the personas listed for it and refuses everyone else (sign-in
redirect, 401, 403 or 404 — never the data); a refused write changes nothing in the database, and no
answer carries a secret (``World.secrets``) its reader must not see. The
table is complete by construction: a URL pattern without a row (or a stated exemption) fails."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from rest_framework.views import APIView

from tests.security import world as fixtures
from tests.security.endpoints import EXEMPT, EXEMPT_PREFIXES, ROWS, Row
from tests.security.world import PERSONAS, World, client_for, db_snapshot, snapshot_diff, verdict

_world_of_the_module, world = fixtures._world_of_the_module, fixtures.world  # the fixtures used here

OUR_APPS = ("core.", "courses.", "labs.", "mentorship.")
UNSAFE_HANDLERS = ("get", "post", "put", "patch", "delete")


def url_patterns(patterns: list | None = None, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    """(full route, pattern) for every URL pattern, through every include."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from url_patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def _exempt(route: str) -> bool:
    return route in EXEMPT or route.startswith(tuple(EXEMPT_PREFIXES))


def _api_methods(pattern: URLPattern) -> set[str]:
    """The HTTP methods one of our API views implements (Django's own views are not listed)."""
    view_class = getattr(pattern.callback, "view_class", None)
    if view_class is None or not issubclass(view_class, APIView) or not view_class.__module__.startswith(OUR_APPS):
        return set()
    return {method for method in UNSAFE_HANDLERS if hasattr(view_class, method)}


def send(row: Row, world: World, client: Client) -> HttpResponse:
    data = row.data(world) if row.data else None
    kwargs = {"format": "json"} if row.api and data is not None else {}
    return getattr(client, row.method)(row.url(world), data, **kwargs)


@pytest.mark.django_db
def test_every_url_pattern_has_a_row_or_a_stated_exemption(world: World) -> None:
    covered: dict[str, set[str]] = {}
    for row in ROWS:
        covered.setdefault(resolve(row.url(world).split("?")[0]).route, set()).add(row.method)
    missing, missing_methods = [], []
    for route, pattern in url_patterns():
        if _exempt(route):
            continue
        if route not in covered:
            missing.append(route)
        elif _api_methods(pattern) - covered[route]:
            missing_methods.append(f"{route} {sorted(_api_methods(pattern) - covered[route])}")
    assert not missing, f"URL patterns with no row in tests/security/endpoints.py: {missing}"
    assert not missing_methods, f"API methods with no row: {missing_methods}"


def test_every_exemption_names_a_real_url_pattern() -> None:
    routes = {route for route, _ in url_patterns()}
    assert set(EXEMPT) <= routes, set(EXEMPT) - routes
    assert all(any(r.startswith(prefix) for r in routes) for prefix in EXEMPT_PREFIXES)


@pytest.mark.django_db
@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_only_the_listed_personas_get_through(row: Row, world: World) -> None:
    refused = [p for p in PERSONAS if p not in row.allowed]
    clients = {p: client_for(world, p, api=row.api) for p in PERSONAS}  # signed in before the snapshot
    before = db_snapshot() if row.writes else None
    responses = {p: send(row, world, clients[p]) for p in refused}
    if before is not None:
        assert snapshot_diff(before, db_snapshot()) == [], "a refused request changed the database"
    for persona in row.allowed:
        if row.reset:
            row.reset(world)
        responses[persona] = send(row, world, clients[persona])
    leaks = {
        p: {s for s in world.forbidden_for(p) if s in r.content.decode(errors="replace")} for p, r in responses.items()
    }
    assert not any(leaks.values()), f"answers carry secrets their reader must not see: {leaks}"
    verdicts = {
        p: "refused" if p in row.invalid_for and r.status_code == 400 else verdict(r) for p, r in responses.items()
    }
    expected = {p: "granted" if p in row.allowed else "refused" for p in responses}
    assert verdicts == expected, {p: r.status_code for p, r in responses.items()}
