"""Personal data: a copy for the person (GDPR art. 15 and 20), erasure on request (art. 17), and
erasure once it has been kept long enough (art. 5(1)(e)).

What "erasing" does to an inquiry (``anonymise``): the customer's address, name, account and
order number are removed from the ticket; the person's address, name, phone numbers and the
like are masked in the subject, every message and the survey comment; attachments are deleted;
the e-mail sent to them is deleted. What was asked and how it was answered stays, without
the person, so the dashboard's figures and the suggester's learning do not change. A name
typed in some other form than the one on the ticket may remain in free text: the limit of
masking, stated in the README.

What is kept: orders, their returns and invoices. They are the shop's bookkeeping, which
Finnish law (kirjanpitolaki 2:10) requires for six years after the year's end; the shop's
own platform owns them and deletes them there. Search and feedback logs carry a random
visitor id, never a person.

Plain functions over a session: they flush but never commit, and take the time as ``now``.
"""
from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from kb.models import (GapDecision, GapSnapshot, LoginSession, MailStatus, Order, OutgoingMail, Return, Role, SurveyResponse, Ticket,
                       TicketStatus, User)
from kb.services.errors import InvalidInput, NotFound

#: What masked personal data reads as.
MASK = "[…]"
#: Closed inquiries are erased this many days after their last change unless configured otherwise.
DEFAULT_RETENTION_DAYS = 730
#: Tickets anonymised per statement batch by the retention run.
_BATCH = 500

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
#: Phone numbers: +358 40 123 4567, 040-123 4567, (09) 123 456 (7+ digits with separators).
_PHONE = re.compile(r"(?<![\w])(?:\+\d{1,3}[\s-]?)?(?:\(?\d{2,4}\)?[\s-]?)\d{2,4}(?:[\s-]?\d{2,4}){1,3}(?![\w])")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: A Finnish personal identity code (henkilötunnus) and IBANs.
_HETU = re.compile(r"\b\d{6}[-+AaBCDEFYXWVU]\d{3}[0-9A-Ya-y]\b")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){3,7}(?:\s?[A-Z0-9]{1,4})?\b")


@dataclass
class Erasure:
    """What an erasure touched; ``kept_orders`` are the bookkeeping records left in place."""

    tickets: int = 0
    messages: int = 0
    attachments: int = 0
    mails: int = 0
    account_deleted: bool = False
    kept_orders: list[str] = field(default_factory=list)


def _phone_or_not(match: re.Match[str]) -> str:
    found = match.group()
    if sum(ch.isdigit() for ch in found) < 7 or _ISO_DATE.fullmatch(found.strip("() ")):
        return found
    return MASK


def _name_words(*names: str) -> list[str]:
    words = {word for name in names for word in re.split(r"[\s,.;]+", name or "") if len(word) >= 2}
    return sorted(words, key=len, reverse=True)


def mask(text: str, *, emails: Iterable[str] = (), names: Iterable[str] = (), order_numbers: Iterable[str] = ()) -> str:
    """``text`` with e-mail addresses, phone numbers, identity codes, IBANs and the given names masked."""
    if not text:
        return text
    for number in order_numbers:
        if number:
            text = re.sub(rf"(?<![\w]){re.escape(number)}(?![\w])", MASK, text)
    for email in emails:
        if email:
            text = re.sub(re.escape(email), MASK, text, flags=re.IGNORECASE)
    text = _EMAIL.sub(MASK, text)
    text = _HETU.sub(MASK, text)
    text = _IBAN.sub(MASK, text)
    text = _PHONE.sub(_phone_or_not, text)
    for word in _name_words(*names):
        text = re.sub(rf"(?<![\w]){re.escape(word)}(?![\w])", MASK, text, flags=re.IGNORECASE)
    return text


def _mask_mail_parts(row: Any, scrub: dict[str, Any]) -> None:
    """An e-mail's whole body, quoted thread and signature are masked like its text (they hold the same person)."""
    row.original_body = mask(row.original_body, **scrub)
    row.quoted = mask(row.quoted, **scrub)
    row.signature = mask(row.signature, **scrub)


