"""Accounts through the real forms: sign-up, log-in, password reset and profile; open redirects,
user enumeration and outgoing mail. Sessions and log-in rate limits: tests/accounts/test_auth_sessions.py."""
from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from kb.db import commit, session, utcnow
from kb.models import PasswordResetToken, Role, User
from kb.services.accounts import auth as accounts
from kb.services.errors import InvalidInput
from kb.services.mail.transport import MailTransport, build_message, read_outbox
from kb.services.accounts.users import create_user
from kb.views.accounts.login_flow import safe_next
from tests.support.auth_helpers import EMAIL, NEW_PASSWORD, PASSWORD, csrf_of, form_token, get_user, log_in
from tests.conftest import both_backends, translated
from tests.fixtures.mail_helpers import sent_mail as outbox


GENERIC_FAILURE = "The e-mail address or the password is not correct."  # msgid: see translated()


# ---------- helpers

def reset_link(message: EmailMessage) -> str:
    match = re.search(r"http://localhost(/auth/reset/[A-Za-z0-9_\-]+)", message.get_content())
    assert match, message.get_content()
    return match.group(1)


def without_tokens(html: str) -> str:
    """A page with its per-request CSRF token removed, for comparing two answers."""
    return re.sub(r'name="csrf_token"( type="hidden")? value="[^"]+"', "", html)


# ---------- sign-up, log-in, profile

@both_backends
def test_signup_login_and_change_language(app, client) -> None:
    token = form_token(client, "/auth/signup")
    r = client.post("/auth/signup", data={"csrf_token": token, "name": "Aino", "email": "Aino@Example.FI",
                                          "password": PASSWORD, "confirm": PASSWORD, "language": "fi"})
    assert r.status_code == 302 and r.headers["Location"] == "/auth/login"
    [welcome] = outbox(app)
    assert welcome["To"] == "Aino@example.fi"
    link = re.search(r"http://localhost(/auth/verify/[\w.-]+)", welcome.get_content()).group(1)
    assert client.get(link).headers["Location"] == "/auth/login"  # the address is confirmed

    r = log_in(client, "aino@example.fi")
    assert r.status_code == 302 and r.headers["Location"] == "/tili/tilaukset"
    page = client.get("/auth/profile")
    assert page.status_code == 200 and "Aino@example.fi" in page.get_data(as_text=True)

    r = client.post("/auth/profile", data={"csrf_token": csrf_of(page.get_data(as_text=True)),
                                           "name": "Aino Asiakas", "language": "sv"})
    assert r.status_code == 302 and r.headers["Location"] == "/auth/profile"
    html = client.get("/auth/profile").get_data(as_text=True)
    assert '<html lang="sv">' in html
    assert '<option selected value="sv">' in html
    with app.app_context():
        user = session().scalar(select(User).where(User.email == "Aino@example.fi"))
        assert (user.name, user.language, user.role) == ("Aino Asiakas", "sv", Role.CUSTOMER)
        assert user.password_hash.startswith("$argon2id$")
        assert user.last_login_at is not None


@both_backends
def test_signup_with_a_taken_address_reveals_nothing(app, client, make_customer) -> None:
    user_id = make_customer()
    answers = []
    for address in ("uusi@example.fi", EMAIL):
        r = client.post("/auth/signup", data={"csrf_token": form_token(client, "/auth/signup"), "email": address,
                                              "password": "another password", "confirm": "another password",
                                              "language": "en"})
        answers.append((r.status_code, r.headers["Location"]))
        page = client.get(r.headers["Location"]).get_data(as_text=True)
        assert translated(app, "Check your e-mail: we sent a message about your account to %(email)s.",
                          email=address) in page
    assert answers[0] == answers[1] == (302, "/auth/login")
    welcome, notice = outbox(app)
    assert welcome["To"] == "uusi@example.fi" and notice["To"] == EMAIL
    assert notice["Subject"] == translated(app, "You already have a %(shop)s account", shop=app.config["SHOP_NAME"])
    assert "http://localhost/auth/reset" in notice.get_content()
    with app.app_context():
        assert session().scalar(select(func.count(User.id)).where(User.email == EMAIL)) == 1
    assert get_user(app, user_id).language == "fi"
    assert log_in(app.test_client(), EMAIL, "another password").status_code == 200
    assert log_in(app.test_client(), EMAIL, PASSWORD).status_code == 302


