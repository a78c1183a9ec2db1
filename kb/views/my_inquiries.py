"""A logged-in customer's own inquiries: the list, a conversation with the agents' replies, and adding to it.

Rules: :mod:`kb.services.inquiries.customer_inquiries`. Another customer's reference answers 404.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from kb.db import commit, session, utcnow
from kb.web.extensions import limiter
from kb.web.security import id_arg
from kb.services.inquiries import customer_inquiries as rules
from kb.services.errors import NotFound
from kb.services.inquiries.replies import reference

bp = Blueprint("inquiries", __name__)


class MessageForm(FlaskForm):
    message = TextAreaField(_l("Add to your message"), validators=[
        DataRequired(_l("Write your message.")),
        Length(max=rules.MESSAGE_MAX, message=_l("Write at most %(max)d characters."))])


@bp.after_request
def _no_store(response):  # type: ignore[no-untyped-def]
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.app_context_processor
def _reference() -> dict[str, object]:
    return {"inquiry_reference": reference}


@bp.route("/tili/yhteydenotot")
@login_required
def index():  # type: ignore[no-untyped-def]
    """The customer's inquiries, the most recently changed first."""
    page = max(1, request.args.get("page", 1, type=id_arg))
    rows, total = rules.customer_tickets(session(), current_user._get_current_object(), page=page)
    return render_template("account/inquiries.html", tickets=rows, total=total, page=page, per_page=10)


@bp.route("/tili/yhteydenotot/<ref>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["CONTACT_RATE_LIMIT"], methods=["POST"])
@login_required
def detail(ref: str):  # type: ignore[no-untyped-def]
    """One conversation: the customer's messages, the replies and the automatic answers; a form to add to it."""
    db = session()
    try:
        ticket = rules.customer_ticket(db, current_user._get_current_object(), ref)
    except NotFound:
        abort(404)
    form = MessageForm()
    if form.validate_on_submit():
        rules.add_message(db, ticket, form.message.data, now=utcnow())
        commit()
        flash(_("Your message was added. We will answer it as soon as we can."), "success")
        return redirect(url_for("inquiries.detail", ref=ref))
    status = 400 if request.method == "POST" else 200
    return render_template("account/inquiry.html", ticket=ticket, messages=rules.conversation(ticket),
                           form=form), status