def anonymise(session: Session, ticket: Ticket, *, now: datetime, names: Iterable[str] = ()) -> tuple[int, int]:
    """Erase the person from one ticket (see the module's docstring); returns (messages, attachments) touched."""
    emails = [ticket.customer_email]
    all_names = [ticket.customer_name, *names]
    numbers = [ticket.order_number]
    scrub: dict[str, Any] = {"emails": emails, "names": all_names, "order_numbers": numbers}
    ticket.subject = mask(ticket.subject, **scrub)[:300]
    ticket.body = mask(ticket.body, **scrub)
    _mask_mail_parts(ticket, scrub)
    messages = attachments = 0
    for message in ticket.messages:
        message.body = mask(message.body, **scrub)
        _mask_mail_parts(message, scrub)
        messages += 1
        attachments += len(message.attachments)
        message.attachments.clear()
    survey = session.scalar(select(SurveyResponse).where(SurveyResponse.ticket_id == ticket.id))
    if survey is not None:
        survey.comment = mask(survey.comment, **scrub)
    session.execute(delete(OutgoingMail).where(OutgoingMail.ticket_id == ticket.id))
    _scrub_snapshots(session, ticket.external_id, scrub)
    ticket.customer_email, ticket.customer_name, ticket.order_number = "", "", ""
    ticket.user_id = None
    ticket.anonymised_at = now
    ticket.version += 1
    session.flush()
    return messages, attachments


def _scrub_snapshots(session: Session, external_id: str, scrub: dict[str, Any]) -> None:
    """Mask the person in the editors' stored suggestion runs whose topics quote this inquiry."""
    for snapshot in session.scalars(select(GapSnapshot)):
        report = copy.deepcopy(snapshot.report)
        touched = False
        for topic in report.get("topics", []):
            if external_id in topic.get("inquiry_ids", []):
                topic["title"] = mask(topic.get("title", ""), **scrub)
                topic["examples"] = [mask(text, **scrub) for text in topic.get("examples", [])]
                touched = True
        if touched:
            snapshot.report = report
    for decision in session.scalars(select(GapDecision)):
        if external_id in (decision.inquiry_ids or []):
            decision.title = mask(decision.title, **scrub)[:500]


def _address(email: str) -> str:
    address = (email or "").strip().lower()
    if "@" not in address:
        raise InvalidInput("not an e-mail address", field="email")
    return address


def _their_tickets(session: Session, address: str, user: User | None) -> list[Ticket]:
    who = [func.lower(Ticket.customer_email) == address]
    if user is not None:
        who.append(Ticket.user_id == user.id)
    return list(session.scalars(select(Ticket).where(or_(*who)).order_by(Ticket.id)))


def _find_user(session: Session, address: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == address))


