"""The automatic answer to a new inquiry: its reference, when to expect a reply, and what may help now.

The contact form shows it on its "thank you" page and sends it by e-mail; a new e-mail
that reaches the shop's mailbox gets it as a reply (``neuvo mail poll`` and ``neuvo
worker``). Both say honestly when customer service is open and how long an answer
usually takes on that channel, link the customer's order (change it while it is not
packed, return it once it is), and offer the articles that may answer the question
already, each with its "this solved my question" link, but only when the suggester is
confident; otherwise they say plainly that an agent will answer. Rules live in
:mod:`kb.services.inquiries.intake` and :mod:`kb.services.inquiries.response_time`; this module words them.

Mail from machines (auto-replies, lists, bounces) is never acknowledged, and one
address gets at most one acknowledgement per :data:`ACKNOWLEDGE_EVERY`, so a customer
writing five quick messages, or a loop between two responders, does not fill an inbox.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any

from flask import current_app, url_for
from flask_babel import force_locale, gettext as _, ngettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.mailing.emailing import email_link, mail_sender, queue_message
from kb.models import ChannelKind, MessageKind, Ticket, TicketMessage
from kb.services.inquiries import intake
from kb.services.inquiries.replies import reference, reply_subject, thread_of
from kb.services.inquiries.response_time import ResponseEstimate, expected_response
from kb.web.templating import weekday_clock

#: At most one acknowledgement per customer address in this time.
ACKNOWLEDGE_EVERY = timedelta(hours=1)


def expected_text(estimate: ResponseEstimate) -> str:
    """The expected answer in words: measured working hours or the stated time, in or out of office hours."""
    if estimate.working_hours is not None and estimate.answer_by is not None:
        if estimate.is_open:
            return ngettext("Customer service is open now. We usually answer within about %(num)d working hour, "
                            "by about %(when)s.",
                            "Customer service is open now. We usually answer within about %(num)d working hours, "
                            "by about %(when)s.", estimate.working_hours, when=weekday_clock(estimate.answer_by))
        if estimate.opens_at is not None:
            return _("Customer service is closed now. We open %(opens)s and answer by about %(when)s.",
                     opens=weekday_clock(estimate.opens_at), when=weekday_clock(estimate.answer_by))
    stated = estimate.stated or _("We answer as soon as we can.")
    if estimate.is_open:
        return _("Customer service is open now.") + " " + stated
    if estimate.opens_at is not None:
        return _("Customer service is closed now; we open %(opens)s.",
                 opens=weekday_clock(estimate.opens_at)) + " " + stated
    return stated


def estimate(session: Session, channel: ChannelKind, language: str, at: datetime) -> ResponseEstimate:
    return expected_response(session, channel, now=at, timezone=current_app.config["TIMEZONE"], language=language)


def signal_link(signal: intake.OrderSignal, *, logged_in: bool, language: str, external: bool = False) -> str | None:
    """The return or change page of the order (guests first prove the order on the tracking page)."""
    if signal.kind is None:
        return None
    if logged_in:
        endpoint = "account.register_return" if signal.kind == "returns" else "account.change"
        values: dict[str, Any] = {"number": signal.order_number}
    else:
        endpoint, values = "account.track", {"lang": language}
    return email_link(endpoint, **values) if external else url_for(endpoint, **values)


def offers(session: Session, ticket: Ticket, *,
           external: bool) -> tuple[intake.Confirmation, list[dict[str, str]]]:
    """The articles to offer, each with its link and its "this solved it" link."""
    found = intake.confirmation(session, ticket)
    secret = current_app.config["SECRET_KEY"]
    link = email_link if external else url_for
    offered = [{"title": a.title, "url": link("help.article", lang=a.language, slug=a.slug),
                "solved": link("contact.solved", token=intake.solved_token(secret, ticket.id, a.id))}
               for a in found.articles]
    return found, offered


def confirmation_mail(session: Session, ticket: Ticket, *, logged_in: bool, language: str) -> tuple[str, str]:
    """Subject and text of the automatic answer, in the ticket's language."""
    found, offered = offers(session, ticket, external=True)
    with force_locale(ticket.language):
        opening = _("thank you for your message. Your reference is %(reference)s; please keep it in the subject "
                    "if you write to us about the same matter.", reference=reference(ticket))
        if ticket.channel is ChannelKind.EMAIL:  # a reply to the customer's own mail, in its thread
            subject = reply_subject(ticket)
        else:
            subject = _("We received your message [%(reference)s]", reference=reference(ticket))
        greeting = (_("Hello %(name)s,", name=ticket.customer_name) if ticket.customer_name
                    else _("Hello,"))
        expected = expected_text(estimate(session, ticket.channel, ticket.language, ticket.created_at))
        if not offered:  # no article the suggester is confident about: say plainly who answers, and when
            expected = _("A customer service agent will read your message and answer you.") + " " + expected
        parts = [greeting, opening, expected]
        link = signal_link(found.signal, logged_in=logged_in, language=language, external=True)
        if found.signal.kind == "returns":
            parts.append(_("Your order %(number)s has already been packed, so it can no longer be changed. You can "
                           "return products once they arrive: %(link)s", number=found.signal.order_number, link=link))
        elif found.signal.kind == "change":
            parts.append(_("Your order %(number)s can still be changed here: %(link)s",
                           number=found.signal.order_number, link=link))
        if offered:
            lines = [_("These articles may answer your question already:")]
            for offer in offered:
                lines.append(f"- {offer['title']}\n  {offer['url']}\n  "
                             + _("This solved my question: %(link)s", link=offer["solved"]))
            parts.append("\n".join(lines))
    return subject, "\n\n".join(parts) + "\n"


