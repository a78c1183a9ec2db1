"""Neuvo: a self-service help center for web shops (the Flask application)."""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigurationError(RuntimeError):
    """The app cannot start safely with this configuration."""


def create_app(test_config: Mapping[str, Any] | None = None, *, require_secret: bool = True) -> Flask:
    """Build the app: configuration, extensions, blueprints, CLI and error handlers.

    ``require_secret`` is False only for command-line use, where nothing is signed.
    """
    if test_config is not None:
        instance_path = test_config.get("INSTANCE_PATH")
    else:
        instance_path = os.environ.get("NEUVO_INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_path=str(Path(instance_path or PROJECT_ROOT / "instance").resolve()),
        instance_relative_config=True,
        static_folder=str(PROJECT_ROOT / "static"),
    )
    _configure(app, test_config, require_secret=require_secret)

    from kb import cli, db, security_log
    from kb.web import errors, extensions, http_cache, security, static_versions, template_i18n, templating
    from kb.services.helpcenter.kb_catalogue import Catalogue
    from kb.web.fragments import FragmentCache
    from kb.services.editorial.suggestions import init_matchers
    from kb.services.helpcenter.search_index import init_search
    from kb.services.accounts.users import configure_hasher

    db.init_app(app)
    extensions.init_app(app)
    template_i18n.init_app(app)
    security.init_app(app)
    http_cache.init_app(app)
    security_log.init_app(app)
    errors.init_app(app)
    templating.init_app(app)
    static_versions.init_app(app)
    init_search(app)
    init_matchers(app)
    app.extensions["neuvo_catalogue"] = Catalogue(float(app.config["CATALOGUE_SECONDS"]))
    app.extensions["neuvo_fragments"] = FragmentCache()
    cli.init_app(app)
    configure_hasher(time_cost=app.config["PASSWORD_HASH_TIME_COST"],
                     memory_cost=app.config["PASSWORD_HASH_MEMORY_COST"])

    from kb.views import account, admin, agent, api, api_shop, contact, editor, help, my_inquiries
    from kb.views.accounts import auth, my_data, sessions, two_factor
    from kb.views import order_links

    app.register_blueprint(help.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(api_shop.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(two_factor.bp)
    app.register_blueprint(my_data.bp)
    app.register_blueprint(sessions.bp)
    app.register_blueprint(my_inquiries.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(order_links.bp)
    app.register_blueprint(contact.bp)
    app.register_blueprint(agent.bp)
    app.register_blueprint(editor.bp)
    app.register_blueprint(admin.bp)
    app.add_url_rule("/", endpoint="root", view_func=help.root)
    app.add_url_rule("/favicon.ico", endpoint="favicon", view_func=help.favicon)
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        proxies = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    return app


def _configure(app: Flask, test_config: Mapping[str, Any] | None, *, require_secret: bool) -> None:
    app.config.from_object("kb.config")
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("NEUVO")
    else:
        app.config.from_mapping(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    instance = Path(app.instance_path)
    app.config["DATABASE_URL"] = app.config.get("DATABASE_URL") or f"sqlite:///{instance / 'neuvo.db'}"
    app.config["INDEX_PATH"] = app.config.get("INDEX_PATH") or str(instance / "index")
    app.config["MODELS_PATH"] = app.config.get("MODELS_PATH") or str(instance / "models")
    if app.config["ENV"] in ("development", "testing"):
        app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = False
    _host_only_cookies(app.config)
    if not app.config.get("SECRET_KEY"):
        if require_secret and app.config["ENV"] not in ("development", "testing"):
            raise ConfigurationError("NEUVO_SECRET_KEY is required outside development and tests")
        app.config["SECRET_KEY"] = os.urandom(32).hex()
        app.config["SECRET_KEY_GENERATED"] = True
    if require_secret and app.config["ENV"] not in ("development", "testing") and not app.config.get("MAIL_BASE_URL"):
        # e-mailed links (password reset!) must not take their host from a forgeable Host header
        raise ConfigurationError("NEUVO_MAIL_BASE_URL is required outside development and tests, "
                                 "e.g. https://help.example.fi")
    _trusted_hosts(app.config)


def _trusted_hosts(config: dict[str, Any]) -> None:
    """In production answer only the public host (``MAIL_BASE_URL``'s) and the extra ``TRUSTED_HOSTS``.

    A forged Host header is then a 400 instead of the host of redirects and of the API's
    ``url`` fields. ``TRUSTED_HOSTS`` may be a list or a comma-separated string; in development
    and tests nothing is checked unless it is set.
    """
    extra = config.get("TRUSTED_HOSTS") or []
    if isinstance(extra, str):
        extra = [host.strip() for host in extra.split(",") if host.strip()]
    if config["ENV"] in ("development", "testing") and not extra:
        return
    public = urlsplit(config.get("MAIL_BASE_URL") or "").hostname
    hosts = list(dict.fromkeys(([public] if public else []) + [str(host).lower() for host in extra]))
    config["TRUSTED_HOSTS"] = hosts or None


_DEFAULT_COOKIE_NAMES = {"SESSION": "session", "REMEMBER": "remember_token"}


def _host_only_cookies(config: dict[str, Any]) -> None:
    """Name the session and remember-me cookies ``__Host-…`` where the browser can enforce it (ASVS 3.4.4).

    A ``__Host-`` cookie is refused unless it is Secure, has no Domain and has Path=/,
    so a sibling subdomain or a plain-HTTP page cannot plant or overwrite it. A
    deployment under a sub-path or sharing cookies across subdomains keeps plain names.
    """
    for kind, default in _DEFAULT_COOKIE_NAMES.items():
        name = config.get(f"{kind}_COOKIE_NAME") or default
        path = config.get(f"{kind}_COOKIE_PATH") or config.get("APPLICATION_ROOT") or "/"
        if (config.get(f"{kind}_COOKIE_SECURE") and not config.get(f"{kind}_COOKIE_DOMAIN") and path == "/"
                and not name.startswith("__")):
            config[f"{kind}_COOKIE_NAME"] = "__Host-" + name
