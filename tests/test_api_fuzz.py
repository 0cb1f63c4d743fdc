"""Property-based API test: schemathesis against the served OpenAPI schema, per role.

For the anonymous public, a dispatcher, a crew member and the SCADA gateway, every operation
that role can reach gets a bounded number of generated requests (valid per the schema, which
is as strict as the server), sent through the whole Django stack (middleware included). It
fails on any 5xx and on any answer the schema does not describe: its status, content type,
headers or body. Examples are derandomised (the same cases every run) and bounded, so the
four roles together stay within about a minute on a loaded machine.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.contrib.auth.models import User
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Per operation and role; with ~40 operations this is a few hundred requests per role.
EXAMPLES = 8
# A wall-clock budget per role: the remaining operations are still each tried once.
BUDGET_SECONDS = 12.0


@pytest.fixture
def api_schema(db: None) -> Iterator[Any]:
    """The served schema, its requests going through the WSGI handler in this thread.

    As Django's test client does, the handler must not close the database connection at the
    end of a request: the test's transaction (and its users and tokens) lives on it.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _operations(schema: Any) -> list[Any]:
    found = []
    for result in schema.get_all_operations():
        found.append(result.ok())
    return sorted(found, key=lambda op: (op.path, op.method))


def _run(schema: Any, headers: dict[str, str], keep) -> tuple[int, list[str]]:
    """Fuzz every operation ``keep(path)`` accepts; (requests sent, failures)."""
    failures: list[str] = []
    sent = 0
    started = time.monotonic()
    for operation in _operations(schema):
        if not keep(operation.path):
            continue
        examples = EXAMPLES if time.monotonic() - started < BUDGET_SECONDS else 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=examples,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
            print_blob=False,
        )
        def fuzz(case: Any) -> None:
            nonlocal sent
            sent += 1
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            fuzz()
        except Exception as exc:  # noqa: BLE001 - collected, reported together below
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:2000])
    return sent, failures


def _token(user: User) -> dict[str, str]:
    return {"Authorization": f"Token {Token.objects.create(user=user).key}"}


def _assert_clean(sent: int, failures: list[str], at_least: int) -> None:
    assert not failures, "\n\n".join(failures)
    assert sent >= at_least


def test_anonymous_callers_get_only_documented_answers(api_schema):
    sent, failures = _run(api_schema, {}, lambda path: True)
    _assert_clean(sent, failures, 40)


def test_dispatcher_gets_only_documented_answers(api_schema, dispatcher):
    staff = lambda path: not path.startswith(("/api/v1/crew/", "/api/v1/scada/"))  # noqa: E731
    sent, failures = _run(api_schema, _token(dispatcher), staff)
    _assert_clean(sent, failures, 40)


def test_crew_member_gets_only_documented_answers(api_schema):
    from workorders.tests.factories import crew_user, make_crew, make_order

    user = crew_user(make_crew())
    make_order()
    sent, failures = _run(api_schema, _token(user), lambda path: path.startswith("/api/v1/crew/"))
    _assert_clean(sent, failures, 5)


def test_scada_gateway_gets_only_documented_answers(api_schema, scada_gateway):
    sent, failures = _run(
        api_schema, _token(scada_gateway), lambda path: path.startswith("/api/v1/scada/")
    )
    _assert_clean(sent, failures, 1)
