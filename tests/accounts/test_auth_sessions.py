"""Sessions through the real forms: log-out, CSRF, session ending and expiry, and log-in rate limits."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from markupsafe import escape

from kb import create_app
from kb.db import commit, database, session, utcnow
from kb.models import Role
from kb.services.accounts.users import create_user
from tests.support.auth_helpers import EMAIL, NEW_PASSWORD, PASSWORD, csrf_of, form_token, get_user, log_in
from tests.conftest import _config, both_backends, translated
from tests.fixtures.mail_helpers import sent_mail as outbox


# ---------- helpers


def log_out(client):
    token = csrf_of(client.get("/auth/profile").get_data(as_text=True))
    return client.post("/auth/logout", data={"csrf_token": token})


@pytest.fixture
def limited_app(tmp_path: Path, new_database):
    """An app with rate limits switched on (the test config switches them off)."""
    instance = tmp_path / "limited"
    app = create_app({**_config(instance, new_database(instance)), "RATELIMIT_ENABLED": True})
    yield app
    database(app).dispose()


# ---------- sessions

def test_logout_over_get_is_not_allowed(client) -> None:
    assert client.get("/auth/logout").status_code == 405


def test_login_and_logout_without_csrf_token_are_refused(client, make_customer) -> None:
    make_customer()
    client.get("/auth/login")
    r = client.post("/auth/login", data={"email": EMAIL, "password": PASSWORD})
    assert r.status_code == 400
    assert client.get("/auth/profile").status_code == 302
    assert log_in(client).status_code == 302
    assert client.post("/auth/logout").status_code == 400
    assert client.get("/auth/profile").status_code == 200


@both_backends
def test_cookie_replay_after_logout_fails(app, client, make_customer) -> None:
    user_id = make_customer()
    log_in(client, remember=True)
    captured = {name: client.get_cookie(name).value for name in ("session", "remember_token")}
    r = log_out(client)
    assert r.status_code == 302
    assert client.get("/auth/profile").status_code == 302
    assert get_user(app, user_id).session_version == 2

    replay = app.test_client()
    for name, value in captured.items():
        replay.set_cookie(name, value)
    r = replay.get("/auth/profile")
    assert r.status_code == 302 and r.headers["Location"].startswith("/auth/login")


@both_backends
def test_password_change_ends_other_sessions_and_keeps_this_one(app, client, make_customer) -> None:
    make_customer()
    other = app.test_client()
    log_in(client)
    log_in(other)
    captured = client.get_cookie("session").value

    page = client.get("/auth/profile").get_data(as_text=True)
    r = client.post("/auth/profile/password", data={"csrf_token": csrf_of(page), "current": PASSWORD,
                                                    "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert r.status_code == 302 and r.headers["Location"] == "/auth/profile"
    assert client.get("/auth/profile").status_code == 200
    assert other.get("/auth/profile").status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", captured)
    assert replay.get("/auth/profile").status_code == 302
    assert log_in(app.test_client(), password=PASSWORD).status_code == 200
    assert log_in(app.test_client(), password=NEW_PASSWORD).status_code == 302
    [notice] = outbox(app)  # ASVS 2.2.3: a change made by someone else must not go unnoticed
    assert notice["To"] == EMAIL and translated(
        app, "Your %(shop)s password was changed", shop=app.config["SHOP_NAME"]) == notice["Subject"]


def test_password_change_needs_the_current_password(app, client, make_customer) -> None:
    user_id = make_customer()
    log_in(client)
    before = get_user(app, user_id)
    page = client.get("/auth/profile").get_data(as_text=True)
    r = client.post("/auth/profile/password", data={"csrf_token": csrf_of(page), "current": "not my password",
                                                    "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert r.status_code == 200
    message = escape(translated(app, "That is not your current password."))
    assert f'<p id="current-error" class="field-error">{message}</p>' in r.get_data(as_text=True)
    after = get_user(app, user_id)
    assert (after.password_hash, after.session_version) == (before.password_hash, before.session_version)
    assert client.get("/auth/profile").status_code == 200


def test_login_starts_a_new_session(client, make_customer) -> None:
    make_customer()
    client.get("/auth/login")
    with client.session_transaction() as sess:
        sess["visitor"] = "anonymous-visitor"
        sess["lang"] = "sv"
        old_csrf = sess["csrf_token"]
    anonymous_cookie = client.get_cookie("session").value
    assert log_in(client).status_code == 302
    assert client.get_cookie("session").value != anonymous_cookie
    with client.session_transaction() as sess:
        assert "visitor" not in sess
        assert sess["lang"] == "sv"
        assert sess.get("csrf_token") != old_csrf
        user_id, version, key = sess["_user_id"].split(":")  # the session version and the log-in's key
        assert version == "1" and len(key) >= 40


@pytest.mark.parametrize("stamps", [{"auth_seen": -3 * 3600}, {"auth_started": -13 * 3600}],
                         ids=["idle", "absolute"])
def test_sessions_expire_when_idle_and_after_twelve_hours(client, make_customer, stamps: dict) -> None:
    make_customer()
    log_in(client)
    with client.session_transaction() as sess:
        for key, delta in stamps.items():
            sess[key] = int(time.time()) + delta
    r = client.get("/auth/profile")
    assert r.status_code == 302 and r.headers["Location"].startswith("/auth/login")
    with client.session_transaction() as sess:
        assert "_user_id" not in sess


def test_remembered_log_in_outlives_the_idle_timeout(client, make_customer) -> None:
    make_customer()
    log_in(client, remember=True)
    with client.session_transaction() as sess:
        sess["auth_seen"] = int(time.time()) - 3 * 3600
    assert client.get("/auth/profile").status_code == 200
    client.delete_cookie("session")  # browser restarted: the remember cookie logs in again
    assert client.get("/auth/profile").status_code == 200
    with client.session_transaction() as sess:
        assert sess["auth_remember"] is True


def test_header_offers_log_in_then_a_log_out_form(client, make_customer) -> None:
    make_customer()
    html = client.get("/fi/").get_data(as_text=True)
    assert 'href="/auth/login?next=/fi/"' in html and "/auth/logout" not in html
    log_in(client)
    html = client.get("/auth/profile").get_data(as_text=True)
    assert re.search(r'<form class="inline-form" method="post" action="/auth/logout">\s*'
                     r'<input type="hidden" name="csrf_token" value="[^"]+">', html)


# ---------- rate limits

def test_eleventh_login_post_in_a_minute_is_refused(limited_app) -> None:
    client = limited_app.test_client()
    token = form_token(client, "/auth/login")
    for n in range(10):
        r = client.post("/auth/login", data={"csrf_token": token, "email": f"user{n}@example.fi", "password": "x"})
        assert r.status_code == 200
    r = client.post("/auth/login", data={"csrf_token": token, "email": "user10@example.fi", "password": "x"})
    assert r.status_code == 429
    other_ip = client.post("/auth/login", data={"csrf_token": token, "email": "u@example.fi", "password": "x"},
                           environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other_ip.status_code == 200


def test_five_failures_lock_the_address_from_every_client(limited_app) -> None:
    with limited_app.app_context():
        create_user(session(), EMAIL, role=Role.CUSTOMER, password=PASSWORD, now=utcnow())
        commit()
    attacker = limited_app.test_client()
    for _ in range(5):
        r = log_in(attacker, EMAIL, "guess guess guess", environ={"REMOTE_ADDR": "10.0.0.1"})
        assert r.status_code == 200
    owner = limited_app.test_client()
    r = log_in(owner, EMAIL.upper().replace("@EXAMPLE.FI", "@example.fi"), PASSWORD,
               environ={"REMOTE_ADDR": "10.0.0.2"})
    assert r.status_code == 429
    assert log_in(owner, "someone@example.fi", "a wrong one", environ={"REMOTE_ADDR": "10.0.0.2"}).status_code == 200


def test_successful_logins_do_not_count_as_failures(limited_app) -> None:
    with limited_app.app_context():
        create_user(session(), EMAIL, role=Role.CUSTOMER, password=PASSWORD, now=utcnow())
        commit()
    for n in range(7):
        client = limited_app.test_client()
        assert log_in(client, environ={"REMOTE_ADDR": f"10.0.1.{n}"}).status_code == 302


def test_reset_requests_for_one_address_are_limited(limited_app) -> None:
    client = limited_app.test_client()
    statuses = []
    for n in range(4):
        r = client.post("/auth/reset", data={"csrf_token": form_token(client, "/auth/reset"), "email": EMAIL},
                        environ_base={"REMOTE_ADDR": f"10.0.2.{n}"})
        statuses.append(r.status_code)
    assert statuses == [302, 302, 302, 429]
