"""Sign-up, log-in, log-out, password reset and profile.

Sessions start fresh at log-in (the old session's data is dropped, only the
language choice is kept) and end everywhere at log-out, password change and
password reset by moving the user's session version (see kb.services.accounts.auth).
Messages never tell whether an e-mail address has an account.
"""
from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from flask import (Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request,
                   session as flask_session, url_for)
from flask_babel import force_locale, gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required, user_loaded_from_cookie

from kb import security_log
from kb.db import commit, session, utcnow
from kb.web.extensions import limiter, select_locale
from kb.models import User
from kb.web.security import forget_attempts, spend_attempt
from kb.services.accounts import account_requests, auth as accounts, login_sessions
from kb.services.errors import InvalidInput
from kb.services.accounts.password_policy import MIN_PASSWORD
from kb.services.accounts.users import find_user
from kb.views.accounts import account_mail
from kb.views.accounts.auth_forms import (AddressForm, LoginForm, NewPasswordForm, PasswordChangeForm, ProfileForm,
                                 SignUpForm, with_languages)
from kb.views.accounts.login_flow import (REMEMBERED, SEEN, STARTED, TOUCHED, account_home_url, end_session,
                                         safe_next, start_page_url, start_session)
from kb.views.error_text import error_text

bp = Blueprint("auth", __name__, url_prefix="/auth")

def _login_key() -> str | None:
    """The recorded log-in's key in this session's identity ("id:version:key"), if it has one."""
    parts = str(flask_session.get("_user_id", "")).split(":", 2)
    return parts[2] if len(parts) == 3 else None


@bp.record_once
def _wire_login_manager(state: Any) -> None:
    """Send anonymous visitors of @login_required pages to the log-in form, in their language."""
    manager = state.app.login_manager
    manager.login_view = manager.login_view or "auth.login"
    manager.login_message = _l("Please log in to see this page.")
    manager.login_message_category = "info"
    manager.localize_callback = str  # the lazy message, translated when flashed
    user_loaded_from_cookie.connect(_stamp_remembered_session, state.app)


