"""Two-step verification through the real pages: setting it up from the QR page's key, the code after the
password (once only), recovery codes, turning it off, an administrator's reset, the staff requirement and
a rotated secret key. Codes come from pyotp, as an authenticator app makes them; the app's clock is held
still and moved by whole 30-second steps so that every case is exact."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import select

import kb.views.accounts.two_factor as two_factor_views
from kb.db import session
from kb.models import RecoveryCode, Role, User
from kb.services.accounts import two_factor
from tests.support.auth_helpers import EMAIL, PASSWORD, customer_factory, form_token, log_in
from tests.conftest import both_backends, translated
from tests.fixtures.mail_helpers import sent_mail


def WRONG_CODE(app) -> str:
    return translated(app, "The code is not correct, or it was used already. Enter the newest code from your app.")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 9, 0, 5, tzinfo=UTC)

    def step(self, steps: int = 1) -> None:
        self.now += timedelta(seconds=30 * steps)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(two_factor_views, "utcnow", lambda: clock.now)
    return clock


def set_up(client, clock: Clock) -> tuple[pyotp.TOTP, list[str]]:
    """Turn it on as a user does: read the key from the page, type the app's code; returns the app and codes."""
    page = client.get("/auth/two-step/setup").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page
    key = re.search(r'<code class="secret-key">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    app_codes = pyotp.TOTP(key)
    r = client.post("/auth/two-step/setup", data={"csrf_token": form_token(client, "/auth/two-step/setup"),
                                                  "code": app_codes.at(clock.now)})
    assert r.status_code == 200
    codes = re.findall(r"<li><code>([0-9a-f]{6}-[0-9a-f]{6})</code></li>", r.get_data(as_text=True))
    assert len(codes) == 10
    return app_codes, codes


def second_step(client, code: str):
    return client.post("/auth/two-step", data={"csrf_token": form_token(client, "/auth/two-step"), "code": code})


def logged_in(client) -> bool:
    return client.get("/auth/profile").status_code == 200


def user_row(app, email: str = EMAIL) -> User:
    with app.app_context():
        user = session().scalar(select(User).where(User.email == email))
        session().expunge(user)
        return user


@both_backends
def test_setting_up_then_logging_in_with_a_code(app, client, clock) -> None:
    customer_factory(app)()
    log_in(client)
    wrong = client.post("/auth/two-step/setup", data={"csrf_token": form_token(client, "/auth/two-step/setup"),
                                                      "code": "000000"})
    assert translated(app, "The code does not match. Check that the time on your phone is right and enter the "
                           "newest code.") in wrong.get_data(as_text=True)
    assert not user_row(app).two_step_enabled

    app_codes, _ = set_up(client, clock)
    stored = user_row(app)
    assert stored.two_step_enabled and app_codes.secret not in stored.totp_secret  # encrypted at rest
    assert any(translated(app, "two-step verification was turned on") in m["Subject"] for m in sent_mail(app))

    client.post("/auth/logout", data={"csrf_token": form_token(client, "/auth/profile")})
    r = log_in(client, next_url="/auth/profile")
    assert r.status_code == 302 and r.headers["Location"] == "/auth/two-step"
    assert not logged_in(client)  # the password alone is not enough

    clock.step()
    assert WRONG_CODE(app) in second_step(client, "123456").get_data(as_text=True)
    assert not logged_in(client)
    r = second_step(client, app_codes.at(clock.now))
    assert r.status_code == 302 and r.headers["Location"] == "/auth/profile"
    assert logged_in(client)


def test_a_code_works_once(app, client, clock) -> None:
    customer_factory(app)()
    log_in(client)
    app_codes, _ = set_up(client, clock)
    code = app_codes.at(clock.now)  # the code that turned it on
    other = app.test_client()
    log_in(other)
    assert WRONG_CODE(app) in second_step(other, code).get_data(as_text=True)
    assert not logged_in(other)
    clock.step()
    code = app_codes.at(clock.now)
    assert second_step(other, code).status_code == 302
    third = app.test_client()
    log_in(third)
    second_step(third, code)
    assert not logged_in(third)


def test_codes_from_a_phone_a_little_off_work_but_old_ones_do_not(app, client, clock) -> None:
    customer_factory(app)()
    log_in(client)
    app_codes, _ = set_up(client, clock)
    clock.step(5)
    for offset, accepted in ((-2, False), (3, False), (1, True)):
        other = app.test_client()
        log_in(other)
        second_step(other, app_codes.at(clock.now + timedelta(seconds=30 * offset)))
        assert logged_in(other) is accepted, offset


def test_a_recovery_code_logs_in_once(app, client, clock) -> None:
    customer_factory(app)()
    log_in(client)
    _, codes = set_up(client, clock)
    for attempt, expected in ((codes[3].upper().replace("-", " "), True), (codes[3], False)):
        other = app.test_client()
        log_in(other)
        r = second_step(other, attempt)
        assert logged_in(other) is expected
    with app.app_context():
        assert session().scalar(select(RecoveryCode).where(RecoveryCode.used_at.is_not(None))) is not None
    profile = client.get("/auth/profile").get_data(as_text=True)
    assert "9 varakoodia jäljellä." in profile
    assert r.status_code == 200


def test_new_recovery_codes_replace_the_old_ones(app, client, clock) -> None:
    customer_factory(app)()
    log_in(client)
    app_codes, old = set_up(client, clock)
    clock.step()
    r = client.post("/auth/two-step/recovery-codes", data={"csrf_token": form_token(client, "/auth/profile"),
                                                           "code": app_codes.at(clock.now)})
    new = re.findall(r"<li><code>([0-9a-f]{6}-[0-9a-f]{6})</code></li>", r.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    other = app.test_client()
    log_in(other)
    second_step(other, old[0])
    assert not logged_in(other)
    second_step(other, new[0])
    assert logged_in(other)


def test_the_code_page_expires_and_needs_the_password_first(app, client, clock) -> None:
    customer_factory(app)()
    log_in(client)
    app_codes, _ = set_up(client, clock)
    anonymous = app.test_client()
    assert anonymous.get("/auth/two-step").headers["Location"] == "/auth/login"
    log_in(anonymous)
    with anonymous.session_transaction() as stored:
        stored[two_factor_views.PENDING]["at"] -= two_factor_views.PENDING_SECONDS + 1
        stored.modified = True
    clock.step()
    r = anonymous.post("/auth/two-step", data={"csrf_token": form_token(anonymous, "/auth/login"),
                                               "code": app_codes.at(clock.now)})
    assert r.status_code == 302 and r.headers["Location"] == "/auth/login"
    assert not logged_in(anonymous)


def test_turning_it_off_needs_the_password_and_a_code(app, client, clock) -> None:
    customer_factory(app)()
    log_in(client)
    app_codes, _ = set_up(client, clock)
    clock.step()
    token = form_token(client, "/auth/profile")
    client.post("/auth/two-step/disable", data={"csrf_token": token, "password": "not my password",
                                                "code": app_codes.at(clock.now)})
    assert user_row(app).two_step_enabled
    clock.step()
    client.post("/auth/two-step/disable", data={"csrf_token": token, "password": PASSWORD, "code": "000000"})
    assert user_row(app).two_step_enabled
    clock.step()
    r = client.post("/auth/two-step/disable", data={"csrf_token": token, "password": PASSWORD,
                                                    "code": app_codes.at(clock.now)})
    assert r.status_code == 302
    assert not user_row(app).two_step_enabled
    with app.app_context():
        assert session().scalar(select(RecoveryCode)) is None
    subjects = [" ".join(m["Subject"].split()) for m in sent_mail(app)]  # unfolded
    assert any(translated(app, "two-step verification was turned off") in s for s in subjects), subjects


def test_staff_must_set_it_up_when_the_shop_requires_it(app, clock, make_user) -> None:
    from tests.support.agent_helpers import PASSWORD as STAFF_PASSWORD

    app.config["TWO_STEP_REQUIRED_FOR_STAFF"] = True
    make_user("agentti@example.fi", Role.AGENT)
    customer_factory(app)()
    agent, customer = app.test_client(), app.test_client()
    log_in(agent, "agentti@example.fi", STAFF_PASSWORD)
    r = agent.get("/agent/")
    assert r.status_code == 302 and r.headers["Location"] == "/auth/two-step/setup"
    assert agent.get("/agent/", headers={"Accept": "application/json"}).status_code == 403
    app_codes, _ = set_up(agent, clock)
    assert agent.get("/agent/").status_code == 200
    clock.step()
    agent.post("/auth/two-step/disable", data={"csrf_token": form_token(agent, "/auth/profile"),
                                               "password": STAFF_PASSWORD, "code": app_codes.at(clock.now)})
    assert user_row(app, "agentti@example.fi").two_step_enabled  # refused for staff
    log_in(customer)
    assert customer.get("/tili/tilaukset").status_code == 200  # customers choose for themselves


def test_an_administrator_can_turn_it_off_for_a_lost_phone(app, clock, make_user) -> None:
    from tests.support.agent_helpers import PASSWORD as STAFF_PASSWORD

    make_user("admin@example.fi", Role.ADMIN)
    agent_id = make_user("agentti@example.fi", Role.AGENT)
    agent, admin = app.test_client(), app.test_client()
    log_in(agent, "agentti@example.fi", STAFF_PASSWORD)
    set_up(agent, clock)
    log_in(admin, "admin@example.fi", STAFF_PASSWORD)
    page = admin.get("/admin/users").get_data(as_text=True)
    assert f"/admin/users/{agent_id}/two-step/reset" in page
    r = admin.post(f"/admin/users/{agent_id}/two-step/reset", data={"csrf_token": form_token(admin, "/admin/users")})
    assert r.status_code == 302
    assert not user_row(app, "agentti@example.fi").two_step_enabled
    assert any(m["To"] == "agentti@example.fi"
               and translated(app, "an administrator turned two-step verification off", "en") in m["Subject"]
               for m in sent_mail(app))
    assert log_in(app.test_client(), "agentti@example.fi", STAFF_PASSWORD).headers["Location"] != "/auth/two-step"


def test_a_rotated_secret_key_keeps_codes_working_through_its_fallback(app, client, clock) -> None:
    customer_factory(app)()
    log_in(client)
    app_codes, _ = set_up(client, clock)
    old_key = app.config["SECRET_KEY"]
    app.config.update(SECRET_KEY="a-new-secret-key", SECRET_KEY_FALLBACKS=[old_key])
    other = app.test_client()
    log_in(other)
    clock.step()
    second_step(other, app_codes.at(clock.now))
    assert logged_in(other)
    with app.app_context():  # encrypted again with the new key: the old one can now be dropped
        user = session().scalar(select(User).where(User.email == EMAIL))
        assert two_factor._secret(user, ["a-new-secret-key"]) == (app_codes.secret, False)

    app.config.update(SECRET_KEY="yet-another-key", SECRET_KEY_FALLBACKS=[])
    third = app.test_client()
    log_in(third)
    clock.step()
    page = second_step(third, app_codes.at(clock.now)).get_data(as_text=True)
    assert translated(app, "Two-step verification cannot be checked for this account. Ask an administrator to "
                           "reset it.") in page
    assert not logged_in(third)


def test_wrong_codes_lock_the_second_step(tmp_path, new_database, clock) -> None:
    from kb import create_app
    from kb.db import database
    from tests.conftest import _config

    app = create_app({**_config(tmp_path / "limited", new_database(tmp_path / "limited")), "RATELIMIT_ENABLED": True})
    try:
        customer_factory(app)()
        client = app.test_client()
        log_in(client)
        app_codes, _ = set_up(client, clock)
        attacker = app.test_client()
        log_in(attacker)
        statuses = [second_step(attacker, f"{n:06d}").status_code for n in range(6)]
        assert statuses == [200] * 5 + [429]
        clock.step()
        assert second_step(attacker, app_codes.at(clock.now)).status_code == 429
    finally:
        database(app).dispose()


def test_codes_that_are_not_six_digits_are_refused_without_a_lookup(app) -> None:
    secret = two_factor.new_secret()
    now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    code = pyotp.TOTP(secret).at(now)
    assert two_factor._matching_step(secret, code, now) is not None
    assert two_factor._matching_step(secret, f" {code[:3]} {code[3:]} ", now) is not None
    for bad in ("", "12345", "1234567", "abcdef", code + "0"):
        assert two_factor._matching_step(secret, bad, now) is None


def test_the_pages_are_translated(app, client) -> None:
    customer_factory(app)()
    log_in(client)
    for language, title in (("fi", "Ota kaksivaiheinen tunnistautuminen käyttöön"),
                            ("sv", "Aktivera tvåstegsverifiering")):
        with client.session_transaction() as stored:
            stored["lang"] = language
        page = client.get("/auth/two-step/setup").get_data(as_text=True)
        assert f"<h1 id=\"setup-title\">{title}</h1>" in page
