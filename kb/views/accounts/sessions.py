"""Where the account is logged in (ASVS 3.3.4): the list on the profile page and ending one log-in.

Rules: :mod:`kb.services.accounts.login_sessions`.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from kb import security_log
from kb.db import commit, session, utcnow
from kb.models import User
from kb.services.accounts import login_sessions
from kb.services.errors import NotFound
from kb.views.private import keep_private

bp = keep_private(Blueprint("sessions", __name__, url_prefix="/auth/sessions"))


def _seconds(value: Any) -> timedelta:
    return value if isinstance(value, timedelta) else timedelta(seconds=float(value))


@bp.app_context_processor
def _devices() -> dict[str, Any]:
    def logged_in_devices(user: User) -> list[login_sessions.Device]:
        config = current_app.config
        return login_sessions.devices(session(), user, now=utcnow(), idle=_seconds(config["SESSION_IDLE_TIMEOUT"]),
                                      remembered_idle=_seconds(config["REMEMBER_COOKIE_DURATION"]))
    return {"logged_in_devices": logged_in_devices}


@bp.route("/<int:login_id>/end", methods=["POST"])
@login_required
def end(login_id: int):  # type: ignore[no-untyped-def]
    """Log out one device (not this one: the log-out button does that)."""
    user: User = current_user._get_current_object()
    try:
        ended = login_sessions.end(session(), user, login_id, now=utcnow())
    except NotFound:
        abort(404)
    if ended.key == user.login_key:
        session().rollback()
        flash(_("To log out on this device, use Log out."), "info")
        return redirect(url_for("auth.profile"))
    commit()
    security_log.record("session_ended", user=user, login_id=login_id)
    flash(_("That device was logged out."), "success")
    return redirect(url_for("auth.profile"))