@bp.after_request
def _no_store(response: Response) -> Response:
    """Account pages and reset links must not be kept by browsers or proxies."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _stamp_remembered_session(_app: Any, **_extra: Any) -> None:
    """A log-in restored from the remember cookie lasts as long as that cookie, not the idle timeout."""
    now = int(time.time())
    flask_session.update({STARTED: now, SEEN: now, REMEMBERED: True})


@bp.before_app_request
def _expire_sessions() -> None:
    """End a log-in that was idle too long or began too long ago, unless the user chose to stay logged in."""
    if "_user_id" not in flask_session:
        return
    now = int(time.time())
    if STARTED not in flask_session:  # a log-in older than these stamps: its clock starts now
        flask_session.update({STARTED: now, SEEN: now, REMEMBERED: False})
        return
    if now - flask_session.get(TOUCHED, 0) >= login_sessions.TOUCH_EVERY.total_seconds():
        key = _login_key()
        if key:  # the profile page's "last active"; one UPDATE a minute at most
            login_sessions.touch(session(), key, now=utcnow())
            commit()
        flask_session[TOUCHED] = now
    if flask_session.get(REMEMBERED):
        return
    idle = current_app.config["SESSION_IDLE_TIMEOUT"]
    idle = idle.total_seconds() if isinstance(idle, timedelta) else float(idle)
    absolute = current_app.permanent_session_lifetime.total_seconds()
    seen = flask_session.get(SEEN, 0)
    if now - flask_session[STARTED] > absolute or now - seen > idle:
        key = _login_key()
        if key:
            login_sessions.end_key(session(), key, now=utcnow())
            commit()
        end_session()
        flash(_("You were logged out because the session expired. Please log in again."), "info")
    elif now - seen >= 60:  # refresh at most once a minute: every write re-sends the cookie
        flask_session[SEEN] = now


@bp.app_context_processor
def _account_links() -> dict[str, Any]:
    return {"account_home_url": account_home_url, "min_password": MIN_PASSWORD}


# ---------- helpers

def _submitted_email_key() -> str:
    """Rate-limit key: the e-mail address in the posted form, whichever client sends it."""
    return "email:" + (request.form.get("email") or "").strip().lower()[:254]


def _mail_requested(_response: Response) -> bool:
    """Count a valid request for an account e-mail, whether or not the address has an account."""
    return bool(g.get("mail_requested"))


def _limit(name: str):  # type: ignore[no-untyped-def]
    return lambda: current_app.config[name]


# ---------- views

@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(_limit("SIGNUP_RATE_LIMIT"), methods=["POST"])
@limiter.limit(_limit("ACCOUNT_MAIL_RATE_LIMIT"), key_func=_submitted_email_key, methods=["POST"],
               deduct_when=_mail_requested)
def signup():  # type: ignore[no-untyped-def]
    """Create a customer account; the answer is the same whether or not the address had one."""
    if current_user.is_authenticated:
        return redirect(start_page_url(current_user))
    form = with_languages(SignUpForm())
    if request.method == "GET":
        form.language.data = select_locale()
    if form.validate_on_submit():
        try:
            result = accounts.sign_up(session(), form.email.data, form.password.data, name=form.name.data or "",
                                      language=form.language.data, now=utcnow())
        except InvalidInput as exc:
            getattr(form, exc.field or "email", form.email).errors.append(error_text(exc))
        else:
            (account_mail.welcome if result.created else account_mail.already_registered)(result.user)
            commit()
            security_log.record("signup", "success" if result.created else "existing_account", user=result.user)
            g.mail_requested = True
            flash(_("Check your e-mail: we sent a message about your account to %(email)s.",
                    email=form.email.data))
            return redirect(url_for("auth.login"))
    return render_template("auth/signup.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_limit("LOGIN_RATE_LIMIT"), methods=["POST"])
def login():  # type: ignore[no-untyped-def]
    """Log in with e-mail and password; wrong password and unknown address look alike."""
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
        if current_user.is_authenticated:
            return redirect(form.next.data or start_page_url(current_user))
    failed = False
    if form.validate_on_submit():
        # every attempt is counted before the password is checked, so parallel guesses cannot slip past the
        # limit; a successful log-in starts the count again, so only failures add up
        failures = (current_app.config["LOGIN_FAILURE_LIMIT"], _submitted_email_key())
        if not spend_attempt(*failures):
            security_log.record("login", "locked", email=form.email.data)
            abort(429)
        user = accounts.authenticate(session(), form.email.data, form.password.data, now=utcnow())
        if user is None:
            security_log.record("login", "failure", email=form.email.data)
            failed = True
        elif user.email_verified_at is None:
            # orders, invoices and returns are found by this address: it must be proved first
            forget_attempts(*failures)
            session().rollback()
            security_log.record("login", "unverified_address", user=user)
            return render_template("auth/login.html", form=form, unverified=True,
                                   resend=AddressForm(formdata=None, data={"email": form.email.data}))
        else:
            forget_attempts(*failures)
            commit()
            if user.two_step_enabled:
                from kb.views.accounts.two_factor import begin

                return begin(user, remember=form.remember.data, next_url=safe_next(form.next.data) or "")
            security_log.record("login", user=user, remember=bool(form.remember.data))
            start_session(user, remember=form.remember.data)
            flash(_("You are logged in."))
            return redirect(safe_next(form.next.data) or start_page_url(user))
    return render_template("auth/login.html", form=form, failed=failed)


@bp.route("/verify/<token>")
def verify_email(token: str):  # type: ignore[no-untyped-def]
    """Confirm a new account's address from the link in its first mail."""
    try:
        user = accounts.verify_email(session(), current_app.config["SECRET_KEY"], token, now=utcnow(),
                                     max_age=account_mail.VERIFY_LINK_LIFETIME)
    except accounts.InvalidToken:
        session().rollback()
        return render_template("auth/verify_invalid.html", resend=AddressForm()), 404
    commit()
    security_log.record("email_verified", user=user)
    flash(_("Your e-mail address is confirmed. You can log in now."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/verify", methods=["POST"])
@limiter.limit(_limit("RESET_RATE_LIMIT"))
@limiter.limit(_limit("ACCOUNT_MAIL_RATE_LIMIT"), key_func=_submitted_email_key, deduct_when=_mail_requested)
def resend_verification():  # type: ignore[no-untyped-def]
    """Mail the confirmation link again; the answer never says whether the address has an account."""
    form = AddressForm()
    if form.validate_on_submit():
        user = find_user(session(), form.email.data)
        if user is not None and user.is_active and user.email_verified_at is None:
            account_mail.welcome(user)
        commit()
        g.mail_requested = True
        flash(_("If %(email)s has an account waiting for confirmation, we sent it a new link.",
                email=form.email.data), "info")
        return redirect(url_for("auth.login"))
    flash(_("Enter an e-mail address such as name@example.fi."), "error")
    return redirect(url_for("auth.login"))


@bp.route("/logout", methods=["POST"])
def logout():  # type: ignore[no-untyped-def]
    """Log out and end this user's sessions everywhere (a copied cookie stops working too)."""
    if current_user.is_authenticated:
        user = current_user._get_current_object()
        accounts.end_sessions(user, now=utcnow())
        commit()
        security_log.record("logout", user=user)
    end_session()
    flash(_("You have logged out."))
    return redirect(url_for("root"))


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(_limit("RESET_RATE_LIMIT"), methods=["POST"])
@limiter.limit(_limit("ACCOUNT_MAIL_RATE_LIMIT"), key_func=_submitted_email_key, methods=["POST"],
               deduct_when=_mail_requested)
def reset_request():  # type: ignore[no-untyped-def]
    """Ask for a password-reset link; the answer never says whether the address has an account."""
    form = AddressForm()
    minutes = int(current_app.config["RESET_TOKEN_MINUTES"])
    if form.validate_on_submit():
        # the same single INSERT for any address; the worker looks it up and mails the link (kb/mailing/account_requests.py),
        # so the answer takes as long whether or not the address has an account
        base_url = "" if current_app.config.get("MAIL_BASE_URL") else request.url_root
        account_requests.queue_request(session(), account_requests.RESET, form.email.data, base_url=base_url,
                                       now=utcnow())
        commit()
        security_log.record("password_reset_request", "queued", email=form.email.data)
        g.mail_requested = True
        flash(_("If %(email)s has an account, we sent it a link for setting a new password. "
                "The link works for %(minutes)d minutes.", email=form.email.data, minutes=minutes))
        return redirect(url_for("auth.reset_request"))
    return render_template("auth/reset_request.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit(_limit("RESET_RATE_LIMIT"), methods=["POST"])
def reset_password(token: str):  # type: ignore[no-untyped-def]
    """Choose a new password through an e-mailed link (single use, expiring); ends all sessions."""
    db = session()
    try:
        accounts.check_reset_token(db, token, now=utcnow())
    except accounts.InvalidToken:
        security_log.record("password_reset", "invalid_link")
        return render_template("auth/reset_invalid.html"), 404
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            changed = accounts.finish_password_reset(db, token, form.password.data, now=utcnow())
        except accounts.InvalidToken:
            return render_template("auth/reset_invalid.html"), 404
        except InvalidInput as exc:
            form.password.errors.append(error_text(exc))
        else:
            account_mail.password_changed(changed)
            commit()
            security_log.record("password_reset", user=changed)
            end_session()
            flash(_("Your password has been changed. Log in with the new password."))
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form, token=token)


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():  # type: ignore[no-untyped-def]
    """Name and language; the password form posts to change_password."""
    user: User = current_user._get_current_object()
    form = with_languages(ProfileForm(obj=user))
    if form.validate_on_submit():
        accounts.update_profile(session(), user, name=form.name.data or "", language=form.language.data)
        commit()
        flask_session["lang"] = user.language
        with force_locale(user.language):
            flash(_("Your details have been saved."))
        return redirect(url_for("auth.profile"))
    return render_template("auth/profile.html", form=form, password_form=PasswordChangeForm(formdata=None))


@bp.route("/profile/password", methods=["POST"])
@limiter.limit(_limit("LOGIN_RATE_LIMIT"))
@login_required
def change_password():  # type: ignore[no-untyped-def]
    """Change the password (the current one is asked); other sessions end, this one continues."""
    user: User = current_user._get_current_object()
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(session(), user, form.current.data, form.password.data, now=utcnow())
        except accounts.WrongPassword:
            security_log.record("password_change", "wrong_current_password", user=user)
            form.current.errors.append(_("That is not your current password."))
        except InvalidInput as exc:
            form.password.errors.append(error_text(exc))
        else:
            account_mail.password_changed(user)
            commit()
            security_log.record("password_change", user=user)
            remember = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
            start_session(user, remember=remember)
            flash(_("Your password has been changed. You have been logged out on other devices."))
            return redirect(url_for("auth.profile"))
    details = with_languages(ProfileForm(formdata=None, obj=user))
    return render_template("auth/profile.html", form=details, password_form=form)