@pytest.mark.parametrize("fields,field_id,message", [
    # (msgid, values): the app's own message, as shown in Finnish; a plain string: a regular expression
    ({"password": "short", "confirm": "short"}, "password", ("Use at least %(num)d characters.", {"num": 10})),
    ({"confirm": "something else entirely"}, "confirm", ("The passwords do not match.", {})),
    ({"email": "not-an-address"}, "email", ("Enter an e-mail address such as name@example.fi.", {})),
    ({"language": "de"}, "language", "(Not a valid choice|Virheellinen valinta)"),  # WTForms' own, translated
], ids=["password", "confirm", "email", "language"])
def test_signup_shows_errors_next_to_the_field(app, client, fields, field_id, message) -> None:
    if isinstance(message, tuple):
        msgid, values = message
        message = re.escape(str(escape(translated(app, msgid, **values))))
    data = {"csrf_token": form_token(client, "/auth/signup"), "email": "a@example.fi", "password": PASSWORD,
            "confirm": PASSWORD, "language": "fi", **fields}
    r = client.post("/auth/signup", data=data)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert re.search(rf'<p id="{field_id}-error" class="field-error">[^<]*{message}', html)
    assert re.search(rf'aria-describedby="[^"]*{field_id}-error"[^>]*aria-invalid="true"', html) or \
        re.search(rf'aria-invalid="true"[^>]*aria-describedby="[^"]*{field_id}-error"', html)
    with app.app_context():
        assert session().scalar(select(func.count(User.id))) == 0
    assert outbox(app) == []


def test_forms_carry_autocomplete_hints(client) -> None:
    login = client.get("/auth/login").get_data(as_text=True)
    assert 'autocomplete="email"' in login and 'autocomplete="current-password"' in login
    signup = client.get("/auth/signup").get_data(as_text=True)
    assert signup.count('autocomplete="new-password"') == 2
    assert '<label for="password">' in signup


@both_backends
def test_wrong_password_and_unknown_address_answer_alike(app, client, make_customer) -> None:
    make_customer()
    wrong = log_in(client, EMAIL, "wrong password!")
    unknown = log_in(client, "nobody@example.fi", "wrong password!")
    assert wrong.status_code == unknown.status_code == 200
    assert translated(app, GENERIC_FAILURE) in wrong.get_data(as_text=True)
    assert without_tokens(wrong.get_data(as_text=True)).replace(EMAIL, "X") == \
        without_tokens(unknown.get_data(as_text=True)).replace("nobody@example.fi", "X")
    with client.session_transaction() as sess:
        assert "_user_id" not in sess


def test_profile_needs_log_in(client) -> None:
    r = client.get("/auth/profile")
    assert r.status_code == 302
    assert r.headers["Location"] == "/auth/login?next=%2Fauth%2Fprofile"


def test_log_in_follows_a_local_next(client, make_customer) -> None:
    make_customer()
    r = log_in(client, next_url="/auth/profile?tab=1")
    assert r.headers["Location"] == "/auth/profile?tab=1"


@pytest.mark.parametrize("target", ["//evil.example", "/\\evil.example", "https://evil.example",
                                    "/\t/evil.example", "evil.example", "javascript:alert(1)", "/ok\\..\\x"])
def test_log_in_refuses_a_foreign_next(client, make_customer, target: str) -> None:
    assert safe_next(target) is None
    make_customer()
    form = client.get("/auth/login", query_string={"next": target}).get_data(as_text=True)
    assert 'name="next" type="hidden" value=""' in form
    r = log_in(client, next_url=target)
    assert r.status_code == 302 and r.headers["Location"] == "/tili/tilaukset"


