"""The agent workspace: one inbox for every channel, the ticket with its customer context."""
from __future__ import annotations

import io

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kb.mailing.emailing import email_link, mail_sender
from kb.web.access import roles_required
from kb.db import commit, session, utcnow
from kb.models import Attachment, MessageKind, Role, Ticket, TicketStatus, User
from kb.web.security import id_arg, small_int
from kb.services.inquiries import inbox, replies
from kb.services.errors import InvalidInput

bp = Blueprint("agent", __name__, url_prefix="/agent")

#: Stored types that could run script if a browser ever rendered them: served as plain bytes.
SCRIPTABLE = ("html", "xml", "svg", "javascript", "ecmascript")


#: Every agent URL: guests are sent to log in, other roles get 403 (admins pass).
staff_only = roles_required(Role.AGENT)


@bp.after_request
def _no_store(response: Response) -> Response:
    """Tickets hold customers' messages and orders: browsers and proxies must not keep them."""
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _ticket(ticket_id: int) -> Ticket:
    found = session().get(Ticket, ticket_id)
    if found is None:
        abort(404)
    return found






def _version() -> int:
    version = small_int(request.form.get("version"))
    if version is None:
        abort(400)
    return version


@bp.get("/")
@staff_only
def index():  # type: ignore[no-untyped-def]
    """The inbox: views with counts, filters, oldest waiting first."""
    query = inbox.InboxQuery.parse(request.args.to_dict())
    db = session()
    page = inbox.list_tickets(db, query, user_id=current_user.id)
    return render_template("agent/inbox.html", query=query, page=page, reference=replies.reference,
                           counts=inbox.view_counts(db, user_id=current_user.id),
                           channels=inbox.CHANNELS, types=inbox.INQUIRY_TYPES, statuses=inbox.STATUSES,
                           now=utcnow())


def _render_ticket(ticket: Ticket, *, draft: str = "", linked: str = "", status: int = 200,
                   error: str | None = None):  # type: ignore[no-untyped-def]
    """The ticket page; after a refused reply it keeps the agent's draft and linked ids."""
    db, now = session(), utcnow()
    inbox.touch_viewer(db, ticket, current_user, now=now)
    answers = inbox.suggested_answers(db, ticket)
    inbox.record_suggested(db, ticket, answers, now=now)
    messages = inbox.conversation(db, ticket)
    authors = inbox.users_by_id(db, {m.author_id for m in messages if m.author_id})
    viewers = inbox.other_viewers(db, ticket, user_id=current_user.id, now=now)
    commit()
    links = {a.article.id: email_link("help.article", lang=a.article.language, slug=a.article.slug)
             for a in answers}
    inserts = {a.article.id: _linked_answer(a.article, links[a.article.id], ticket.language) for a in answers}
    return render_template(
        "agent/ticket.html", ticket=ticket, messages=messages, authors=authors, answers=answers, links=links,
        inserts=inserts,        context=inbox.customer_context(db, ticket), viewers=viewers,
        assignee=db.get(User, ticket.assignee_id) if ticket.assignee_id else None,
        colleagues=inbox.colleagues(db), macros=replies.macros_for(db, ticket.language),
        handling_time=replies.handling_time(ticket), first_response_time=replies.first_response_time(ticket),
        reference=replies.reference(ticket), draft=draft, linked=linked, error=error,
        message_kinds=MessageKind, statuses=TicketStatus,
    ), status


def _linked_answer(article, url: str, language: str) -> str:  # type: ignore[no-untyped-def]
    """What "Insert linked answer" writes: whole sentences of the article, then its link on a line of its own."""
    from flask_babel import force_locale

    from kb.services.inquiries.linked_answers import answer_text

    with force_locale(language):
        more = _("Read more in our guide “%(title)s”:", title=article.title)
    text = answer_text(article.body)
    return f"{text}\n\n{more}\n{url}" if text else f"{more}\n{url}"


@bp.get("/tickets/<int:ticket_id>")
@staff_only
def ticket(ticket_id: int):  # type: ignore[no-untyped-def]
    """One ticket: conversation, reply form, customer context and suggested articles."""
    return _render_ticket(_ticket(ticket_id))


@bp.post("/tickets/<int:ticket_id>/reply")
@staff_only
def reply(ticket_id: int):  # type: ignore[no-untyped-def]
    """E-mail a reply; refused (draft kept) when a colleague changed the ticket meanwhile."""
    found = _ticket(ticket_id)
    body, linked = request.form.get("body", ""), request.form.get("linked", "")[:500]
    status_after = TicketStatus.SOLVED if request.form.get("status_after") == "solved" else TicketStatus.WAITING
    try:
        replies.send_reply(session(), found, body, by=current_user, now=utcnow(), expected_version=_version(),
                           sender=mail_sender(), linked_article_ids=linked.replace(",", " ").split(),
                           status_after=status_after)
    except replies.StaleTicket:
        session().rollback()
        return _render_ticket(found, draft=body, linked=linked, status=409, error=_(
            "A colleague answered or changed this ticket while you were writing. Read the new messages "
            "below; your draft is kept and was not sent."))
    except InvalidInput as error:
        session().rollback()
        return _render_ticket(found, draft=body, linked=linked, status=400, error=_field_message(error))
    commit()
    flash(_("Reply sent to the customer."), "success")
    return redirect(url_for("agent.ticket", ticket_id=found.id))


