"""Admin settings through the real forms: users and roles (add, invite, change role,
disable with log-out), channels and weekly hours, special days, shop settings;
who may open them, CSRF on every POST, and bad input that stores nothing."""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from kb.db import commit, session
from kb.models import Channel, ChannelKind, Role, Setting, SpecialDay, User
from kb.services.shop.channels import get_setting
from tests.support.auth_helpers import create_account, csrf_of, log_in
from tests.conftest import both_backends, translated
from tests.fixtures.mail_helpers import sent_mail as outbox

ADMIN = "admin@example.fi"
SETTINGS_PAGES = ["/admin/users", "/admin/channels", "/admin/channels/new", "/admin/special-days", "/admin/settings"]
WEEK = {f"hours_{day}": "" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@pytest.fixture
def admin(app):
    """A logged-in admin's client."""
    create_account(app, ADMIN, Role.ADMIN)
    client = app.test_client()
    assert log_in(client, ADMIN).status_code == 302
    return client


def token(client, url: str = "/admin/users") -> str:
    return csrf_of(client.get(url).get_data(as_text=True))


def count(app, model) -> int:
    with app.app_context():
        return session().scalar(select(func.count()).select_from(model))


def channel_form(**fields: str) -> dict[str, str]:
    return {"kind": "chat", "position": "5", "address": "https://tupa.example/chat", "label_fi": "Chat",
            "label_sv": "Chatt", "label_en": "Chat", "response_time_fi": "Muutamassa minuutissa",
            "response_time_sv": "", "response_time_en": "Within minutes", **WEEK,
            "hours_mon": "09:00-17:00", "hours_tue": "9.00-12.00, 13:00-17:00", **fields}


# ---------- who may come in

@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.EDITOR, Role.AGENT, Role.MANAGER])
def test_settings_are_for_admins_only(app, role) -> None:
    create_account(app, "someone@example.fi", role)
    target = create_account(app, "other@example.fi", Role.AGENT)
    client = app.test_client()
    log_in(client, "someone@example.fi")
    for url in SETTINGS_PAGES:
        assert client.get(url).status_code == 403, url
    csrf = csrf_of(client.get("/auth/profile").get_data(as_text=True))
    r = client.post(f"/admin/users/{target}/active", data={"csrf_token": csrf, "active": "0"})
    assert r.status_code == 403
    assert client.post("/admin/settings", data={"csrf_token": csrf, "shop_name": "X"}).status_code == 403
    with app.app_context():
        assert session().get(User, target).is_active and get_setting(session(), "shop_name") == ""


def test_guests_are_sent_to_log_in(client) -> None:
    for url in SETTINGS_PAGES:
        r = client.get(url)
        assert r.status_code == 302 and r.headers["Location"] == f"/auth/login?next={url}", url


def test_every_settings_post_needs_csrf(app, admin) -> None:
    """Generated from the URL map: a new POST route under /admin is checked too."""
    target = create_account(app, "agent@example.fi", Role.AGENT)
    with app.app_context():
        session().add(Channel(kind=ChannelKind.CHAT, labels={"fi": "Chat"}, hours={}))
        session().add(SpecialDay(day=datetime(2026, 12, 24).date(), hours=[], notes={}))
        commit()
    args = {"user_id": target, "channel_id": 1, "day_id": 1}
    posts = [rule for rule in app.url_map.iter_rules()
             if rule.endpoint.startswith("admin.") and "POST" in (rule.methods or ())]
    assert len(posts) >= 8
    for rule in posts:
        url = rule.build({k: v for k, v in args.items() if k in rule.arguments})[1]
        r = admin.post(url, data={"active": "0", "role": "admin", "shop_name": "X", "email": "x@example.fi",
                                  "day": "2026-12-31", "closed": "1", **channel_form()})
        assert r.status_code == 400, url
    assert count(app, User) == 2 and count(app, Channel) == 1 and count(app, SpecialDay) == 1
    with app.app_context():
        assert session().get(User, target).role is Role.AGENT and session().get(User, target).is_active


# ---------- users and roles

@both_backends
def test_add_user_with_temporary_password(app, admin) -> None:
    r = admin.post("/admin/users", data={"csrf_token": token(admin), "email": "Uusi.Agentti@Example.FI",
                                         "name": "Uusi", "role": "agent", "language": "fi",
                                         "password": "temporary pass 1"})
    assert r.status_code == 302 and r.headers["Location"] == "/admin/users"
    assert "uusi.agentti@example.fi" in admin.get("/admin/users").get_data(as_text=True).lower()
    assert outbox(app) == []
    other = app.test_client()
    assert log_in(other, "Uusi.Agentti@example.fi", "temporary pass 1").status_code == 302
    assert other.get("/admin/dashboard").status_code == 200