# ---------- password reset

@both_backends
def test_password_reset_by_mail_works_once_and_ends_sessions(app, client, make_customer) -> None:
    user_id = make_customer()
    elsewhere = app.test_client()
    log_in(elsewhere)

    token = form_token(client, "/auth/reset")
    r = client.post("/auth/reset", data={"csrf_token": token, "email": EMAIL})
    assert r.status_code == 302
    assert translated(app, "If %(email)s has an account, we sent it a link for setting a new password. "
                           "The link works for %(minutes)d minutes.", email=EMAIL, minutes=60) \
        in client.get("/auth/reset").get_data(as_text=True)
    [message] = outbox(app)
    link = reset_link(message)
    assert message["To"] == EMAIL and translated(
        app, "Hello,\n\nsomeone, hopefully you, asked to set a new password for your %(shop)s account. "
             "Open this link to choose it:\n\n%(link)s\n\n"
             "The link works once, for %(minutes)d minutes. If you did not ask for it, you can ignore this "
             "message: your password stays as it is.\n",
        shop=app.config["SHOP_NAME"], link=f"http://localhost{link}", minutes=60) in message.get_content()

    page = client.get(link)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    r = client.post(link, data={"csrf_token": csrf_of(page.get_data(as_text=True)), "password": NEW_PASSWORD,
                                "confirm": NEW_PASSWORD})
    assert r.status_code == 302 and r.headers["Location"] == "/auth/login"

    assert elsewhere.get("/auth/profile").status_code == 302
    assert get_user(app, user_id).session_version == 2
    assert log_in(app.test_client(), password=PASSWORD).status_code == 200
    assert log_in(app.test_client(), password=NEW_PASSWORD).status_code == 302
    _, notice = outbox(app)  # ASVS 2.2.3: the owner hears of the change
    assert notice["To"] == EMAIL
    assert notice["Subject"] == translated(app, "Your %(shop)s password was changed", shop=app.config["SHOP_NAME"])
    assert "http://localhost/auth/reset" in notice.get_content()

    again = client.get(link)
    expired = translated(app, "The link for setting a new password has expired or has already been used.")
    assert again.status_code == 404 and expired in again.get_data(as_text=True)
    r = client.post(link, data={"csrf_token": form_token(client, "/auth/reset"), "password": "third password!",
                                "confirm": "third password!"})
    assert r.status_code == 404
    with app.app_context():
        stored = session().scalar(select(PasswordResetToken))
        assert stored.token_hash == hashlib.sha256(link.rsplit("/", 1)[1].encode()).hexdigest()
        assert stored.used_at is not None


@both_backends
def test_reset_for_an_unknown_address_says_the_same_and_sends_nothing(app, client, make_customer) -> None:
    make_customer()
    pages = []
    for address in (EMAIL, "nobody@example.fi"):
        r = client.post("/auth/reset", data={"csrf_token": form_token(client, "/auth/reset"), "email": address})
        assert (r.status_code, r.headers["Location"]) == (302, "/auth/reset")
        pages.append(without_tokens(client.get("/auth/reset").get_data(as_text=True)).replace(address, "X"))
    assert pages[0] == pages[1]
    assert [m["To"] for m in outbox(app)] == [EMAIL]


def test_expired_reset_link_is_refused(app, client, make_customer) -> None:
    make_customer()
    with app.app_context():
        issued = accounts.start_password_reset(session(), EMAIL, now=utcnow() - timedelta(minutes=61))
        commit()
    r = client.get(f"/auth/reset/{issued.token}")
    expired = translated(app, "The link for setting a new password has expired or has already been used.")
    assert r.status_code == 404 and expired in r.get_data(as_text=True)