def _field_message(error: InvalidInput) -> str:
    if error.field == "body" and "e-mail" in error.message:
        return _("This customer left no e-mail address. Add an internal note instead.")
    if error.field == "body" and "characters" in error.message:
        return _("The message is too long.")
    if error.field == "body":
        return _("Write a message first.")
    return _("The request could not be understood.")


@bp.post("/tickets/<int:ticket_id>/note")
@staff_only
def note(ticket_id: int):  # type: ignore[no-untyped-def]
    """An internal note for colleagues; never e-mailed."""
    found = _ticket(ticket_id)
    try:
        replies.add_note(session(), found, request.form.get("note", ""), by=current_user, now=utcnow())
    except InvalidInput as error:
        session().rollback()
        return _render_ticket(found, status=400, error=_field_message(error))
    commit()
    flash(_("Note added."), "success")
    return redirect(url_for("agent.ticket", ticket_id=found.id))


_STATUS_ACTIONS = {"solve": replies.solve, "close": replies.close, "reopen": replies.reopen}


@bp.post("/tickets/<int:ticket_id>/<any(solve, close, reopen):action>")
@staff_only
def change_status(ticket_id: int, action: str):  # type: ignore[no-untyped-def]
    """Solve (the customer gets the survey), close or reopen the ticket."""
    found = _ticket(ticket_id)
    try:
        _STATUS_ACTIONS[action](session(), found, by=current_user, now=utcnow(), expected_version=_version())
    except replies.StaleTicket:
        session().rollback()
        return _render_ticket(found, status=409, error=_(
            "A colleague answered or changed this ticket meanwhile. Check the new messages and try again."))
    commit()
    flash({"solve": _("Ticket solved."), "close": _("Ticket closed."), "reopen": _("Ticket reopened.")}[action],
          "success")
    return redirect(url_for("agent.ticket", ticket_id=found.id))


@bp.post("/tickets/<int:ticket_id>/take")
@staff_only
def take(ticket_id: int):  # type: ignore[no-untyped-def]
    """Take the ticket for myself."""
    found = _ticket(ticket_id)
    inbox.take(session(), found, by=current_user, now=utcnow())
    commit()
    flash(_("You have this ticket now."), "success")
    return redirect(url_for("agent.ticket", ticket_id=found.id))


@bp.post("/tickets/<int:ticket_id>/assign")
@staff_only
def assign(ticket_id: int):  # type: ignore[no-untyped-def]
    """Give the ticket to a colleague, or to nobody."""
    found = _ticket(ticket_id)
    raw = request.form.get("assignee", "").strip()
    try:
        assignee_id = id_arg(raw) if raw else None
        inbox.assign(session(), found, assignee_id, by=current_user, now=utcnow())
    except (ValueError, InvalidInput):
        session().rollback()
        flash(_("Choose a colleague who works on tickets."), "error")
        return redirect(url_for("agent.ticket", ticket_id=found.id))
    commit()
    flash(_("Assignment saved."), "success")
    return redirect(url_for("agent.ticket", ticket_id=found.id))


@bp.get("/tickets/<int:ticket_id>/presence")
@staff_only
def presence(ticket_id: int):  # type: ignore[no-untyped-def]
    """Who else has the ticket open and its current version (polled by the open page)."""
    found = _ticket(ticket_id)
    db, now = session(), utcnow()
    inbox.touch_viewer(db, found, current_user, now=now)
    viewers = inbox.other_viewers(db, found, user_id=current_user.id, now=now)
    assignee = db.get(User, found.assignee_id) if found.assignee_id else None
    commit()
    response = jsonify(version=found.version, status=found.status.value,
                       viewers=[{"id": u.id, "name": u.name or u.email} for u in viewers],
                       assignee=({"id": assignee.id, "name": assignee.name or assignee.email}
                                 if assignee else None))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/attachments/<int:attachment_id>")
@staff_only
def attachment(attachment_id: int):  # type: ignore[no-untyped-def]
    """Download a file sent with a ticket message (always as a download, never rendered by us)."""
    found = session().get(Attachment, attachment_id)
    if found is None:
        abort(404)
    stored = (found.content_type or "").lower()
    content_type = "application/octet-stream" if not stored or any(t in stored for t in SCRIPTABLE) else stored
    response = send_file(io.BytesIO(found.data), mimetype=content_type, as_attachment=True,
                         download_name=found.filename or f"attachment-{found.id}", max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response