@both_backends
def test_add_user_by_invitation(app, admin) -> None:
    r = admin.post("/admin/users", data={"csrf_token": token(admin), "email": "editori@example.fi", "name": "",
                                         "role": "editor", "language": "en", "password": ""})
    assert r.status_code == 302
    [mail] = outbox(app)
    assert mail["To"] == "editori@example.fi"
    link = re.search(r"http://localhost(/auth/reset/[A-Za-z0-9_\-]+)", mail.get_content())
    assert link and "for 3 days" in mail.get_content()
    assert app.test_client().get(link.group(1)).status_code == 200
    with app.app_context():
        user = session().scalar(select(User).where(User.email == "editori@example.fi"))
        assert user.role is Role.EDITOR and user.password_hash is None


@both_backends
@pytest.mark.parametrize("fields, message", [
    # (msgid, values): the sentence the admin reads (this admin reads English)
    ({"email": "not-an-address"}, ("Enter a valid e-mail address.", {})),
    ({"email": ADMIN}, ("An account with this e-mail address already exists.", {})),
    ({"password": "short"}, ("At least %(count)s characters.", {"count": 10})),
    ({"role": "superuser"}, ("Choose a role from the list.", {})),
    ({"language": "de"}, ("Choose a language from the list.", {})),
    ({"name": "x" * 121}, ("At most %(count)s characters.", {"count": 120})),
], ids=["email", "taken", "password", "role", "language", "name"])
def test_add_user_refuses_bad_input(app, admin, fields, message) -> None:
    data = {"csrf_token": token(admin), "email": "new@example.fi", "name": "New", "role": "agent",
            "language": "fi", "password": "", **fields}
    r = admin.post("/admin/users", data=data)
    assert r.status_code == 400
    assert str(escape(translated(app, message[0], "en", **message[1]))) in r.get_data(as_text=True)
    assert count(app, User) == 1 and outbox(app) == []


@both_backends
def test_change_role(app, admin) -> None:
    agent = create_account(app, "agent@example.fi", Role.AGENT)
    r = admin.post(f"/admin/users/{agent}/role", data={"csrf_token": token(admin), "role": "manager"})
    assert r.status_code == 302
    with app.app_context():
        assert session().get(User, agent).role is Role.MANAGER
    r = admin.post(f"/admin/users/{agent}/role", data={"csrf_token": token(admin), "role": "owner"})
    assert r.status_code == 400 and "Choose a role from the list." in r.get_data(as_text=True)
    assert admin.post("/admin/users/9999/role", data={"csrf_token": token(admin), "role": "agent"}).status_code == 404
    with app.app_context():
        me = session().scalar(select(User.id).where(User.email == ADMIN))
    r = admin.post(f"/admin/users/{me}/role", data={"csrf_token": token(admin), "role": "agent"})
    assert r.status_code == 400 and "your own account" in r.get_data(as_text=True)
    with app.app_context():
        assert session().get(User, agent).role is Role.MANAGER
        assert session().get(User, me).role is Role.ADMIN


@both_backends
def test_disabling_logs_the_user_out(app, admin) -> None:
    agent = create_account(app, "agent@example.fi", Role.AGENT)
    theirs = app.test_client()
    log_in(theirs, "agent@example.fi")
    assert theirs.get("/admin/dashboard").status_code == 200
    r = admin.post(f"/admin/users/{agent}/active", data={"csrf_token": token(admin), "active": "0"})
    assert r.status_code == 302
    with app.app_context():
        user = session().get(User, agent)
        assert not user.is_active and user.session_version == 2
    r = theirs.get("/admin/dashboard")
    assert r.status_code == 302 and r.headers["Location"].startswith("/auth/login")
    assert log_in(theirs, "agent@example.fi").status_code == 200      # refused: the form again
    r = admin.post(f"/admin/users/{agent}/active", data={"csrf_token": token(admin), "active": "1"})
    assert r.status_code == 302
    assert log_in(app.test_client(), "agent@example.fi").status_code == 302


