"""The security event log (ASVS 7.1-7.3): what an investigator finds after log-ins, lock-outs, password
resets, administrators' changes and refused requests, and what never gets written (passwords, tokens,
e-mail addresses in clear). Each test reads the JSON lines the app wrote to a real file."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kb import create_app
from kb.db import database
from kb.models import Role
from kb.security_log import email_ref
from tests.support.auth_helpers import EMAIL, NEW_PASSWORD, PASSWORD, csrf_of, customer_factory, form_token, log_in
from tests.conftest import _config, both_backends
from tests.fixtures.mail_helpers import sent_mail


def _app(tmp_path: Path, new_database, **extra):
    instance = tmp_path / "instance"
    return create_app({**_config(instance, new_database(instance)), "SECURITY_LOG": str(tmp_path / "security.log"),
                       **extra})


@pytest.fixture
def app(tmp_path: Path, new_database):
    app = _app(tmp_path, new_database)
    yield app
    database(app).dispose()


@pytest.fixture
def limited_app(tmp_path: Path, new_database):
    app = _app(tmp_path, new_database, RATELIMIT_ENABLED=True)
    yield app
    database(app).dispose()


def events(tmp_path: Path) -> list[dict]:
    path = tmp_path / "security.log"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [json.loads(line) for line in lines]


def raw_log(tmp_path: Path) -> str:
    return (tmp_path / "security.log").read_text(encoding="utf-8")


@both_backends
def test_log_ins_and_log_outs_are_recorded_with_address_and_account(app, client, tmp_path) -> None:
    user_id = customer_factory(app)()
    assert log_in(client, EMAIL, "not the password").status_code == 200
    assert log_in(client, EMAIL).status_code == 302
    client.post("/auth/logout", data={"csrf_token": form_token(client, "/auth/profile")})

    failure, success, logout = events(tmp_path)
    with app.app_context():
        ref = email_ref(EMAIL)
    assert (failure["event"], failure["outcome"], failure["email_ref"]) == ("login", "failure", ref)
    assert (failure["ip"], failure["method"], failure["route"]) == ("127.0.0.1", "POST", "/auth/login")
    assert "user_id" not in failure  # a failed log-in does not say whether the address has an account
    assert (success["event"], success["outcome"], success["user_id"], success["user_role"]) == \
        ("login", "success", user_id, "customer")
    assert (logout["event"], logout["actor_id"], logout["user_id"]) == ("logout", user_id, user_id)
    for entry in (failure, success, logout):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", entry["time"])

    written = raw_log(tmp_path)
    for secret in (PASSWORD, "not the password", EMAIL, "asiakas"):
        assert secret not in written


def test_a_locked_address_is_recorded_once_per_refused_attempt(limited_app, tmp_path) -> None:
    customer_factory(limited_app)()
    client = limited_app.test_client()
    for _ in range(5):
        assert log_in(client, EMAIL, "wrong guess 123").status_code == 200
    assert log_in(client, EMAIL, "wrong guess 123").status_code == 429

    outcomes = [(e["event"], e["outcome"]) for e in events(tmp_path)]
    assert outcomes == [("login", "failure")] * 5 + [("login", "locked")]


def test_the_email_pseudonym_is_keyed_with_the_secret(app) -> None:
    assert email_ref("Aino@Example.fi", secret="a") == email_ref(" aino@example.fi", secret="a")
    assert email_ref("aino@example.fi", secret="a") != email_ref("aino@example.fi", secret="b")
    assert email_ref("aino@example.fi", secret="a") != email_ref("eino@example.fi", secret="a")


def test_a_password_reset_is_recorded_without_its_link(app, client, tmp_path) -> None:
    user_id = customer_factory(app)()
    client.post("/auth/reset", data={"csrf_token": form_token(client, "/auth/reset"), "email": EMAIL})
    client.post("/auth/reset", data={"csrf_token": form_token(client, "/auth/reset"), "email": "ei@example.fi"})
    [mail] = sent_mail(app)
    link = re.search(r"http://localhost(/auth/reset/[A-Za-z0-9_\-]+)", mail.get_content()).group(1)
    token = link.rsplit("/", 1)[1]
    client.post(link, data={"csrf_token": form_token(client, link), "password": NEW_PASSWORD,
                            "confirm": NEW_PASSWORD})
    client.get(link)  # used up: refused

    asked, asked_unknown, sent, unknown, reset, refused = events(tmp_path)
    # the request records only what was typed; the worker records what it found (kb/mailing/account_requests.py)
    assert (asked["event"], asked["outcome"], "user_id" in asked) == ("password_reset_request", "queued", False)
    assert asked["email_ref"] != asked_unknown["email_ref"] and asked_unknown["outcome"] == "queued"
    assert (sent["event"], sent["outcome"], sent["user_id"]) == ("password_reset_request", "sent", user_id)
    assert (unknown["outcome"], "user_id" in unknown) == ("no_account", False)
    assert (reset["event"], reset["outcome"], reset["user_id"]) == ("password_reset", "success", user_id)
    assert reset["route"] == "/auth/reset/<token>"
    assert (refused["event"], refused["outcome"]) == ("password_reset", "invalid_link")
    assert token not in raw_log(tmp_path) and NEW_PASSWORD not in raw_log(tmp_path)


def test_a_wrong_current_password_and_a_change_are_recorded(app, client, tmp_path) -> None:
    user_id = customer_factory(app)()
    log_in(client)
    for current in ("not mine at all", PASSWORD):
        page = client.get("/auth/profile").get_data(as_text=True)
        client.post("/auth/profile/password", data={"csrf_token": csrf_of(page), "current": current,
                                                    "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    wrong, changed = [e for e in events(tmp_path) if e["event"] == "password_change"]
    assert (wrong["outcome"], wrong["user_id"]) == ("wrong_current_password", user_id)
    assert (changed["outcome"], changed["user_id"], changed["actor_id"]) == ("success", user_id, user_id)


def test_refused_requests_are_recorded_as_access_control_failures(app, client, tmp_path) -> None:
    user_id = customer_factory(app)()
    log_in(client)
    assert client.get("/agent/").status_code == 403
    assert client.post("/auth/logout", data={}).status_code == 400  # no CSRF token
    anonymous = app.test_client()
    assert anonymous.post("/api/v1/orders", json={}).status_code == 401
    assert anonymous.post("/api/v1/orders", json={}, headers={"Authorization": "Bearer guessed"}).status_code == 401

    denied, csrf, missing, invalid = [e for e in events(tmp_path) if e["event"] != "login"]
    assert (denied["event"], denied["status"], denied["actor_id"], denied["route"]) == \
        ("access_denied", 403, user_id, "/agent/")
    assert (csrf["event"], csrf["route"], csrf["actor_id"]) == ("csrf_refused", "/auth/logout", user_id)
    assert (missing["event"], missing["outcome"], missing["status"]) == ("api_token", "missing", 401)
    assert (invalid["event"], invalid["outcome"]) == ("api_token", "invalid")
    assert "guessed" not in raw_log(tmp_path)


def test_administrators_changes_to_accounts_are_recorded(app, tmp_path, make_user) -> None:
    from tests.support.agent_helpers import PASSWORD as STAFF_PASSWORD

    admin_id = make_user("admin@example.fi", Role.ADMIN)
    agent_id = make_user("agent@example.fi", Role.AGENT)
    client = app.test_client()
    log_in(client, "admin@example.fi", STAFF_PASSWORD)
    token = form_token(client, "/admin/users")
    client.post(f"/admin/users/{agent_id}/role", data={"csrf_token": token, "role": "editor"})
    client.post(f"/admin/users/{agent_id}/active", data={"csrf_token": token, "active": "0"})
    client.post("/admin/users", data={"csrf_token": token, "email": "new@example.fi", "role": "agent",
                                      "name": "", "language": "fi", "password": ""})

    changes = [e for e in events(tmp_path) if e["event"] != "login"]
    assert [(e["event"], e.get("user_role"), e["actor_id"]) for e in changes] == [
        ("role_changed", "editor", admin_id), ("account_disabled", "editor", admin_id),
        ("user_added", "agent", admin_id)]
    assert changes[0]["user_id"] == changes[1]["user_id"] == agent_id
    assert changes[2]["invited"] is True


def test_the_cli_records_tokens_and_prints_an_address_pseudonym(app, tmp_path) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["token", "add", "shop-platform"]).exit_code == 0
    assert runner.invoke(args=["token", "revoke", "shop-platform"]).exit_code == 0
    added, revoked = events(tmp_path)
    assert (added["event"], added["via"], added["token_name"]) == ("api_token_added", "cli", "shop-platform")
    assert (revoked["event"], revoked["revoked"]) == ("api_token_revoked", 1)

    result = runner.invoke(args=["user", "ref", "Asiakas@Example.fi"])
    with app.app_context():
        assert result.exit_code == 0 and result.output.strip() == email_ref(EMAIL)


def test_the_cli_refuses_a_pseudonym_without_the_apps_secret(tmp_path, new_database) -> None:
    instance = tmp_path / "instance"
    config = {key: value for key, value in _config(instance, new_database(instance)).items() if key != "SECRET_KEY"}
    app = create_app(config, require_secret=False)
    try:
        result = app.test_cli_runner().invoke(args=["user", "ref", EMAIL])
        assert result.exit_code == 2 and "NEUVO_SECRET_KEY" in result.output
    finally:
        database(app).dispose()


def test_a_deployment_without_a_log_destination_still_writes_to_the_logger(tmp_path, new_database, caplog) -> None:
    instance = tmp_path / "instance"
    app = create_app({**_config(instance, new_database(instance)), "SECURITY_LOG": ""})
    try:
        with caplog.at_level("INFO", logger="neuvo.security"):
            assert app.test_client().post("/api/v1/orders", json={}).status_code == 401
        [entry] = [json.loads(r.getMessage()) for r in caplog.records if r.name == "neuvo.security"]
        assert entry["event"] == "api_token"
        assert not (tmp_path / "security.log").exists()
    finally:
        database(app).dispose()
