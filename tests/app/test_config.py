"""Configuration order, required secrets and safe defaults."""
from __future__ import annotations

import pytest

from kb import ConfigurationError, create_app


def test_secret_key_required_outside_development(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("NEUVO_SECRET_KEY", raising=False)
    monkeypatch.setenv("NEUVO_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(ConfigurationError):
        create_app()
    monkeypatch.setenv("NEUVO_ENV", "development")
    assert create_app().config["SECRET_KEY"]


def test_mail_base_url_required_outside_development(tmp_path, monkeypatch) -> None:
    """Reset links must not take their host from the request's (forgeable) Host header."""
    monkeypatch.setenv("NEUVO_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("NEUVO_SECRET_KEY", "s3cret")
    with pytest.raises(ConfigurationError):
        create_app()
    monkeypatch.setenv("NEUVO_MAIL_BASE_URL", "https://apu.tupa.example")
    assert create_app().config["MAIL_BASE_URL"] == "https://apu.tupa.example"


def test_environment_overrides_instance_file_which_overrides_defaults(tmp_path, monkeypatch) -> None:
    (tmp_path / "config.py").write_text('SEARCH_PER_PAGE = 7\nSHOP_NAME = "Tiedostosta"\n')
    monkeypatch.setenv("NEUVO_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("NEUVO_SECRET_KEY", "s3cret")
    monkeypatch.setenv("NEUVO_MAIL_BASE_URL", "https://apu.tupa.example")
    monkeypatch.setenv("NEUVO_SHOP_NAME", "Ympäristöstä")
    app = create_app()
    assert app.config["SEARCH_PER_PAGE"] == 7
    assert app.config["SHOP_NAME"] == "Ympäristöstä"
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'neuvo.db'}"


def test_production_defaults_are_safe(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("NEUVO_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("NEUVO_SECRET_KEY", "s3cret")
    monkeypatch.setenv("NEUVO_MAIL_BASE_URL", "https://apu.tupa.example")
    config = create_app().config
    assert config["SESSION_COOKIE_SECURE"] and config["SESSION_COOKIE_HTTPONLY"]
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert config["MAX_CONTENT_LENGTH"] <= 32 * 1024 * 1024
    assert config["REMEMBER_COOKIE_DURATION"].days <= 30


def test_production_password_hashes_meet_owasp_argon2id(tmp_path, monkeypatch) -> None:
    from kb.services.accounts.users import hash_password

    monkeypatch.setenv("NEUVO_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("NEUVO_SECRET_KEY", "s3cret")
    monkeypatch.setenv("NEUVO_MAIL_BASE_URL", "https://apu.tupa.example")
    create_app()
    stored = hash_password("pitkä-salasana-1")
    assert stored.startswith("$argon2id$") and "m=65536,t=3" in stored


def test_every_setting_is_documented_in_the_readme() -> None:
    from pathlib import Path

    import kb.config

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    missing = [key for key in dir(kb.config) if key.isupper() and key not in readme]
    assert missing == []


def test_production_cookies_are_host_only(tmp_path, new_database) -> None:
    """ASVS 3.4.4: ``__Host-`` cookies, which a browser refuses unless Secure, Path=/ and without Domain, so a
    sibling subdomain or a plain-HTTP page cannot plant a session; plain names where that cannot hold."""
    from kb.db import database
    from tests.support.auth_helpers import EMAIL, customer_factory, log_in
    from tests.conftest import _config

    instance = tmp_path / "instance"
    app = create_app({**_config(instance, new_database(instance)), "ENV": "production",
                      "MAIL_BASE_URL": "https://apu.tupa.example", "SERVER_NAME": "apu.tupa.example"})
    try:
        assert (app.config["SESSION_COOKIE_NAME"], app.config["REMEMBER_COOKIE_NAME"]) == \
            ("__Host-session", "__Host-remember_token")
        customer_factory(app)()
        client = app.test_client()
        client.environ_base["wsgi.url_scheme"] = "https"
        response = log_in(client, EMAIL, remember=True)
        assert response.status_code == 302
        cookies = {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}
        assert set(cookies) == {"__Host-session", "__Host-remember_token"}
        for header in cookies.values():
            assert "Secure" in header and "Path=/" in header and "Domain" not in header
        assert client.get("/auth/profile").status_code == 200
    finally:
        database(app).dispose()

    shared = create_app({**_config(tmp_path / "shared", "sqlite://"), "ENV": "production",
                         "MAIL_BASE_URL": "https://apu.tupa.example", "SESSION_COOKIE_DOMAIN": "tupa.example"})
    assert shared.config["SESSION_COOKIE_NAME"] == "session"
    assert create_app({**_config(tmp_path / "dev", "sqlite://")}).config["SESSION_COOKIE_NAME"] == "session"