def personal_data(session: Session, email: str) -> dict[str, Any]:
    """Everything Neuvo holds about the person with this address, as plain JSON-able data."""
    address = _address(email)
    user = _find_user(session, address)
    tickets = _their_tickets(session, address, user)
    orders = list(session.scalars(select(Order).where(func.lower(Order.email) == address).order_by(Order.placed_at)))
    returns = list(session.scalars(select(Return).where(Return.order_id.in_([o.id for o in orders]))
                                   .order_by(Return.created_at))) if orders else []
    surveys = {s.ticket_id: s for s in session.scalars(
        select(SurveyResponse).where(SurveyResponse.ticket_id.in_([t.id for t in tickets])))} if tickets else {}
    mails = session.scalars(select(OutgoingMail).where(func.lower(OutgoingMail.recipient) == address)
                            .order_by(OutgoingMail.created_at))

    def when(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "email": address,
        "account": None if user is None else {
            "email": user.email, "name": user.name, "role": user.role.value, "language": user.language,
            "created_at": when(user.created_at), "last_login_at": when(user.last_login_at),
            "two_step_verification": user.two_step_enabled},
        "inquiries": [{
            "reference": t.external_id, "channel": t.channel.value, "created_at": when(t.created_at),
            "status": t.status.value, "subject": t.subject, "message": t.body, "name": t.customer_name,
            "original_message": t.original_body, "quoted": t.quoted, "signature": t.signature,
            "order_number": t.order_number,
            "conversation": [{"kind": m.kind.value, "at": when(m.created_at), "text": m.body,
                              "original_text": m.original_body, "quoted": m.quoted, "signature": m.signature,
                              "attachments": [a.filename for a in m.attachments]} for m in t.messages],
            "survey": None if t.id not in surveys or surveys[t.id].answered_at is None else {
                "csat": surveys[t.id].csat, "ces": surveys[t.id].ces, "comment": surveys[t.id].comment},
        } for t in tickets],
        "orders": [{
            "number": o.number, "placed_at": when(o.placed_at), "status": o.status.value,
            "shipping_address": o.shipping_address,
            "lines": [{"product": line.name, "quantity": line.quantity} for line in o.lines],
        } for o in orders],
        "returns": [{"rma": r.rma, "order": r.order.number, "status": r.status.value, "reason": r.reason,
                     "comment": r.comment, "created_at": when(r.created_at)} for r in returns],
        "emails_sent": [{"at": when(m.created_at), "subject": m.subject, "kind": m.kind} for m in mails],
        "log_ins": [] if user is None else [
            {"at": when(row.created_at), "last_active": when(row.last_seen_at), "ended": when(row.ended_at),
             "address": row.ip, "browser": row.user_agent}
            for row in session.scalars(select(LoginSession).where(LoginSession.user_id == user.id)
                                       .order_by(LoginSession.created_at))],
    }


def erase_person(session: Session, email: str, *, now: datetime, allow_staff: bool = False) -> Erasure:
    """Erase the person with this address: their inquiries anonymised, mail to them deleted, the account removed.

    Staff accounts are refused unless ``allow_staff`` (disable them instead: their replies
    are the shop's record). NotFound when Neuvo holds nothing about the address.
    """
    address = _address(email)
    user = _find_user(session, address)
    if user is not None and user.role is not Role.CUSTOMER and not allow_staff:
        raise InvalidInput("this is a staff account: disable it on the admin's users page instead", field="email")
    tickets = _their_tickets(session, address, user)
    kept = list(session.scalars(select(Order.number).where(func.lower(Order.email) == address)))
    mails = session.execute(delete(OutgoingMail).where(func.lower(OutgoingMail.recipient) == address)).rowcount or 0
    if user is None and not tickets and not kept and not mails:
        raise NotFound("nothing is stored about this address")
    erasure = Erasure(mails=mails, kept_orders=kept)
    names = [user.name] if user is not None else []
    for ticket in tickets:
        messages, attachments = anonymise(session, ticket, now=now, names=names)
        erasure.tickets += 1
        erasure.messages += messages
        erasure.attachments += attachments
    if user is not None:
        session.delete(user)
        erasure.account_deleted = True
    session.flush()
    return erasure


def purge_expired(session: Session, *, now: datetime, days: int) -> Erasure:
    """Anonymise solved and closed inquiries untouched for ``days``, and delete mail sent that long ago."""
    if days <= 0:
        raise InvalidInput("the retention period must be at least one day", field="days")
    cutoff = now - timedelta(days=days)
    erasure = Erasure()
    while True:
        batch = list(session.scalars(
            select(Ticket).where(Ticket.anonymised_at.is_(None), Ticket.updated_at < cutoff,
                                 Ticket.status.in_((TicketStatus.SOLVED, TicketStatus.CLOSED)))
            .order_by(Ticket.id).limit(_BATCH)))
        if not batch:
            break
        for ticket in batch:
            messages, attachments = anonymise(session, ticket, now=now)
            erasure.tickets += 1
            erasure.messages += messages
            erasure.attachments += attachments
    erasure.mails = session.execute(delete(OutgoingMail).where(
        OutgoingMail.status != MailStatus.QUEUED, OutgoingMail.created_at < cutoff)).rowcount or 0
    newest = session.scalar(select(func.max(GapSnapshot.id)))
    session.execute(delete(GapSnapshot).where(GapSnapshot.created_at < cutoff, GapSnapshot.id != newest))
    session.flush()
    return erasure
