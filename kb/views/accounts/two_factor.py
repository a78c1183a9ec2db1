"""Two-step verification pages: the code after the password, setting it up, recovery codes, turning it off.

The log-in form hands over to :func:`begin` once the password is right; the account is
logged in only after a code from the authenticator app (or a recovery code) is given
within :data:`PENDING_SECONDS`. Tries are limited per account, like passwords. Every
change is e-mailed to the account's owner and written to the security log. Rules:
:mod:`kb.services.accounts.two_factor`.
"""
from __future__ import annotations

import time
from typing import Any

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template, request,
                   session as flask_session, url_for)
from flask_babel import force_locale, gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from kb import security_log
from kb.db import commit, session, utcnow
from kb.mailing.emailing import email_link, queue_message
from kb.web.extensions import limiter
from kb.models import User
from kb.web.security import forget_attempts, spend_attempt
from kb.services.accounts import two_factor
from kb.services.errors import InvalidInput
from kb.services.shop.channels import get_setting
from kb.services.accounts.users import check_password

bp = Blueprint("two_step", __name__, url_prefix="/auth/two-step")

#: Session keys: the log-in waiting for its code, and the secret being set up.
PENDING, SETUP = "two_step_pending", "two_step_setup"
#: How long the password stays good for entering the code.
PENDING_SECONDS = 300


class CodeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(_l("Enter the code.")), Length(max=32)])


class DisableForm(FlaskForm):
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")),
                                                         Length(max=1024)])
    code = StringField(_l("Code from your app"), validators=[DataRequired(_l("Enter the code.")), Length(max=32)])


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.app_context_processor
def _status() -> dict[str, Any]:
    def two_step_status(user: User) -> dict[str, Any]:
        enabled = user.two_step_enabled
        return {"enabled": enabled, "required": required_for(user),
                "recovery_left": two_factor.remaining_recovery_codes(session(), user) if enabled else 0}
    return {"two_step_status": two_step_status}


def keys() -> list[str]:
    """The current secret key first, then ``SECRET_KEY_FALLBACKS`` (still read, never written)."""
    return [current_app.config["SECRET_KEY"], *(current_app.config.get("SECRET_KEY_FALLBACKS") or [])]


def required_for(user: User) -> bool:
    return bool(current_app.config["TWO_STEP_REQUIRED_FOR_STAFF"]) and user.is_staff


def _shop() -> str:
    return get_setting(session(), "shop_name", current_app.config["SHOP_NAME"])


def _mail_changed(user: User, what: str) -> None:
    """Tell the owner (ASVS 2.5.x): a second step turned off by someone else must not go unnoticed."""
    with force_locale(user.language):
        events = {"enabled": _("two-step verification was turned on"),
                  "disabled": _("two-step verification was turned off"),
                  "reset": _("an administrator turned two-step verification off"),
                  "codes": _("new recovery codes were made, and the old ones no longer work")}
        subject = _("Your %(shop)s account: %(event)s", shop=_shop(), event=events[what])
        body = _("Hello,\n\nin your %(shop)s account, %(event)s. If this was you, there is nothing more to do.\n\n"
                 "If it was not you, set a new password at once: %(reset)s\n"
                 "and reply to this message so that we can help.\n",
                 shop=_shop(), event=events[what], reset=email_link("auth.reset_request"))
    queue_message(user.email, subject, body, kind="two_step_changed")


# ---------- the code after the password

def begin(user: User, *, remember: bool, next_url: str) -> Response:
    """The password was right: ask for the code before logging in."""
    flask_session[PENDING] = {"user": user.id, "version": user.session_version, "remember": bool(remember),
                              "next": next_url or "", "at": int(time.time())}
    security_log.record("login", "password_ok", user=user, awaiting="second_step")
    return redirect(url_for("two_step.verify"))


def _pending_user() -> tuple[User, dict[str, Any]] | None:
    pending = flask_session.get(PENDING)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    user = session().get(User, pending.get("user"))
    if user is None or not user.is_active or user.session_version != pending.get("version") \
            or not user.two_step_enabled:
        return None
    return user, pending