@both_backends
def test_admin_cannot_lock_the_shop_out(app, admin) -> None:
    with app.app_context():
        me = session().scalar(select(User.id).where(User.email == ADMIN))
    for value in ("0", "maybe"):
        r = admin.post(f"/admin/users/{me}/active", data={"csrf_token": token(admin), "active": value})
        assert r.status_code == 400
    other = create_account(app, "admin2@example.fi", Role.ADMIN)
    # two admins: one may disable the other, but then not the last one (themselves)
    assert admin.post(f"/admin/users/{other}/active", data={"csrf_token": token(admin), "active": "0"}).status_code == 302
    with app.app_context():
        assert session().scalar(select(func.count(User.id)).where(User.role == Role.ADMIN, User.is_active)) == 1
    assert admin.post("/admin/users/9999/active", data={"csrf_token": token(admin), "active": "0"}).status_code == 404


# ---------- channels and hours

@both_backends
def test_add_and_edit_a_channel(app, admin) -> None:
    r = admin.post("/admin/channels/new", data={"csrf_token": token(admin, "/admin/channels/new"), **channel_form()})
    assert r.status_code == 302 and r.headers["Location"] == "/admin/channels"
    with app.app_context():
        channel = session().scalar(select(Channel))
        assert channel.kind is ChannelKind.CHAT and channel.labels == {"fi": "Chat", "sv": "Chatt", "en": "Chat"}
        assert channel.response_times == {"fi": "Muutamassa minuutissa", "en": "Within minutes"}
        assert channel.hours["mon"] == [["09:00", "17:00"]]
        assert channel.hours["tue"] == [["09:00", "12:00"], ["13:00", "17:00"]] and channel.hours["sun"] == []
        cid = channel.id
    page = admin.get(f"/admin/channels/{cid}").get_data(as_text=True)
    assert 'value="09:00-12:00, 13:00-17:00"' in page
    r = admin.post(f"/admin/channels/{cid}", data={"csrf_token": csrf_of(page),
                                                  **channel_form(label_en="Live chat", hours_sat="10:00-14:00")})
    assert r.status_code == 302
    assert "Live chat" in app.test_client().get("/en/").get_data(as_text=True)
    with app.app_context():
        assert session().get(Channel, cid).hours["sat"] == [["10:00", "14:00"]]
    assert admin.get("/admin/channels/999").status_code == 404
    r = admin.post(f"/admin/channels/{cid}/delete", data={"csrf_token": token(admin, "/admin/channels")})
    assert r.status_code == 302 and count(app, Channel) == 0


@both_backends
@pytest.mark.parametrize("fields, field, message", [
    ({"hours_mon": "25:00-17:00"}, "hours_mon",
     ("“%(value)s” is not a time such as 09:00 (use 23:59 for midnight).", {"value": "25:00"})),
    ({"hours_wed": "17:00-09:00"}, "hours_wed", ("A closing time must be after its opening time.", {})),
    ({"hours_thu": "nine to five"}, "hours_thu", ("Write the hours as 09:00-17:00.", {})),
    ({"hours_fri": "09:00-13:00, 12:00-17:00"}, "hours_fri", ("The time spans overlap.", {})),
    ({"kind": "pigeon"}, "kind", ("Choose a channel type from the list.", {})),
    ({"kind": "email", "address": "not mail"}, "address", ("Enter a valid e-mail address.", {})),
    ({"address": "javascript:alert(1)"}, "address", ("Give an https:// address or a path on this site.", {})),
    ({"position": "first"}, "position", ("Give a whole number from 0 to 10000.", {})),
    ({"label_sv": "x" * 81}, "label_sv", ("At most %(count)s characters.", {"count": 80})),
], ids=["time", "closing", "format", "overlap", "kind", "email", "address", "position", "label"])
def test_channel_form_refuses_bad_input(app, admin, fields, field, message) -> None:
    with app.app_context():
        session().add(Channel(kind=ChannelKind.CHAT, labels={"fi": "Vanha"}, hours={"mon": [["08:00", "16:00"]]}))
        commit()
    r = admin.post("/admin/channels/1", data={"csrf_token": token(admin, "/admin/channels/1"), **channel_form(**fields)})
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    shown = str(escape(translated(app, message[0], "en", **message[1])))
    assert shown in html and f'id="{field}-error"' in html and "Nothing was saved" in html
    with app.app_context():
        channel = session().get(Channel, 1)
        assert channel.labels == {"fi": "Vanha"} and channel.hours == {"mon": [["08:00", "16:00"]]}
    r = admin.post("/admin/channels/new", data={"csrf_token": token(admin, "/admin/channels/new"),
                                                **channel_form(**fields)})
    assert r.status_code == 400 and count(app, Channel) == 1


# ---------- special days

