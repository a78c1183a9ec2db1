"""OWASP ASVS requirements that no other test file covers (the table is in docs/security.md)."""
from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from kb.db import commit, session, utcnow
from kb.models import Role, User
from kb.services.accounts.users import create_user
from tests.support.auth_helpers import log_in


def _customer(app, email: str, password: str) -> None:
    with app.app_context():
        create_user(session(), email, role=Role.CUSTOMER, password=password, now=utcnow())
        commit()


def _stored_hash(app, email: str) -> str:
    with app.app_context():
        return session().scalar(select(User.password_hash).where(User.email == email))


def test_password_hash_is_upgraded_at_log_in(app, client) -> None:
    """ASVS 2.4.1: a hash made with older Argon2 parameters is replaced at the next log-in."""
    _customer(app, "aino@example.fi", "pitkä salasana 2026")
    with app.app_context():
        user = session().scalar(select(User).where(User.email == "aino@example.fi"))
        user.password_hash = PasswordHasher(time_cost=2, memory_cost=4096).hash("pitkä salasana 2026")
        commit()
    assert "m=4096,t=2" in _stored_hash(app, "aino@example.fi")
    assert log_in(client, "aino@example.fi", "pitkä salasana 2026").status_code == 302
    upgraded = _stored_hash(app, "aino@example.fi")
    assert upgraded.startswith("$argon2id$") and f"m={app.config['PASSWORD_HASH_MEMORY_COST']}," in upgraded


@pytest.mark.parametrize("password", [
    "correct horse battery staple" * 30,  # 840 characters: long passphrases are welcome
    "🔑 sala sana ÅÄÖ 🗝️ ",                 # any Unicode, spaces included
])
def test_long_unicode_passwords_work_and_are_never_truncated(app, password: str) -> None:
    """ASVS 2.1.2-2.1.4: at least 64 (here up to 1024) characters, any Unicode, no truncation."""
    _customer(app, "aino@example.fi", password)
    assert log_in(app.test_client(), "aino@example.fi", password).status_code == 302
    assert log_in(app.test_client(), "aino@example.fi", password[:-1] + "x").status_code == 200


def test_unexpected_errors_show_a_generic_page_without_details(app, client, monkeypatch) -> None:
    """ASVS 7.4.1: an unexpected error answers with a generic message, no stack trace or internals."""
    from kb.views import help as help_views

    def broken(*_args, **_kwargs):
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(help_views.kb_articles, "categories_with_counts", broken)
    for url in ("/fi/", "/fi/search?q=x"):
        page = client.get(url)
        assert page.status_code == 500
        body = page.get_data(as_text=True)
        assert "hunter2" not in body and "Traceback" not in body and "RuntimeError" not in body


def test_template_syntax_in_input_is_shown_as_typed(client) -> None:
    """ASVS 5.2.5: user input is data for templates, never a template."""
    page = client.get("/fi/search", query_string={"q": "{{ 7*7 }} {% if 1 %}x{% endif %}"}).get_data(as_text=True)
    assert 'value="{{ 7*7 }} {% if 1 %}x{% endif %}"' in page


def test_order_and_invoice_pages_are_not_cached(client, create_order) -> None:
    """ASVS 8.2.1: pages with a customer's address, orders and invoices carry Cache-Control: no-store."""
    from tests.support.order_helpers import track

    number = create_order()
    track(client, number, "aino@example.com")
    for url in (f"/tilaus/{number}", f"/lasku/L{number}", f"/lasku/L{number}.pdf", "/fi/tilaus/seuranta"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url


def test_every_page_sends_the_security_headers(app, client) -> None:
    """ASVS 14.4.1, 14.4.3-14.4.7: charset, CSP with frame-ancestors, nosniff, HSTS, referrer policy."""
    app.config["SESSION_COOKIE_SECURE"] = True  # as in production, behind HTTPS
    for url in ("/fi/", "/auth/login", "/api/v1/search?q=x", "/no-such-page"):
        headers = client.get(url).headers
        content_type = headers["Content-Type"]
        assert content_type == "application/json" or "charset=utf-8" in content_type, url  # JSON is UTF-8 by definition
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
        assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_ticket_pages_are_not_cached(client, agent, make_ticket) -> None:
    """ASVS 8.2.1: the inbox and tickets (customers' messages, e-mail addresses, orders) are not kept either."""
    ticket_id = make_ticket()
    for url in ("/agent/", f"/agent/tickets/{ticket_id}"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url


def test_a_successful_log_in_starts_the_failure_count_again(tmp_path, new_database) -> None:
    """ASVS 2.2.1: five failures lock the account; the owner's success in between starts again from zero."""
    from kb import create_app
    from kb.db import database
    from tests.conftest import _config

    instance = tmp_path / "limited"
    limited = create_app({**_config(instance, new_database(instance)), "RATELIMIT_ENABLED": True})
    try:
        _customer(limited, "aino@example.fi", "oikea salasana 2026")

        def attempt(password: str, n: int) -> int:
            return log_in(limited.test_client(), "aino@example.fi", password,
                          environ={"REMOTE_ADDR": f"10.0.3.{n}"}).status_code

        assert [attempt("väärä arvaus", n) for n in range(4)] == [200] * 4
        assert attempt("oikea salasana 2026", 10) == 302
        assert [attempt("väärä arvaus", n) for n in range(20, 26)] == [200] * 5 + [429]
        assert attempt("oikea salasana 2026", 30) == 429
    finally:
        database(limited).dispose()
