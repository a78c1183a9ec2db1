"""Findings of the security review (issue 15): deeply nested JSON, the Host header in production,
the remember-me cookie at log-out, and a password-reset request that does the same work for any address."""
from __future__ import annotations

import json

import pytest

from kb.db import commit, session, utcnow
from kb.services.accounts.api_tokens import create_token

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
    from kb.web.json_limits import MAX_DEPTH, JSONTooDeep, loads_limited

    assert loads_limited(json.dumps({"lines": [{"sku": "A", "quantity": 1}]})) == {"lines": [{"sku": "A", "quantity": 1}]}
    assert loads_limited("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    with pytest.raises(JSONTooDeep):
        loads_limited("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))


# ---------- production: the Host header and the remember-me cookie

PUBLIC = "https://apu.tupa.example"


@pytest.fixture
def production_app(tmp_path, new_database):
    """The app as production runs it (Secure ``__Host-`` cookies, TRUSTED_HOSTS), reached at its public address."""
    from kb import create_app
    from kb.db import database
    from tests.conftest import _config

    instance = tmp_path / "production"
    app = create_app({**_config(instance, new_database(instance)), "ENV": "production", "MAIL_BASE_URL": PUBLIC,
                      "TRUSTED_HOSTS": "intra.tupa.example", "SERVER_NAME": "apu.tupa.example",
                      "PREFERRED_URL_SCHEME": "https"})
    yield app
    database(app).dispose()


def test_a_forged_host_header_is_refused_in_production(production_app) -> None:
    """Redirects and the API's ``url`` fields are built from the Host header: only the public host is served."""
    assert production_app.config["TRUSTED_HOSTS"] == ["apu.tupa.example", "intra.tupa.example"]
    client = production_app.test_client()
    for path in ("/", "/fi/", "/api/v1/search?q=toimitus", "/api/v1/articles/toimitusajat"):
        forged = client.get(path, headers={"Host": "evil.example"})
        assert forged.status_code == 400, path
        assert "evil.example" not in forged.get_data(as_text=True) + forged.headers.get("Location", "")
    assert client.get("/api/v1/search?q=toimitus", headers={"Host": "evil.example"}).get_json()["field"] == "Host"
    assert client.get("/fi/").status_code == 200  # the public host
    assert client.get("/fi/", headers={"Host": "intra.tupa.example"}).status_code == 200  # an extra host
    assert client.get("/fi/", headers={"Host": "apu.tupa.example:443"}).status_code == 200


def test_development_checks_no_host_unless_told(app) -> None:
    assert app.config["TRUSTED_HOSTS"] is None
    assert app.test_client().get("/fi/", headers={"Host": "127.0.0.1:5000"}).status_code == 200


def test_log_out_deletes_the_remember_cookie_with_the_attributes_it_was_set_with(production_app) -> None:
    """A browser ignores a ``__Host-`` Set-Cookie without Secure: deleted without it, the cookie stayed."""
    from tests.support.auth_helpers import EMAIL, customer_factory, log_in
    from tests.support.html_forms import csrf_token

    customer_factory(production_app)()
    client = production_app.test_client()
    client.environ_base["HTTP_REFERER"] = PUBLIC + "/auth/login"  # Flask-WTF checks it over https
    assert log_in(client, EMAIL, remember=True).status_code == 302
    token = csrf_token(client.get("/auth/profile").get_data(as_text=True))
    response = client.post("/auth/logout", data={"csrf_token": token})
    assert response.status_code == 302
    cookies = {h.split("=", 1)[0]: h for h in response.headers.getlist("Set-Cookie")}
    deleted = cookies["__Host-remember_token"]
    assert "Max-Age=0" in deleted and "Secure" in deleted and "Path=/" in deleted and "Domain" not in deleted
    assert "HttpOnly" in deleted and "SameSite=Lax" in deleted
    assert client.get_cookie("__Host-remember_token", domain="apu.tupa.example") is None


# ---------- a reset request does the same work for any address

def _statements_of(app, client, email: str) -> list[str]:
    """The SQL (without values) that answering one reset request ran."""
    from sqlalchemy import event

    from kb.db import database
    from tests.support.auth_helpers import form_token

    token = form_token(client, "/auth/reset")
    seen: list[str] = []

    def record(_conn, _cursor, statement, _parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
        seen.append(" ".join(statement.split()))

    engine = database(app).engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.post("/auth/reset", data={"csrf_token": token, "email": email})
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 302
    return seen


def test_a_reset_request_runs_the_same_statements_for_a_known_and_an_unknown_address(app) -> None:
    """The review timed it: a known address was answered slower (its token and mail were written in the request).
    Now the request stores what was typed, the same way for both; the worker does the rest."""
    from kb.models import OutgoingMail, PasswordResetToken
    from tests.support.auth_helpers import EMAIL, customer_factory

    customer_factory(app)()
    client = app.test_client()
    known = _statements_of(app, client, EMAIL)
    unknown = _statements_of(app, client, "nobody@example.fi")
    assert known == unknown
    assert any(s.startswith("INSERT INTO account_mail_requests") for s in known)
    with app.app_context():  # nothing about the account is touched before the answer
        assert session().query(PasswordResetToken).count() == 0 and session().query(OutgoingMail).count() == 0
    from tests.fixtures.mail_helpers import sent_mail

    assert [m["To"] for m in sent_mail(app)] == [EMAIL]  # the worker mails the known address only
    with app.app_context():
        assert session().query(PasswordResetToken).count() == 1
        from kb.models import AccountMailRequest

        assert session().query(AccountMailRequest).count() == 0  # nothing a stranger typed is kept