@both_backends
def test_special_day_closes_every_channel(app, admin) -> None:
    always = {f"hours_{d}": "00:00-23:59" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    admin.post("/admin/channels/new", data={"csrf_token": token(admin, "/admin/channels/new"),
                                            **channel_form(**always)})
    today = datetime.now(ZoneInfo(app.config["TIMEZONE"])).date().isoformat()
    r = admin.post("/admin/special-days", data={"csrf_token": token(admin, "/admin/special-days"), "day": today,
                                                "closed": "1", "hours": "", "note_fi": "Inventaario",
                                                "note_en": "Stocktaking"})
    assert r.status_code == 302
    home = app.test_client().get("/en/").get_data(as_text=True)
    assert "Closed now" in home and "Today: Stocktaking" in home
    # the same date again replaces it: open shorter hours
    r = admin.post("/admin/special-days", data={"csrf_token": token(admin, "/admin/special-days"), "day": today,
                                                "hours": "10:00-14:00", "note_en": "Short day"})
    assert r.status_code == 302
    with app.app_context():
        [day] = session().scalars(select(SpecialDay)).all()
        assert day.hours == [["10:00", "14:00"]] and day.notes == {"en": "Short day"}
        day_id = day.id
    from datetime import date
    written = date.fromisoformat(today).strftime("%-d %b %Y")  # the page is in English: "6 Dec 2026", not ISO
    assert written in admin.get("/admin/special-days").get_data(as_text=True)
    r = admin.post(f"/admin/special-days/{day_id}/delete", data={"csrf_token": token(admin, "/admin/special-days")})
    assert r.status_code == 302 and count(app, SpecialDay) == 0
    assert admin.post("/admin/special-days/999/delete",
                      data={"csrf_token": token(admin, "/admin/special-days")}).status_code == 404


@both_backends
@pytest.mark.parametrize("fields, message", [
    ({"day": "24.12.2026", "closed": "1"}, "Give a date in the form YYYY-MM-DD."),
    ({"day": "2026-02-30", "closed": "1"}, "Give a date in the form YYYY-MM-DD."),
    ({"day": "2026-12-24"}, "Give the hours, or mark the day closed."),
    ({"day": "2026-12-24", "hours": "14:00-10:00"}, "closing time must be after its opening time"),
    ({"day": "2026-12-24", "closed": "1", "note_fi": "x" * 201}, "At most 200 characters."),
])
def test_special_day_refuses_bad_input(app, admin, fields, message) -> None:
    r = admin.post("/admin/special-days", data={"csrf_token": token(admin, "/admin/special-days"), "hours": "",
                                                **fields})
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert message in html and "Nothing was saved" in html
    assert count(app, SpecialDay) == 0


# ---------- shop settings

@both_backends
def test_shop_settings(app, admin, create_article) -> None:
    create_article(slug="palautukset", title="Palautukset")
    data = {"csrf_token": token(admin, "/admin/settings"), "shop_name": "Tupa", "legal_name": "Tupa Koti Oy",
            "return_window_days": "30", "help_article_returns": "palautukset", "help_article_tracking": "",
            "help_article_changes": "", "help_article_invoices": ""}
    r = admin.post("/admin/settings", data=data)
    assert r.status_code == 302 and r.headers["Location"] == "/admin/settings"
    with app.app_context():
        db = session()
        assert (get_setting(db, "shop_name"), get_setting(db, "return_window_days")) == ("Tupa", "30")
        assert get_setting(db, "help_article_returns") == "palautukset"
    assert "<title>Shop settings · Tupa</title>" in admin.get("/admin/settings").get_data(as_text=True)


@both_backends
@pytest.mark.parametrize("fields, field, message", [
    ({"shop_name": ""}, "shop_name", "required"),
    ({"return_window_days": "-1"}, "return_window_days", "Give a whole number of days from 0 to 365."),
    ({"return_window_days": "400"}, "return_window_days", "Give a whole number of days from 0 to 365."),
    ({"help_article_tracking": "no-such-article"}, "help_article_tracking", "No published article has the address"),
    ({"legal_name": "x" * 201}, "legal_name", "At most 200 characters."),
])
def test_shop_settings_refuse_bad_input(app, admin, fields, field, message) -> None:
    data = {"csrf_token": token(admin, "/admin/settings"), "shop_name": "Uusi nimi", "return_window_days": "21",
            **fields}
    r = admin.post("/admin/settings", data=data)
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert message in html and f'id="{field}-error"' in html
    assert count(app, Setting) == 0
