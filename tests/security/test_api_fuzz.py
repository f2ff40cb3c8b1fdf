"""Schemathesis against the API's own description (/api/schema/, drf-spectacular): every operation,
called in-process through the WSGI application with a learner's token and an administrator's, with
generated valid and invalid requests. No answer may be a server error, and a documented answer must
match its schema."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.throttling import SimpleRateThrottle
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from core.services import token_create
from tests.security import world as fixtures
from tests.security.world import World

_world_of_the_module, world = fixtures._world_of_the_module, fixtures.world  # the fixtures used here

# Requests per operation and persona: valid ones (per the schema) and invalid ones (wrong types,
# missing fields, out-of-range values), which must be refused with a 4xx, never a 500.
EXAMPLES = {GenerationMode.POSITIVE: 8, GenerationMode.NEGATIVE: 6}
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture
def same_connection(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The WSGI application would close the test's database connection after each request (Django's
    test client does this same disconnecting); and the rate limits would answer 429 after a few calls."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    logging.getLogger("django.request").setLevel(logging.ERROR)  # thousands of expected 4xx lines
    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {"anon": "100000/minute", "user": "100000/minute", "submissions": "100000/minute"},
    )
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
    logging.getLogger("django.request").setLevel(logging.NOTSET)


def can_be_invalid(operation: schemathesis.APIOperation) -> bool:
    """A body, or a parameter that is not a free string: something a request can get wrong."""
    if len(operation.body):
        return True
    parameters = [*operation.query, *operation.path_parameters]
    return any(parameter.definition.get("schema", {}).get("type") != "string" for parameter in parameters)


@pytest.mark.django_db
@pytest.mark.usefixtures("same_connection")
@pytest.mark.parametrize("persona", ["learner", "admin_user"])
def test_no_generated_request_gets_a_server_error(world: World, persona: str) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler())
    _token, key = token_create(user=world.users[persona], name="schemathesis")
    headers = {"Authorization": f"Token {key}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    cases = 0
    failures: list[str] = []

    for operation, mode in itertools.product(operations, EXAMPLES):
        if mode == GenerationMode.NEGATIVE and not can_be_invalid(operation):
            continue  # e.g. only a slug in the path: every string is valid, no invalid request exists

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES[mode],
            deadline=None,
            derandomize=True,  # the same cases every run: CI stays reproducible
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
        )
        def call(case: schemathesis.Case) -> None:
            nonlocal cases
            cases += 1
            response = case.call(headers=headers)
            case.validate_response(response, checks=CHECKS, headers=headers)

        try:
            call()
        except (Exception, BaseExceptionGroup) as failure:  # noqa: BLE001 - try every operation, report all
            failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {failure}")
    assert failures == [], "\n\n".join(failures)
    assert len(operations) >= 30  # every operation of every app
    print(f"schemathesis ({persona}): {len(operations)} operations, {cases} cases")
