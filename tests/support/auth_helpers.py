"""Accounts in tests, for every test module: creating users of any role, logging in through the
real form, CSRF tokens. The one home of these helpers: test modules import them from here."""
from __future__ import annotations

from kb.db import commit, session, utcnow
from kb.models import Role, User
from kb.services.accounts.users import create_user
from tests.support.html_forms import csrf_token as csrf_of  # noqa: F401  (re-exported for the tests that log in)

PASSWORD = "correct horse battery"
NEW_PASSWORD = "staple lighthouse 42"
EMAIL = "asiakas@example.fi"


def form_token(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return csrf_of(response.get_data(as_text=True))


def log_in(client, email: str = EMAIL, password: str = PASSWORD, *, next_url: str | None = None,
           remember: bool = False, environ: dict | None = None):
    data = {"csrf_token": form_token(client, "/auth/login"), "email": email, "password": password}
    if next_url is not None:
        data["next"] = next_url
    if remember:
        data["remember"] = "y"
    return client.post("/auth/login", data=data, environ_base=environ or {})


def create_account(app, email: str, role: Role = Role.CUSTOMER, *, password: str = PASSWORD, language: str = "en",
                   name: str = "") -> int:
    """A committed user of ``role`` with a password; returns the id."""
    with app.app_context():
        user = create_user(session(), email, role=role, password=password, language=language, name=name, now=utcnow())
        commit()
        return user.id


def sign_in(client, email: str = EMAIL, password: str = PASSWORD) -> None:
    """Log in through the form; the test stops here if that fails."""
    response = log_in(client, email, password)
    assert response.status_code == 302, response.get_data(as_text=True)


def customer_factory(app):
    """Factory: a customer with a password, committed; returns the id (the ``make_customer`` fixture)."""
    def make(email: str = EMAIL, password: str = PASSWORD, *, language: str = "fi", name: str = "") -> int:
        return create_account(app, email, Role.CUSTOMER, password=password, language=language, name=name)
    return make


def get_user(app, user_id: int) -> User:
    with app.app_context():
        return session().get(User, user_id)


def confirm_address(app, client, email: str) -> None:
    """Open the confirmation link of the newest mail to ``email``, as its owner would."""
    import re

    from tests.fixtures.mail_helpers import sent_mail

    mails = [m for m in sent_mail(app) if m["To"].lower() == email.lower()]
    link = re.search(r"http://localhost(/auth/verify/[\w.-]+)", mails[-1].get_content()).group(1)
    assert client.get(link).status_code == 302
