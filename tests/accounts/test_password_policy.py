"""New passwords that are easy to guess are refused (ASVS 2.1.7) wherever a password is set:
sign-up, reset, change, the admin's user form and `neuvo user add`; existing ones still log in."""
from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher
from markupsafe import escape
from sqlalchemy import func, select

from kb.db import commit, session, utcnow
from kb.models import Role, User
from kb.services.accounts import auth as accounts
from kb.services.errors import InvalidInput
from kb.services.accounts.password_policy import TOO_EASY, check_new_password
from kb.services.shop.settings_admin import add_user
from tests.support.auth_helpers import (
    confirm_address,
    EMAIL,
    PASSWORD,
    csrf_of,
    form_token,
    get_user,
    log_in,
)
from tests.conftest import both_backends, translated
from tests.fixtures.mail_helpers import sent_mail as outbox

TOO_EASY_SENTENCE = "This password is too easy to guess. Try, for example, a phrase of a few unrelated words."
HINT = ("At least %(num)d characters. A few unrelated words make a good password; common passwords and your own "
        "name or e-mail address are refused.")
COMMON = ["salasana123", "password123", "qwertyuiop", "1234567890", "aaaaaaaaaa"]
#: Honest passphrases that zxcvbn's English lists do not know: they must pass.
PASSPHRASES = ["kesämökki järven rannalla", "Ahvenanmaa2026!kala", "sommarstuga vid sjön", "mustikkapiirakka"]
STRONG = "kesämökki järven rannalla"


def sign_up(client, email: str, password: str, *, name: str = "", headers: dict | None = None):
    data = {"csrf_token": form_token(client, "/auth/signup"), "name": name, "email": email, "password": password,
            "confirm": password, "language": "fi"}
    return client.post("/auth/signup", data=data, headers=headers or {})


def password_error(response) -> str:
    """The error text shown under the (new) password field, or "" when there is none."""
    match = re.search(r'<p id="password-error" class="field-error">([^<]*)</p>', response.get_data(as_text=True))
    return match.group(1) if match else ""


def users(app) -> int:
    with app.app_context():
        return session().scalar(select(func.count(User.id)))


# ---------- the rule itself