def test_reset_token_expires_after_an_hour(app, make_customer) -> None:
    make_customer()
    start = utcnow()
    with app.app_context():
        db = session()
        first = accounts.start_password_reset(db, EMAIL, now=start)
        with pytest.raises(accounts.InvalidToken):
            accounts.finish_password_reset(db, first.token, NEW_PASSWORD, now=start + timedelta(minutes=60))
        second = accounts.start_password_reset(db, EMAIL, now=start)
        with pytest.raises(accounts.InvalidToken):  # a newer link replaces the older one
            accounts.check_reset_token(db, first.token, now=start)
        user = accounts.finish_password_reset(db, second.token, NEW_PASSWORD, now=start + timedelta(minutes=59))
        assert user.email == EMAIL and user.session_version == 2
        with pytest.raises(accounts.InvalidToken):
            accounts.finish_password_reset(db, second.token, "yet another one", now=start + timedelta(minutes=59))


def test_reset_with_a_short_password_keeps_the_token(app, make_customer) -> None:
    make_customer()
    now = utcnow()
    with app.app_context():
        db = session()
        issued = accounts.start_password_reset(db, EMAIL, now=now)
        with pytest.raises(InvalidInput):
            accounts.finish_password_reset(db, issued.token, "short", now=now)
        assert accounts.check_reset_token(db, issued.token, now=now).email == EMAIL
        assert accounts.start_password_reset(db, "nobody@example.fi", now=now) is None
        assert accounts.start_password_reset(db, "not an address", now=now) is None
        with pytest.raises(accounts.InvalidToken):
            accounts.check_reset_token(db, "x" * 500, now=now)


def test_authenticate_refuses_disabled_and_passwordless_accounts(app, make_customer) -> None:
    user_id = make_customer()
    now = utcnow()
    with app.app_context():
        db = session()
        assert accounts.authenticate(db, " Asiakas@EXAMPLE.fi ", PASSWORD, now=now).id == user_id
        assert accounts.authenticate(db, "asiakas@example.fi ", "Correct horse battery", now=now) is None
        db.get(User, user_id).is_active = False
        assert accounts.authenticate(db, EMAIL, PASSWORD, now=now) is None
        create_user(db, "agent@example.fi", role=Role.AGENT, password=None, now=now)
        assert accounts.authenticate(db, "agent@example.fi", "", now=now) is None


# ---------- mail

def test_mail_goes_to_the_outbox_without_a_server(tmp_path: Path) -> None:
    config = {"MAIL_SERVER": None, "MAIL_DEFAULT_SENDER": "Tupa <no-reply@tupa.example>",
              "MAIL_OUTBOX": str(tmp_path / "outbox")}
    with MailTransport(config) as transport:
        transport.send(build_message("a@example.fi", "Hei ääkköset", "Rivi yksi\nrivi kaksi – ok\n",
                                     sender=config["MAIL_DEFAULT_SENDER"]))
    [message] = read_outbox(tmp_path / "outbox")
    assert (message["To"], message["Subject"]) == ("a@example.fi", "Hei ääkköset")
    assert message.get_content() == "Rivi yksi\nrivi kaksi – ok\n"
    assert message["Message-ID"].endswith("@tupa.example>")


def test_mail_uses_smtp_with_starttls_and_login(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            calls.append(("connect", host, port))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            calls.append(("quit",))

        def starttls(self, context):
            calls.append(("starttls",))

        def login(self, user, password):
            calls.append(("login", user, password))

        def send_message(self, message):
            calls.append(("send", message["To"]))

    monkeypatch.setattr("kb.services.mail.transport.smtplib.SMTP", FakeSMTP)
    with MailTransport({"MAIL_SERVER": "smtp.example.fi", "MAIL_PORT": 587, "MAIL_USE_TLS": True,
                        "MAIL_USERNAME": "neuvo", "MAIL_PASSWORD": "pw"}) as transport:
        transport.send(build_message("a@example.fi", "Hei", "body", sender="no-reply@example.fi"))
    assert calls == [("connect", "smtp.example.fi", 587), ("starttls",), ("login", "neuvo", "pw"),
                     ("send", "a@example.fi"), ("quit",)]
