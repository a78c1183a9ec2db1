"""The contact form with live article suggestions, the confirmation, and the satisfaction survey.

Rules live in :mod:`kb.services.inquiries.intake` (ticket, spam queue, deflection, order signal),
:mod:`kb.services.inquiries.response_time` (the expected answer) and :mod:`kb.services.inquiries.surveys`.
"""
from __future__ import annotations

from typing import Any

from flask import (Blueprint, abort, current_app, redirect, render_template, request, session as flask_session,
                   url_for)
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, MultipleFileField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from kb.mailing.acknowledgements import estimate, expected_text, offers, send_confirmation, signal_link
from kb.db import commit, session, utcnow
from kb.web.extensions import limiter, select_locale
from kb.models import ChannelKind, Ticket
from kb.web.security import visitor_id
from kb.services.inquiries import attachments, customer_inquiries, intake, surveys
from kb.services.errors import InvalidInput, NotFound
from kb.services.accounts.users import normalise_email
from kb.views.private import keep_private

bp = keep_private(Blueprint("contact", __name__))
SENT_KEY = "contact_sent"
MESSAGE_MAX = 5000


@bp.record_once
def _uploads_first(state: Any) -> None:
    """Run before CSRF and NUL checks: they read the body, and the form's bigger limit must apply first."""
    state.app.before_request_funcs.setdefault(None, []).insert(0, _allow_uploads)


def _allow_uploads() -> None:
    """Only the contact form takes attachments, so only it gets the larger body limit."""
    if request.endpoint == "contact.form" and request.method == "POST":
        request.max_content_length = current_app.config["CONTACT_MAX_CONTENT_LENGTH"]


# ---------- forms

def _email_format(_form: FlaskForm, field: Any) -> None:
    try:
        field.data = normalise_email(field.data or "")
    except InvalidInput:
        raise ValidationError(_("Enter an e-mail address such as name@example.fi.")) from None


INQUIRY_LABELS = {
    "order": _l("My order"), "delivery": _l("Delivery"), "payment": _l("Payment or invoice"),
    "return": _l("Returning a product"), "warranty": _l("Warranty or a faulty product"),
    "product": _l("A product"), "other": _l("Something else"),
}


class ContactForm(FlaskForm):
    inquiry_type = SelectField(_l("What is your question about?"),
                               choices=[SelectChoice("", _l("Choose…"))]
                               + [SelectChoice(value, label) for value, label in INQUIRY_LABELS.items()],
                               validators=[DataRequired(_l("Choose what your question is about."))])
    name = StringField(_l("Your name"), validators=[DataRequired(_l("Enter your name.")),
                                                    Length(max=120, message=_l("Write at most %(max)d characters."))])
    email = EmailField(_l("E-mail address"), validators=[DataRequired(_l("Enter your e-mail address.")),
                                                         _email_format])
    order_number = StringField(_l("Order number (optional)"), validators=[
        Optional(), Length(max=64, message=_l("Write at most %(max)d characters.")),
        Regexp(r"^[A-Za-z0-9][A-Za-z0-9-]*$", message=_l("An order number has only letters, digits and dashes."))])
    subject = StringField(_l("Subject"), validators=[DataRequired(_l("Write a subject.")),
                                                     Length(max=200, message=_l("Write at most %(max)d characters."))])
    message = TextAreaField(_l("Message"), validators=[
        DataRequired(_l("Write your message.")),
        Length(max=MESSAGE_MAX, message=_l("Write at most %(max)d characters."))])
    attachments = MultipleFileField(_l("Attachments (optional)"))
    #: Honeypot: hidden from people by CSS and from screen readers; bots fill it in.
    website = StringField(_l("Leave this field empty"))


class SurveyForm(FlaskForm):
    csat = RadioField(_l("How satisfied are you with the help you got?"),
                      choices=[SelectChoice(str(n)) for n in surveys.CSAT_RANGE], validate_choice=False)
    ces = RadioField(_l("How easy was it to get your issue handled?"),
                     choices=[SelectChoice(str(n)) for n in surveys.CES_RANGE], validate_choice=False)
    comment = TextAreaField(_l("Anything else you would like to tell us? (optional)"))


# ---------- views

