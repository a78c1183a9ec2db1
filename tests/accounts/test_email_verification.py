"""A new account proves its e-mail address before its first log-in. Orders, invoices and returns are found
by that address, so before this anyone could sign up with a customer's address and read their orders.
The link comes in the first mail; it is signed, expires, and names the address it was sent to."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from kb.db import commit, session, utcnow
from kb.models import Role, User
from kb.services.accounts import auth as accounts
from tests.support.auth_helpers import confirm_address, form_token, log_in
from tests.conftest import both_backends, translated
from tests.fixtures.mail_helpers import sent_mail

VICTIM = "aino@example.com"
PASSWORD = "kesämökki järven rannalla"


def sign_up(client, email: str = VICTIM):
    return client.post("/auth/signup", data={"csrf_token": form_token(client, "/auth/signup"), "email": email,
                                             "password": PASSWORD, "confirm": PASSWORD, "language": "fi"})


def verify_link(app, email: str = VICTIM) -> str:
    [mail] = [m for m in sent_mail(app) if m["To"] == email][-1:]
    return re.search(r"http://localhost(/auth/verify/[\w.-]+)", mail.get_content()).group(1)


@both_backends
def test_signing_up_with_someone_elses_address_shows_nothing_of_theirs(app, client, create_order) -> None:
    number = create_order(VICTIM)
    assert sign_up(client).status_code == 302
    r = log_in(client, VICTIM, PASSWORD)
    assert r.status_code == 200
    assert translated(app, "Confirm your e-mail address first: open the link we sent to it when you created the "
                           "account. Then log in again.") in r.get_data(as_text=True)
    assert client.get("/tili/tilaukset").status_code == 302  # not logged in
    shown = client.get(f"/tilaus/{number}")  # the log-in form, not the order
    assert shown.status_code == 302 and shown.headers["Location"].startswith("/auth/login")


def test_the_link_in_the_first_mail_confirms_the_address(app, client, create_order) -> None:
    number = create_order(VICTIM)
    sign_up(client)
    assert client.get(verify_link(app)).headers["Location"] == "/auth/login"
    assert log_in(client, VICTIM, PASSWORD).status_code == 302
    assert number in client.get("/tili/tilaukset").get_data(as_text=True)


def test_forged_expired_and_stale_links_do_not_confirm(app, client) -> None:
    sign_up(client)
    link = verify_link(app)
    token = link.rsplit("/", 1)[1]
    assert client.get(link[:-3] + "xyz").status_code == 404
    assert client.get("/auth/verify/" + "a" * 400).status_code == 404
    with app.app_context():
        with pytest.raises(accounts.InvalidToken):  # older than its lifetime
            accounts.verify_email(session(), app.config["SECRET_KEY"], token, now=utcnow(),
                                  max_age=timedelta(seconds=-1))
        user = session().scalar(select(User).where(User.email == VICTIM))
        assert user.email_verified_at is None
        user.email = "uusi@example.com"  # the link names the address it was sent to
        commit()
    assert client.get(link).status_code == 404
    with app.app_context():
        assert session().scalar(select(User.email_verified_at).where(User.email == "uusi@example.com")) is None


def test_a_new_link_can_be_asked_for_without_revealing_accounts(app, client) -> None:
    sign_up(client)
    before = len(sent_mail(app))
    for email in (VICTIM, "nobody@example.com"):
        r = client.post("/auth/verify", data={"csrf_token": form_token(client, "/auth/login"), "email": email})
        assert r.status_code == 302 and r.headers["Location"] == "/auth/login"
    mails = sent_mail(app)[before:]
    assert [m["To"] for m in mails] == [VICTIM]
    confirm_address(app, client, VICTIM)
    assert log_in(client, VICTIM, PASSWORD).status_code == 302
    client.post("/auth/logout", data={"csrf_token": form_token(client, "/auth/profile")})
    client.post("/auth/verify", data={"csrf_token": form_token(client, "/auth/login"), "email": VICTIM})
    assert len(sent_mail(app)) == before + 1  # a confirmed account gets no more links


def test_a_password_reset_proves_the_address_too(app, client) -> None:
    sign_up(client)
    client.post("/auth/reset", data={"csrf_token": form_token(client, "/auth/reset"), "email": VICTIM})
    reset = re.search(r"http://localhost(/auth/reset/[\w-]+)", sent_mail(app)[-1].get_content()).group(1)
    new = "sommarstuga vid sjön 7"
    client.post(reset, data={"csrf_token": form_token(client, reset), "password": new, "confirm": new})
    assert log_in(client, VICTIM, new).status_code == 302


def test_accounts_made_by_an_admin_or_the_command_line_are_confirmed(app, runner, make_user) -> None:
    from tests.support.agent_helpers import PASSWORD as STAFF_PASSWORD

    make_user("agentti@example.fi", Role.AGENT)
    assert log_in(app.test_client(), "agentti@example.fi", STAFF_PASSWORD).status_code == 302
    r = runner.invoke(args=["user", "add", "kauppias@example.fi", "--role", "customer", "--password-stdin"],
                      input=PASSWORD + "\n")
    assert r.exit_code == 0, r.output
    assert log_in(app.test_client(), "kauppias@example.fi", PASSWORD).status_code == 302