@pytest.mark.parametrize("password", [
    *COMMON, "Password1234", "asdfghjkl123", "zxcvbnmzxcvbnm", "abcdefghijkl", "9876543210", "ababababab",
    "12.06.1985", "1985-06-12", "kissakissakissa",
])
def test_common_walks_repeats_sequences_and_dates_are_refused(password: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_new_password(password, email="aino@example.fi")
    assert (refused.value.field, refused.value.message) == ("password", TOO_EASY)


@pytest.mark.parametrize("password,email,name", [
    ("aino.virtanen@example.com", "aino.virtanen@example.com", ""),
    ("Aino.Virtanen@Example.com", "aino.virtanen@example.com", ""),
    ("aino.virtanen", "aino.virtanen@example.com", ""),
    ("virtanen2026", "aino.virtanen@example.com", ""),
    ("Aino Virtanen", "asiakas@example.fi", "Aino Virtanen"),
], ids=["address", "address-in-other-case", "local-part", "word-of-address-and-year", "name"])
def test_passwords_made_of_the_own_address_or_name_are_refused(password: str, email: str, name: str) -> None:
    with pytest.raises(InvalidInput, match=TOO_EASY):
        check_new_password(password, email=email, name=name)
    check_new_password(password, email="someone.else@example.org", name="Matti")  # only the own ones count


@pytest.mark.parametrize("password", PASSPHRASES)
def test_honest_passphrases_pass(password: str) -> None:
    check_new_password(password, email="aino.virtanen@example.com", name="Aino Virtanen")


def test_a_short_password_gets_the_length_message() -> None:
    with pytest.raises(InvalidInput, match="at least 10 characters"):
        check_new_password("Kx7#qz!Lp")


def test_a_long_password_is_judged_by_its_start() -> None:
    check_new_password((STRONG + " ") * 40 + "aaaa")
    with pytest.raises(InvalidInput, match=TOO_EASY):
        check_new_password("a" * 100 + STRONG)


# ---------- sign-up

@both_backends
@pytest.mark.parametrize("password", COMMON)
def test_common_passwords_are_refused_at_sign_up(app, client, password: str) -> None:
    r = sign_up(client, "uusi@example.fi", password)
    assert r.status_code == 200
    assert password_error(r) == str(escape(translated(app, TOO_EASY_SENTENCE)))
    assert 'aria-invalid="true"' in r.get_data(as_text=True)
    assert users(app) == 0 and outbox(app) == []


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_refusal_is_in_the_page_language(app, client, language: str) -> None:
    r = sign_up(client, "uusi@example.fi", "salasana123", headers={"Accept-Language": language})
    assert f'<html lang="{language}">' in r.get_data(as_text=True)
    assert password_error(r) == str(escape(translated(app, TOO_EASY_SENTENCE, language)))
    assert "commonly used password" not in r.get_data(as_text=True)  # never zxcvbn's own English feedback
    assert users(app) == 0


def test_the_forms_tell_the_rule_before_it_is_broken(app, client, make_customer) -> None:
    hint = str(escape(translated(app, HINT, num=10)))
    assert hint in client.get("/auth/signup").get_data(as_text=True)
    make_customer()
    log_in(client)
    assert hint in client.get("/auth/profile").get_data(as_text=True)


@pytest.mark.parametrize("name,password", [("", "aino.virtanen@example.com"), ("", "Aino.Virtanen@Example.com"),
                                           ("Aino Virtanen", "ainovirtanen")])
def test_own_address_or_name_is_refused_at_sign_up(app, client, name: str, password: str) -> None:
    r = sign_up(client, "aino.virtanen@example.com", password, name=name)
    assert password_error(r) == str(escape(translated(app, TOO_EASY_SENTENCE)))
    assert users(app) == 0 and outbox(app) == []


def test_a_taken_address_gets_the_same_refusal(app, client, make_customer) -> None:
    """No account enumeration: a weak password is refused alike whether or not the address has an account."""
    make_customer()
    for address in ("uusi@example.fi", EMAIL):
        r = sign_up(client, address, address)
        assert r.status_code == 200 and password_error(r) == str(escape(translated(app, TOO_EASY_SENTENCE)))
    assert users(app) == 1 and outbox(app) == []
    assert log_in(app.test_client()).status_code == 302


@pytest.mark.parametrize("password", PASSPHRASES)
def test_honest_passphrases_are_accepted_at_sign_up(app, client, password: str) -> None:
    r = sign_up(client, "aino.virtanen@example.com", password, name="Aino Virtanen")
    assert r.status_code == 302 and r.headers["Location"] == "/auth/login"
    confirm_address(app, client, "aino.virtanen@example.com")
    assert log_in(app.test_client(), "aino.virtanen@example.com", password).status_code == 302


def test_a_1024_character_password_is_accepted_and_1025_is_not(app, client) -> None:
    longest = ((STRONG + " ") * 40)[:1024]
    r = sign_up(client, "pitka@example.fi", longest + "x")
    assert r.status_code == 200
    assert password_error(r) == str(escape(translated(app, "At most %(count)s characters.", count=1024)))
    assert users(app) == 0
    r = sign_up(client, "pitka@example.fi", longest)
    assert r.status_code == 302
    confirm_address(app, client, "pitka@example.fi")
    assert log_in(app.test_client(), "pitka@example.fi", longest).status_code == 302
    assert log_in(app.test_client(), "pitka@example.fi", longest[:-1] + "y").status_code == 200


# ---------- existing passwords, reset and change

def test_an_existing_weak_password_still_logs_in(app, make_customer) -> None:
    """Only new passwords are checked: an account made before the rule keeps working."""
    user_id = make_customer()
    with app.app_context():
        session().get(User, user_id).password_hash = PasswordHasher().hash("salasana123")
        commit()
    assert log_in(app.test_client(), password="salasana123").status_code == 302


@both_backends
def test_reset_refuses_a_weak_password_and_keeps_the_old_one_and_the_link(app, client, make_customer) -> None:
    user_id = make_customer()
    with app.app_context():
        issued = accounts.start_password_reset(session(), EMAIL, now=utcnow())
        commit()
    link = f"/auth/reset/{issued.token}"
    for weak in ("qwertyuiop", EMAIL):
        r = client.post(link, data={"csrf_token": form_token(client, link), "password": weak, "confirm": weak})
        assert r.status_code == 200
        assert password_error(r) == str(escape(translated(app, TOO_EASY_SENTENCE)))
    assert get_user(app, user_id).session_version == 1
    assert log_in(app.test_client(), password="qwertyuiop").status_code == 200
    assert log_in(app.test_client()).status_code == 302
    r = client.post(link, data={"csrf_token": form_token(client, link), "password": STRONG, "confirm": STRONG})
    assert r.status_code == 302 and r.headers["Location"] == "/auth/login"
    assert log_in(app.test_client(), password=STRONG).status_code == 302


@both_backends
def test_change_refuses_a_weak_password_and_keeps_the_old_one(app, client, make_customer) -> None:
    user_id = make_customer(name="Aino Virtanen")
    assert log_in(client).status_code == 302
    for weak in ("1234567890", "aaaaaaaaaa", EMAIL, "ainovirtanen"):
        page = client.get("/auth/profile").get_data(as_text=True)
        r = client.post("/auth/profile/password", data={"csrf_token": csrf_of(page), "current": PASSWORD,
                                                        "password": weak, "confirm": weak})
        assert r.status_code == 200, weak
        assert password_error(r) == str(escape(translated(app, TOO_EASY_SENTENCE))), weak
    assert get_user(app, user_id).session_version == 1
    assert outbox(app) == []  # no "your password was changed" notice
    assert log_in(app.test_client()).status_code == 302


# ---------- staff accounts: the admin's form (its service) and the command line

@both_backends
def test_admin_cannot_give_a_weak_temporary_password(app) -> None:
    with app.app_context():
        for weak in ("password123", "uusi.agentti@example.fi"):
            with pytest.raises(InvalidInput, match=TOO_EASY) as refused:
                add_user(session(), "uusi.agentti@example.fi", role=Role.AGENT, name="Uusi", language="fi",
                         password=weak, now=utcnow())
            assert refused.value.field == "password"
        session().rollback()
    assert users(app) == 0


@pytest.mark.parametrize("password", ["password123", "editor@tupa.example"])
def test_user_add_refuses_a_weak_password_with_exit_2(app, runner, password: str) -> None:
    result = runner.invoke(args=["user", "add", "editor@tupa.example", "--role", "editor", "--password-stdin"],
                           input=password + "\n")
    assert result.exit_code == 2
    assert "field 'password': this password is too easy to guess" in result.output
    assert users(app) == 0


def test_user_add_accepts_a_passphrase(app, runner) -> None:
    result = runner.invoke(args=["user", "add", "editor@tupa.example", "--role", "editor", "--password-stdin"],
                           input="Ahvenanmaa2026!kala\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = session().scalar(select(User))
        assert user.email == "editor@tupa.example" and user.password_hash.startswith("$argon2id$")
