"""Findings of the security review (issue 15): deeply nested JSON, the Host header in production,
the remember-me cookie at log-out, and a password-reset request that does the same work for any address."""
from __future__ import annotations

import json

import pytest

from kb.db import commit, session, utcnow
from kb.services.api_tokens import create_token

NESTED = "[" * 1000 + "]" * 1000
JSON = {"Content-Type": "application/json"}


def _token(app) -> dict[str, str]:
    with app.app_context():
        _, secret = create_token(session(), "shop", now=utcnow())
        commit()
    return {"Authorization": f"Bearer {secret}"}


# ---------- JSON bodies nested a thousand deep

@pytest.mark.parametrize("body", [NESTED, '{"text": ' + NESTED + "}", '{"a":' * 40 + "1" + "}" * 40])
def test_deeply_nested_json_is_a_400_json_error_on_every_json_endpoint(app, body: str) -> None:
    """Python's parser raised RecursionError (a 500) at a thousand levels; the OpenAPI file promises a 400."""
    client = app.test_client()
    headers = dict(_token(app), **JSON)
    for path in ("/api/v1/suggest", "/api/v1/orders", "/api/v1/orders/1/events", "/api/v1/inquiries"):
        response = client.post(path, data=body, headers=headers)
        assert response.status_code == 400, (path, response.status_code)
        assert response.is_json and set(response.get_json()) == {"error", "field"}, path
        assert "nested" in response.get_json()["error"], path


def test_ordinary_nesting_still_parses(app) -> None:
    from kb.json_limits import MAX_DEPTH, JSONTooDeep, loads_limited

    assert loads_limited(json.dumps({"lines": [{"sku": "A", "quantity": 1}]})) == {"lines": [{"sku": "A", "quantity": 1}]}
    assert loads_limited("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    with pytest.raises(JSONTooDeep):
        loads_limited("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