@bp.route("/yhteydenotto", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["CONTACT_RATE_LIMIT"], methods=["POST"])
def form():  # type: ignore[no-untyped-def]
    """The contact form: a ticket, its suggestions and an automatic confirmation."""
    form = ContactForm()
    logged_in = current_user.is_authenticated
    if logged_in:
        form.email.data = current_user.email  # fixed for customers: the address their orders use
        if request.method == "GET":
            form.name.data = current_user.name
    if request.method == "GET" and request.args.get("tilaus"):
        form.order_number.data = request.args["tilaus"][:64]
    if request.method == "GET" and request.args.get("aihe") in INQUIRY_LABELS:  # e.g. a fault from the return page
        form.inquiry_type.data = request.args["aihe"]
    db = session()
    if request.method == "POST":
        valid = form.validate_on_submit()
        files = _uploaded_files(form)  # checked even when other fields fail: every error shows at once
        if valid and logged_in and form.order_number.data:
            try:
                intake.check_order_number(db, form.order_number.data, email=current_user.email)
            except InvalidInput:
                form.order_number.errors.append(_("We could not find this order among your orders."))
        if valid and files is not None and not form.errors:
            data = intake.ContactInput(
                inquiry_type=form.inquiry_type.data, name=form.name.data.strip(), email=form.email.data,
                subject=form.subject.data.strip(), message=form.message.data.strip(), ui_language=select_locale(),
                order_number=(form.order_number.data or "").strip(), user_id=current_user.id if logged_in else None,
                visitor=visitor_id(), attachments=files, spam=bool(form.website.data))
            now = utcnow()
            ticket = intake.submit_inquiry(db, data, matcher=current_app.extensions["neuvo_matchers"].current(db),
                                           now=now)
            if not data.spam:
                send_confirmation(db, ticket, kind="confirmation", logged_in=logged_in, language=select_locale(),
                                  now=now)
            commit()
            flask_session[SENT_KEY] = (flask_session.get(SENT_KEY, []) + [ticket.external_id])[-5:]
            return redirect(url_for("contact.sent", reference=ticket.external_id))
    status = 400 if request.method == "POST" else 200
    return render_template("contact/form.html", form=form, fixed_email=logged_in,
                           max_files=current_app.config["ATTACHMENT_MAX_FILES"],
                           max_megabytes=current_app.config["ATTACHMENT_MAX_BYTES"] // (1024 * 1024)), status


def _uploaded_files(form: ContactForm) -> list[attachments.UploadedFile] | None:
    """The checked attachments, or None after putting the reason on the field."""
    config = current_app.config
    limit = config["ATTACHMENT_MAX_BYTES"]
    chosen = [f for f in (form.attachments.data or []) if getattr(f, "filename", "")]
    try:
        return attachments.check_attachments(
            [(f.filename, f.stream.read(limit + 1)) for f in chosen], max_files=config["ATTACHMENT_MAX_FILES"],
            max_bytes=limit, allowed=config["ATTACHMENT_TYPES"])
    except attachments.AttachmentRefused as error:
        messages = {
            "too_many": _("You can attach at most %(num)d files.", num=error.limit),
            "too_big": _("%(file)s is too big: each file may be at most %(num)d MB.", file=error.filename,
                         num=error.limit),
            "empty": _("%(file)s is empty.", file=error.filename),
            "type": _("%(file)s cannot be attached: only JPEG, PNG, GIF, WebP and PDF files are accepted.",
                      file=error.filename),
        }
        form.attachments.errors = [messages[error.reason]]
        return None


@bp.route("/yhteydenotto/kiitos/<reference>")
def sent(reference: str):  # type: ignore[no-untyped-def]
    """The confirmation after sending: reference, expected answer, articles (only for the sender)."""
    if reference not in flask_session.get(SENT_KEY, []):
        abort(404)
    ticket = session().scalar(select(Ticket).where(Ticket.external_id == reference))
    if ticket is None:
        abort(404)
    db = session()
    found, offered = offers(db, ticket, external=False)
    language = select_locale()
    return render_template("contact/sent.html", ticket=ticket, offers=offered, signal=found.signal,
                           signal_link=signal_link(found.signal, logged_in=current_user.is_authenticated,
                                                   language=language),
                           expected=expected_text(estimate(db, ChannelKind.FORM, language, ticket.created_at)))


@bp.route("/yhteydenotto/avaa/<slug>")
@limiter.limit(lambda: current_app.config["SEARCH_RATE_LIMIT"])
def open_article(slug: str):  # type: ignore[no-untyped-def]
    """Follow a suggestion from the form: recorded for deflection, then on to the article."""
    db = session()
    try:
        article = intake.record_opened(db, slug, visitor=visitor_id(), now=utcnow())
    except NotFound:
        abort(404)
    commit()
    return redirect(url_for("help.article", lang=article.language, slug=article.slug))


@bp.route("/yhteydenotto/ratkaistu/<token>", methods=["GET", "POST"])
def solved(token: str):  # type: ignore[no-untyped-def]
    """"This solved it": confirm with a POST, and the ticket closes as solved by the article."""
    db = session()
    try:
        ticket_id, article_id = intake.read_solved_token(current_app.config["SECRET_KEY"], token)
        ticket, article = intake.solvable(db, ticket_id, article_id, now=utcnow())
    except NotFound:
        abort(404)
    except intake.AlreadySolved:
        return render_template("contact/solved.html", state="closed"), (409 if request.method == "POST" else 200)
    except intake.ConversationGoesOn as going_on:
        return _stays_open(going_on)
    form = FlaskForm()
    if form.validate_on_submit():
        try:
            intake.solve_by_article(db, ticket_id, article_id, visitor=visitor_id(), now=utcnow())
        except intake.AlreadySolved:
            db.rollback()
            return render_template("contact/solved.html", state="closed"), 409
        except intake.ConversationGoesOn as going_on:
            db.rollback()
            return _stays_open(going_on)
        commit()
        return render_template("contact/solved.html", state="done", ticket=ticket, article=article)
    return render_template("contact/solved.html", state="ask", ticket=ticket, article=article, form=form), (
        400 if request.method == "POST" else 200)


@bp.route("/yhteydenotto/vahvista/<token>", methods=["GET", "POST"])
def confirm_sender(token: str):  # type: ignore[no-untyped-def]
    """The sender proves the inquiry's address (a button: mail scanners open GET links); then it shows in My messages."""
    db = session()
    try:
        ticket = customer_inquiries.ticket_of_sender_token(db, current_app.config["SECRET_KEY"], token)
    except NotFound:
        abort(404)
    form = FlaskForm()
    if form.validate_on_submit():
        customer_inquiries.confirm_sender(db, ticket, now=utcnow())
        commit()
        return render_template("contact/sender_confirmed.html", state="done", ticket=ticket)
    state = "done" if ticket.sender_confirmed_at is not None else "ask"
    return render_template("contact/sender_confirmed.html", state=state, ticket=ticket, form=form), (
        400 if request.method == "POST" else 200)


def _stays_open(going_on: intake.ConversationGoesOn):  # type: ignore[no-untyped-def]
    """The ticket is a conversation with a person now: "this solved it" leaves it open and says why."""
    return render_template("contact/solved.html", state="open", by=going_on.by, reference=going_on.args[0]), (
        409 if request.method == "POST" else 200)


@bp.route("/kysely/<token>", methods=["GET", "POST"])
def survey(token: str):  # type: ignore[no-untyped-def]
    """The satisfaction survey behind a single-use link: CSAT 1-5, effort 1-7, a comment."""
    db = session()
    try:
        row = surveys.find_survey(db, token)
    except NotFound:
        abort(404)
    if row.answered_at is not None:
        return render_template("contact/survey.html", answered=True), (409 if request.method == "POST" else 200)
    form = SurveyForm()
    if form.validate_on_submit():
        try:
            surveys.answer_survey(db, token, csat=form.csat.data, ces=form.ces.data, comment=form.comment.data or "",
                                  now=utcnow())
        except surveys.AlreadyAnswered:
            db.rollback()
            return render_template("contact/survey.html", answered=True), 409
        except InvalidInput as error:
            db.rollback()
            field = getattr(form, error.field or "csat")
            field.errors = [_("Choose one of the numbers.") if error.field in ("csat", "ces")
                            else _("Write at most %(num)d characters.", num=surveys.MAX_COMMENT)]
        else:
            commit()
            return redirect(url_for("contact.survey", token=token))
    return render_template("contact/survey.html", answered=False, form=form), (
        400 if request.method == "POST" else 200)
