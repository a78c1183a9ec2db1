"""Flask extensions: log-in, CSRF, translations and rate limits."""
from __future__ import annotations

import ipaddress

from flask import Flask, request, session
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

class _LoginManager(LoginManager):
    """Flask-Login, deleting the remember-me cookie with the attributes it was set with.

    Flask-Login 0.6 deletes it with only its name, domain and path; a browser ignores a
    ``__Host-`` cookie without ``Secure``, so log-out left the remember-me cookie in place.
    """

    def _clear_cookie(self, response):  # type: ignore[no-untyped-def]
        from flask import current_app

        config = current_app.config
        response.delete_cookie(config.get("REMEMBER_COOKIE_NAME", "remember_token"),
                               domain=config.get("REMEMBER_COOKIE_DOMAIN"),
                               path=config.get("REMEMBER_COOKIE_PATH", "/"),
                               secure=bool(config.get("REMEMBER_COOKIE_SECURE")),
                               httponly=bool(config.get("REMEMBER_COOKIE_HTTPONLY", True)),
                               samesite=config.get("REMEMBER_COOKIE_SAMESITE"))


csrf = CSRFProtect()
babel = Babel()
login_manager = _LoginManager()


def client_key() -> str:
    """Who a per-client rate limit counts: an IPv4 address, or the /64 network of an IPv6 address.

    One subscriber or server is routinely given a whole /64, so counting single IPv6
    addresses would give one client 2^64 fresh allowances (the review guessed an order
    number from 30 addresses of one /64). IPv4-mapped addresses count as their IPv4 address.
    """
    address = get_remote_address()
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


limiter = Limiter(key_func=client_key, default_limits=[])


def select_locale() -> str:
    """Language from the URL, then the visitor's choice, the profile, the browser."""
    from flask import current_app

    languages = current_app.config["LANGUAGES"]
    lang = (request.view_args or {}).get("lang") if request else None
    if lang in languages:
        return lang
    return remembered_locale()


def remembered_locale() -> str:
    """The language of a page without one in its address: the visitor's choice, the profile, the browser."""
    from flask import current_app

    languages = current_app.config["LANGUAGES"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and current_user.language in languages:
        return current_user.language
    return request.accept_languages.best_match(languages) or current_app.config["DEFAULT_LANGUAGE"]


def _select_timezone() -> str:
    from flask import current_app

    return current_app.config["TIMEZONE"]


@login_manager.user_loader
def _load_user(identity: str):  # type: ignore[no-untyped-def]
    """Accept a session only while its version matches the user's current one and its log-in is live.

    Identities from before log-ins were recorded ("id:version") are still accepted; they end
    with the session version (log-out, password change) like every other.
    """
    from kb.db import session as db_session
    from kb.models import User
    from kb.services.accounts import login_sessions

    user_id, version, key = (identity.split(":", 2) + ["", ""])[:3]
    if not (user_id.isdigit() and version.isdigit()) or len(user_id) > 10:
        return None
    user = db_session().get(User, int(user_id))
    if user is None or not user.is_active or user.session_version != int(version):
        return None
    if key:
        if login_sessions.live(db_session(), user.id, key) is None:
            return None
        user.login_key = key
    return user


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=_select_timezone,
                   default_translation_directories="translations")
    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    app.config.setdefault("RATELIMIT_ENABLED", True)
    limiter.init_app(app)
