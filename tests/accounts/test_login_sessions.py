"""Where an account is logged in (ASVS 3.3.4): each log-in is listed on the profile page with its browser,
address and times, and ending one logs that device out at once, remember-me cookie included. Log-out,
a password change and an admin's disabling end them all; an expired session ends its row."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from kb.db import commit, session, utcnow
from kb.models import LoginSession
from kb.services.accounts import login_sessions
from tests.support.auth_helpers import EMAIL, NEW_PASSWORD, PASSWORD, csrf_of, customer_factory, form_token, log_in
from tests.conftest import both_backends

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.4 Mobile/15E148 Safari/604.1")


def device(app, agent: str, *, remember: bool = False, ip: str = "127.0.0.1"):
    client = app.test_client()
    client.environ_base.update({"HTTP_USER_AGENT": agent, "REMOTE_ADDR": ip})
    assert log_in(client, remember=remember).status_code == 302
    return client


def logged_in(client) -> bool:
    return client.get("/auth/profile").status_code == 200


def rows(app) -> list[LoginSession]:
    with app.app_context():
        found = session().scalars(select(LoginSession).order_by(LoginSession.id)).all()
        session().expunge_all()
        return found


@both_backends
def test_the_profile_lists_each_device_and_ends_one(app) -> None:
    customer_factory(app)()
    laptop = device(app, FIREFOX, ip="198.51.100.7")
    phone = device(app, IPHONE, remember=True, ip="203.0.113.9")
    page = laptop.get("/auth/profile").get_data(as_text=True)
    laptop_row, phone_row = rows(app)
    assert "Firefox · Windows" in page and "198.51.100.7" in page
    assert "Mobile Safari · iOS, iPhone" in page and "203.0.113.9" in page
    assert f'id="device-{phone_row.id}"' in page
    assert f"/auth/sessions/{laptop_row.id}/end" not in page  # this device: the log-out button does that

    r = laptop.post(f"/auth/sessions/{phone_row.id}/end", data={"csrf_token": csrf_of(page)})
    assert r.status_code == 302
    assert not logged_in(phone)
    phone.delete_cookie("session")  # the remember-me cookie alone does not bring it back
    assert not logged_in(phone)
    assert logged_in(laptop)
    assert "203.0.113.9" not in laptop.get("/auth/profile").get_data(as_text=True)


def test_nobody_ends_another_accounts_log_in(app) -> None:
    customer_factory(app)()
    customer_factory(app)("eero@example.com")
    mine = device(app, FIREFOX)
    theirs = app.test_client()
    log_in(theirs, "eero@example.com")
    [_, their_row] = rows(app)
    r = mine.post(f"/auth/sessions/{their_row.id}/end", data={"csrf_token": form_token(mine, "/auth/profile")})
    assert r.status_code == 404
    assert logged_in(theirs)


def test_ending_this_device_from_the_list_is_refused(app) -> None:
    customer_factory(app)()
    laptop = device(app, FIREFOX)
    [row] = rows(app)
    laptop.post(f"/auth/sessions/{row.id}/end", data={"csrf_token": form_token(laptop, "/auth/profile")})
    assert logged_in(laptop) and rows(app)[0].ended_at is None


def test_log_out_and_a_password_change_end_every_listed_device(app) -> None:
    customer_factory(app)()
    laptop, phone = device(app, FIREFOX), device(app, IPHONE)
    page = laptop.get("/auth/profile").get_data(as_text=True)
    laptop.post("/auth/profile/password", data={"csrf_token": csrf_of(page), "current": PASSWORD,
                                                "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert logged_in(laptop) and not logged_in(phone)
    assert [row.ended_at is None for row in rows(app)] == [False, False, True]  # a new log-in for the laptop

    laptop.post("/auth/logout", data={"csrf_token": form_token(laptop, "/auth/profile")})
    assert all(row.ended_at is not None for row in rows(app))


def test_an_admin_disabling_the_account_ends_its_log_ins(app, make_user) -> None:
    from kb.models import Role
    from tests.support.agent_helpers import PASSWORD as STAFF_PASSWORD

    make_user("admin@example.fi", Role.ADMIN)
    user_id = customer_factory(app)()
    customer = device(app, FIREFOX)
    admin = app.test_client()
    log_in(admin, "admin@example.fi", STAFF_PASSWORD)
    admin.post(f"/admin/users/{user_id}/active", data={"csrf_token": form_token(admin, "/admin/users"),
                                                       "active": "0"})
    assert not logged_in(customer)
    assert [row.ended_at is not None for row in rows(app) if row.user_id == user_id] == [True]


def test_an_expired_session_ends_its_row_and_activity_is_noted(app) -> None:
    customer_factory(app)()
    laptop = device(app, FIREFOX)
    with app.app_context():
        row = session().scalar(select(LoginSession))
        row.last_seen_at = utcnow() - timedelta(minutes=30)
        commit()
    with laptop.session_transaction() as state:
        state["auth_touched"] = 0  # the last "last active" write was long ago
    assert logged_in(laptop)
    assert utcnow() - rows(app)[0].last_seen_at < timedelta(minutes=1)

    with laptop.session_transaction() as state:
        state["auth_seen"] -= 3 * 3600  # idle for longer than SESSION_IDLE_TIMEOUT
    assert not logged_in(laptop)
    assert rows(app)[0].ended_at is not None


def test_a_session_from_before_log_ins_were_recorded_still_works(app) -> None:
    user_id = customer_factory(app)()
    laptop = device(app, FIREFOX)
    with laptop.session_transaction() as state:
        state["_user_id"] = f"{user_id}:1"
    assert logged_in(laptop)
    assert "This device" not in laptop.get("/auth/profile").get_data(as_text=True)


@pytest.mark.parametrize("identity", ["1:1:not-a-key", "1:2", "x:1", "99999999999:1", ""])
def test_forged_identities_are_refused(app, identity: str) -> None:
    customer_factory(app)()
    laptop = device(app, FIREFOX)
    with laptop.session_transaction() as state:
        state["_user_id"] = identity
    assert not logged_in(laptop)


def test_old_rows_are_pruned_but_live_ones_kept(app) -> None:
    customer_factory(app)()
    device(app, FIREFOX)
    device(app, IPHONE)
    with app.app_context():
        db = session()
        old, live = db.scalars(select(LoginSession).order_by(LoginSession.id)).all()
        old.ended_at = utcnow() - timedelta(days=31)
        commit()
        assert login_sessions.prune(db, now=utcnow(), idle=timedelta(days=14)) == 1
        commit()
        assert [row.id for row in db.scalars(select(LoginSession))] == [live.id]


def test_the_personal_data_export_lists_log_ins(app) -> None:
    customer_factory(app)()
    laptop = device(app, FIREFOX, ip="198.51.100.7")
    data = laptop.get("/auth/profile/data").get_json(force=True)
    assert [entry["address"] for entry in data["log_ins"]] == ["198.51.100.7"]
    assert EMAIL == data["email"]
