"""A log-in's session: starting it on a fresh session, ending it, and where a user lands afterwards.

Shared by the log-in and the two-step verification pages, which both end in a started session.
"""
from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import request, session as flask_session, url_for
from flask_login import login_user, logout_user
from werkzeug.routing import BuildError

from kb.db import commit, session, utcnow
from kb.models import User
from kb.services.accounts import login_sessions

#: Where a customer lands after log-in when no (safe) ``next`` was given.
ACCOUNT_HOME_FALLBACK = "/tili/tilaukset"
#: Session keys: when this log-in began, when it was last used (epoch seconds), and
#: whether the user asked to stay logged in (then the remember cookie's lifetime rules).
STARTED, SEEN, REMEMBERED = "auth_started", "auth_seen", "auth_remember"
#: When this session last wrote its log-in's "last active" time.
TOUCHED = "auth_touched"


def account_home_url() -> str:
    """The customer's own pages (order history), or its fixed path if that blueprint is absent."""
    try:
        return url_for("account.orders")
    except BuildError:
        return ACCOUNT_HOME_FALLBACK


#: Where staff start after logging in; customers start at their order history.
START_PAGES = {"agent": "agent.index", "editor": "editor.home", "manager": "admin.dashboard",
               "admin": "admin.dashboard"}


def start_page_url(user: User) -> str:
    """The page ``user`` works from: an agent's inbox, the editor's articles, the dashboard, the orders."""
    endpoint = START_PAGES.get(user.role.value)
    return url_for(endpoint) if endpoint else account_home_url()


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None (no open redirects).

    Browsers read ``\\`` as ``/`` and drop tabs and newlines, so ``/\\evil`` or
    ``/\\t/evil`` would become ``//evil``: refuse backslashes and control characters.
    """
    if not target or len(target) > 2048 or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if "\\" in target or any(ord(ch) < 0x20 or ch == "\x7f" for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def start_session(user: User, *, remember: bool) -> None:
    """Log in on a brand-new session: nothing of the anonymous one survives but the language.

    The log-in is recorded (and committed) first: its key goes into the session's identity.
    """
    login_sessions.start(session(), user, ip=request.remote_addr or "", user_agent=request.headers.get("User-Agent", ""),
                         remembered=bool(remember), now=utcnow())
    commit()
    language = flask_session.get("lang")
    flask_session.clear()
    if language:
        flask_session["lang"] = language
    login_user(user, remember=remember)
    now = int(time.time())
    flask_session.update({STARTED: now, SEEN: now, TOUCHED: now, REMEMBERED: bool(remember)})


def end_session() -> None:
    language = flask_session.get("lang")
    logout_user()
    # Flask-Login marks the remember-me cookie for deletion in the session ("clear"); keep the mark
    remember = flask_session.get("_remember")
    flask_session.clear()
    if language:
        flask_session["lang"] = language
    if remember:
        flask_session["_remember"] = remember
