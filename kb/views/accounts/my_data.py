"""A customer's own data: a copy to download (GDPR art. 15 and 20) and deleting the account (art. 17).

Rules: :mod:`kb.services.accounts.privacy`. Staff accounts are not deleted here (an admin disables them).
"""
from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, flash, redirect, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField
from wtforms.validators import DataRequired, Length

from kb import security_log
from kb.db import commit, session, utcnow
from kb.web.extensions import limiter
from kb.models import User
from kb.services.accounts import privacy
from kb.services.accounts.users import check_password
from kb.views.private import keep_private

bp = keep_private(Blueprint("my_data", __name__, url_prefix="/auth/profile"))


class DeleteAccountForm(FlaskForm):
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=1024)])
    confirm = BooleanField(_l("I understand that my account and my messages' personal details are erased for good."),
                           validators=[DataRequired(_l("Tick the box to confirm."))])


@bp.route("/data")
@login_required
def download():  # type: ignore[no-untyped-def]
    """Everything stored about the logged-in person, as a JSON file."""
    user: User = current_user._get_current_object()
    data = privacy.personal_data(session(), user.email)
    session().rollback()
    security_log.record("personal_data_exported", user=user)
    response = Response(json.dumps(data, ensure_ascii=False, indent=2), mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="omat-tiedot.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/delete", methods=["POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"])
@login_required
def delete():  # type: ignore[no-untyped-def]
    """Delete the account after the password; inquiries stay, without the person; orders stay for bookkeeping."""
    from kb.views.accounts.login_flow import end_session

    user: User = current_user._get_current_object()
    form = DeleteAccountForm()
    if user.is_staff:
        flash(_("Staff accounts are removed by an administrator."), "error")
        return redirect(url_for("auth.profile"))
    if not form.validate_on_submit():
        flash(" ".join(error for errors in form.errors.values() for error in errors), "error")
        return redirect(url_for("auth.profile"))
    if not check_password(user, form.password.data):
        security_log.record("account_deleted", "wrong_password", user=user)
        flash(_("That is not your password."), "error")
        return redirect(url_for("auth.profile"))
    security_log.record("account_deleted", user=user)
    erasure = privacy.erase_person(session(), user.email, now=utcnow())
    commit()
    end_session()
    if erasure.kept_orders:
        flash(_("Your account was deleted and the personal details of your messages were erased. Your orders stay "
                "in the shop's bookkeeping as the law requires (%(orders)s).", orders=", ".join(erasure.kept_orders)),
              "success")
    else:
        flash(_("Your account was deleted and the personal details of your messages were erased."), "success")
    return redirect(url_for("root"))
