"""A customer's own inquiries: the list, one conversation as the customer sees it, and adding to it.

An inquiry is the customer's when it came from their account, or from their (confirmed) account
address through any channel *and* its sender proved that address: anyone can type a customer's
address into the contact form or forge it in a mail's From header, so an inquiry that names an
address is shown under it only once the sender opened the link mailed there
(:func:`confirm_sender`). Inquiries sent while logged in (with a confirmed account address) and
those handed over by the shop itself (import, the shop's API) count as proven. The customer sees their own messages, the agents'
replies and the automatic answers, never the agents' internal notes. Spam and inquiries
whose personal data was erased are not listed.

Plain functions over a session: they flush but never commit, and take the time as ``now``.
"""
from __future__ import annotations

import re
from datetime import datetime

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from kb.models import ChannelKind, MessageKind, Ticket, TicketMessage, TicketStatus, User
from kb.services.errors import InvalidInput, NotFound
from kb.services.inquiries.intake import SPAM

MESSAGE_MAX = 5000
#: What the customer sees of a conversation.
VISIBLE = (MessageKind.CUSTOMER, MessageKind.REPLY, MessageKind.AUTO)
_EMAIL_REFERENCE = re.compile(r"T-(\d{6})")


#: How long the link that proves an inquiry's sender address works.
SENDER_LINK_MAX_AGE = 30 * 24 * 3600


def _owned(user: User):  # type: ignore[no-untyped-def]
    by_address = and_(func.lower(Ticket.customer_email) == user.email.lower(), Ticket.sender_confirmed_at.is_not(None))
    return (or_(Ticket.user_id == user.id, by_address),
            Ticket.anonymised_at.is_(None), Ticket.inquiry_type != SPAM)


def customer_tickets(session: Session, user: User, *, page: int, per_page: int = 10) -> tuple[list[Ticket], int]:
    """One page of the customer's inquiries, the most recently changed first, and the total count."""
    total = session.scalar(select(func.count(Ticket.id)).where(*_owned(user))) or 0
    rows = session.scalars(select(Ticket).where(*_owned(user))
                           .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
                           .offset((page - 1) * per_page).limit(per_page)).all()
    return list(rows), total


def customer_ticket(session: Session, user: User, reference: str) -> Ticket:
    """The inquiry with this reference if it is the customer's; NotFound otherwise (the same for both)."""
    reference = (reference or "").strip()[:120]
    query = select(Ticket).where(*_owned(user)).options(selectinload(Ticket.messages))
    ticket = session.scalar(query.where(Ticket.external_id == reference, Ticket.channel != ChannelKind.EMAIL))
    if ticket is None and (number := _EMAIL_REFERENCE.fullmatch(reference)):
        ticket = session.scalar(query.where(Ticket.id == int(number.group(1)), Ticket.channel == ChannelKind.EMAIL))
    if ticket is None:
        raise NotFound(reference)
    return ticket


def conversation(ticket: Ticket) -> list[TicketMessage]:
    """The messages the customer may see, oldest first (the first message is the ticket's own text)."""
    return sorted((m for m in ticket.messages if m.kind in VISIBLE), key=lambda m: (m.created_at, m.id))


def add_message(session: Session, ticket: Ticket, text: str, *, now: datetime) -> TicketMessage:
    """Add the customer's message; a waiting, solved or closed inquiry opens again for the agents."""
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise InvalidInput("write a message first", field="message")
    if len(text) > MESSAGE_MAX:
        raise InvalidInput(f"at most {MESSAGE_MAX} characters", field="message")
    message = TicketMessage(kind=MessageKind.CUSTOMER, body=text, created_at=now)
    ticket.messages.append(message)
    if ticket.status in (TicketStatus.WAITING, TicketStatus.SOLVED, TicketStatus.CLOSED):
        ticket.status = TicketStatus.OPEN
    ticket.version += 1
    ticket.updated_at = now
    session.flush()
    return message


# ---------- proving the sender's address

def sender_confirmed(ticket: Ticket) -> bool:
    """Whether the inquiry's sender proved the address it names (logged in, or opened the mailed link)."""
    return ticket.sender_confirmed_at is not None or ticket.user_id is not None


def _sender_serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="neuvo.inquiry-sender")


def sender_token(secret: str, ticket: Ticket) -> str:
    """A signed token naming the inquiry and the address it was mailed to (another address makes it useless)."""
    return _sender_serializer(secret).dumps([ticket.id, ticket.customer_email.lower()])


def ticket_of_sender_token(session: Session, secret: str, token: str) -> Ticket:
    """The inquiry a sender link names; NotFound when forged, expired, erased or for another address."""
    if len(token) > 300:
        raise NotFound("token")
    try:
        value = _sender_serializer(secret).loads(token, max_age=SENDER_LINK_MAX_AGE)
    except (BadSignature, ValueError, TypeError):
        raise NotFound("token") from None
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], int) and isinstance(value[1], str)):
        raise NotFound("token")
    ticket = session.get(Ticket, value[0])
    if ticket is None or ticket.anonymised_at is not None or ticket.customer_email.lower() != value[1]:
        raise NotFound("token")
    return ticket


def confirm_sender(session: Session, ticket: Ticket, *, now: datetime) -> None:
    """Record that the sender proved the address (once; the first time stays)."""
    ticket.sender_confirmed_at = ticket.sender_confirmed_at or now
    session.flush()