@bp.route("", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def verify():  # type: ignore[no-untyped-def]
    """The second step of a log-in: a code from the app, or a recovery code."""
    from kb.views.accounts.login_flow import start_session, safe_next, start_page_url

    found = _pending_user()
    if found is None:
        flask_session.pop(PENDING, None)
        flash(_("Please log in again."), "info")
        return redirect(url_for("auth.login"))
    user, pending = found
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        attempts = (current_app.config["LOGIN_FAILURE_LIMIT"], f"two-step:{user.id}")
        if not spend_attempt(*attempts):
            security_log.record("two_step", "locked", user=user)
            abort(429)
        try:
            used = two_factor.verify(session(), user, form.code.data, keys=keys(), now=utcnow())
        except two_factor.WrongCode:
            security_log.record("two_step", "failure", user=user)
            error = _("The code is not correct, or it was used already. Enter the newest code from your app.")
        except two_factor.SecretUnreadable:
            security_log.record("two_step", "unreadable_secret", user=user)
            error = _("Two-step verification cannot be checked for this account. Ask an administrator to reset it.")
        else:
            forget_attempts(*attempts)
            left = two_factor.remaining_recovery_codes(session(), user)
            commit()
            security_log.record("login", user=user, second_step=used, remember=pending["remember"])
            start_session(user, remember=pending["remember"])
            if used == "recovery":
                flash(_("You used a recovery code; %(num)d are left. Make new ones on your profile page.", num=left),
                      "info")
            flash(_("You are logged in."))
            return redirect(safe_next(pending["next"]) or start_page_url(user))
    return render_template("auth/two_step_verify.html", form=form, error=error)


# ---------- setting it up, recovery codes, turning it off

@bp.route("/setup", methods=["GET", "POST"])
@login_required
def setup():  # type: ignore[no-untyped-def]
    """Scan the QR code, confirm with a code; the recovery codes are shown once."""
    user: User = current_user._get_current_object()
    if user.two_step_enabled:
        flash(_("Two-step verification is already on."), "info")
        return redirect(url_for("auth.profile"))
    secret = flask_session.get(SETUP) or two_factor.new_secret()
    flask_session[SETUP] = secret
    form = CodeForm()
    if form.validate_on_submit():
        try:
            codes = two_factor.enable(session(), user, secret, form.code.data, keys=keys(), now=utcnow())
        except InvalidInput:
            form.code.errors.append(_("The code does not match. Check that the time on your phone is right "
                                      "and enter the newest code."))
        else:
            _mail_changed(user, "enabled")
            commit()
            flask_session.pop(SETUP, None)
            security_log.record("two_step_enabled", user=user)
            return render_template("auth/two_step_codes.html", codes=codes)
    uri = two_factor.provisioning_uri(secret, account=user.email, issuer=_shop())
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return render_template("auth/two_step_setup.html", form=form, qr=two_factor.qr_svg_data_uri(uri),
                           secret=grouped)


@bp.route("/recovery-codes", methods=["POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"])
@login_required
def recovery_codes():  # type: ignore[no-untyped-def]
    """New recovery codes, after a code from the app."""
    user: User = current_user._get_current_object()
    form = CodeForm()
    if not user.two_step_enabled:
        return redirect(url_for("auth.profile"))
    if form.validate_on_submit():
        try:
            two_factor.verify(session(), user, form.code.data, keys=keys(), now=utcnow())
        except (two_factor.WrongCode, two_factor.SecretUnreadable):
            security_log.record("recovery_codes", "wrong_code", user=user)
            flash(_("The code is not correct, or it was used already. Enter the newest code from your app."),
                  "error")
            return redirect(url_for("auth.profile"))
        codes = two_factor.new_recovery_codes(session(), user, now=utcnow())
        _mail_changed(user, "codes")
        commit()
        security_log.record("recovery_codes", "renewed", user=user)
        return render_template("auth/two_step_codes.html", codes=codes)
    flash(_("Enter the code."), "error")
    return redirect(url_for("auth.profile"))


@bp.route("/disable", methods=["POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"])
@login_required
def disable():  # type: ignore[no-untyped-def]
    """Turn it off: the password and a current code are both asked."""
    user: User = current_user._get_current_object()
    form = DisableForm()
    if not user.two_step_enabled:
        return redirect(url_for("auth.profile"))
    if required_for(user):
        flash(_("Your role requires two-step verification, so it cannot be turned off."), "error")
        return redirect(url_for("auth.profile"))
    if form.validate_on_submit():
        code_ok = True
        try:
            two_factor.verify(session(), user, form.code.data, keys=keys(), now=utcnow())
        except (two_factor.WrongCode, two_factor.SecretUnreadable):
            code_ok = False
        if code_ok and check_password(user, form.password.data):
            two_factor.disable(session(), user)
            _mail_changed(user, "disabled")
            commit()
            security_log.record("two_step_disabled", user=user)
            flash(_("Two-step verification is off."), "success")
            return redirect(url_for("auth.profile"))
        session().rollback()
        security_log.record("two_step_disabled", "refused", user=user)
        flash(_("The password or the code is not correct."), "error")
    else:
        flash(_("Enter your password and a code from your app."), "error")
    return redirect(url_for("auth.profile"))


def reset_by_admin(user: User) -> None:
    """An administrator's reset for a lost phone and lost codes (the caller commits)."""
    two_factor.disable(session(), user)
    _mail_changed(user, "reset")
    security_log.record("two_step_reset", user=user)


def require_for_staff() -> Response | None:
    """Send staff without a second step to set one up when the shop requires it (None: carry on)."""
    if not (current_user.is_authenticated and required_for(current_user) and not current_user.two_step_enabled):
        return None
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        abort(403)
    flash(_("Your role requires two-step verification. Set it up to continue."), "info")
    return redirect(url_for("two_step.setup"))
