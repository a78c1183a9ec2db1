"""The JSON API fuzzed from its own OpenAPI file (schemathesis), in-process over WSGI.

Every operation of kb/openapi.json gets generated requests, valid and invalid,
with a live bearer token: the answers must never be server errors and must match
what the file promises (status codes, content types, headers, response bodies),
and invalid requests must be refused. The shop platform's operations without a
token, or with a wrong one, answer 401.

The cases come from schemathesis' hypothesis strategies (``as_strategy``) rather
than its pytest plugin, whose lazy fixture loader does not run on pytest 9.
"""
from __future__ import annotations


import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings, strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kb.db import commit, session, utcnow
from kb.services.accounts.api_tokens import create_token

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, negative_data_rejection]
PUBLIC_OPERATIONS = [("GET", "/search"), ("GET", "/articles/{slug}"), ("POST", "/suggest")]
TOKEN_OPERATIONS = [("POST", "/orders"), ("POST", "/orders/{number}/events"), ("POST", "/inquiries")]
BAD_AUTHORIZATION = [None, "Bearer", "Bearer ", "Bearer neuvo_not-a-real-token", "Basic YTpi", "bearer\tx",
                     "Bearer " + "x" * 5000, "Token neuvo_x"]
FUZZ = settings(deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture
def shop_token(demo_app) -> str:
    """A live token, as `neuvo token add` hands out."""
    with demo_app.app_context():
        _row, secret = create_token(session(), "fuzz", now=utcnow())
        commit()
    return secret


def operation(app, method: str, path: str):  # type: ignore[no-untyped-def]
    """One operation of the OpenAPI file the app serves, bound to the app for in-process calls."""
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)[path][method]


@pytest.mark.parametrize("method,path,mode", [
    *[(method, path, GenerationMode.POSITIVE) for method, path in PUBLIC_OPERATIONS + TOKEN_OPERATIONS],
    # a path or query string cannot break a string parameter: only bodies have invalid forms to try
    *[(method, path, GenerationMode.NEGATIVE) for method, path in PUBLIC_OPERATIONS + TOKEN_OPERATIONS
      if method == "POST"],
])
def test_every_operation_keeps_its_promises(demo_app, shop_token: str, method: str, path: str,
                                            mode: GenerationMode) -> None:
    auth = {"Authorization": f"Bearer {shop_token}"}

    @settings(FUZZ, max_examples=30)
    @given(case=operation(demo_app, method, path).as_strategy(mode))
    def check(case) -> None:  # type: ignore[no-untyped-def]
        case.call_and_validate(headers=auth, checks=CHECKS)

    check()


@pytest.mark.parametrize("method,path", TOKEN_OPERATIONS)
def test_shop_operations_without_a_valid_token_answer_401(demo_app, method: str, path: str) -> None:
    @settings(FUZZ, max_examples=10)
    @given(case=operation(demo_app, method, path).as_strategy(), authorization=st.sampled_from(BAD_AUTHORIZATION))
    def check(case, authorization: str | None) -> None:  # type: ignore[no-untyped-def]
        case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        response = case.call(headers={"Authorization": authorization} if authorization else {})
        assert response.status_code == 401, (authorization, response.status_code, response.text[:200])
        headers = {name.lower(): value for name, value in response.headers.items()}
        assert headers["www-authenticate"][0].startswith("Bearer")
        assert response.json()["field"] == "Authorization"

    check()


@pytest.mark.parametrize("at", ["0001-01-01T00:06:46+01:01", "9999-12-31T23:00:00-05:00", "1899-12-31T23:59:59"])
def test_dates_beyond_the_calendar_are_refused_not_a_server_error(demo_client, shop_token: str, at: str) -> None:
    """Found by the fuzzing: converting year 1 (east of UTC) to UTC overflowed into a 500."""
    number = "100544"  # an order of the demo shop
    response = demo_client.post(f"/api/v1/orders/{number}/events", json={"status": "delivered", "at": at},
                                headers={"Authorization": f"Bearer {shop_token}"})
    assert response.status_code == 400 and response.json["field"] == "at", response.json


def test_every_operation_is_fuzzed_and_only_the_shop_needs_a_token(demo_client) -> None:
    """A new operation in the served file fails here until it is added above."""
    served = demo_client.get("/api/v1/openapi.json").get_json()
    operations = {(method.upper(), path): bool(op.get("security"))
                  for path, ops in served["paths"].items() for method, op in ops.items()}
    assert operations == {**dict.fromkeys(PUBLIC_OPERATIONS, False), **dict.fromkeys(TOKEN_OPERATIONS, True)}