def send_confirmation(session: Session, ticket: Ticket, *, kind: str, logged_in: bool, language: str,
                      now: datetime) -> TicketMessage:
    """Queue the answer in the current transaction and keep a copy on the ticket for the agents."""
    subject, body = confirmation_mail(session, ticket, logged_in=logged_in, language=language)
    auto = TicketMessage(kind=MessageKind.AUTO, body=body, created_at=now)
    ticket.messages.append(auto)
    session.flush()
    mailed = body
    if ticket.sender_confirmed_at is None and ticket.user_id is None:  # kb/mailing/sender_links.py: only in the mail
        from kb.mailing.sender_links import sender_paragraph

        mailed = body + "\n" + sender_paragraph(ticket) + "\n"
    queue_message(ticket.customer_email, subject, mailed, kind=kind, ticket_id=ticket.id, ticket_message_id=auto.id,
                  in_reply_to=thread_of(ticket))
    return auto


def _recently_acknowledged(session: Session, address: str, *, now: datetime) -> bool:
    return session.scalar(
        select(TicketMessage.id).join(Ticket, TicketMessage.ticket_id == Ticket.id)
        .where(Ticket.customer_email == address, TicketMessage.kind == MessageKind.AUTO,
               TicketMessage.created_at > now - ACKNOWLEDGE_EVERY).limit(1)) is not None


def acknowledge_mails(session: Session, tickets: Sequence[Ticket], *, now: datetime) -> int:
    """Answer new e-mail tickets written by people (see the module's docstring); returns how many were answered."""
    own = {parseaddr(str(current_app.config.get("MAIL_DEFAULT_SENDER") or ""))[1].lower(),
           parseaddr(mail_sender())[1].lower()}
    answered = 0
    for ticket in tickets:
        address = (ticket.customer_email or "").lower()
        if not address or address in own or _recently_acknowledged(session, address, now=now):
            continue
        send_confirmation(session, ticket, kind="acknowledgement", logged_in=False, language=ticket.language,
                          now=now)
        answered += 1
    return answered
