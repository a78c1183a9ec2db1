"""The customer's new words apart from the quoted thread and the signature, on every e-mail path.

Contract:

- :func:`split_body` is the one splitter (:mod:`mailsplit`) as the services use it: the
  plain-text part, and the HTML part when the message has one.
- A stored e-mail keeps its body whole in ``original_body``; ``body`` is the new text (plus
  the notes about attachments left out), ``quoted`` and ``signature`` the rest. ``body`` is what
  the ticket, the agent's view, the suggester and the acknowledgement read.
- :func:`reparse` splits the e-mail tickets and messages stored before the splitter existed,
  once: a row with ``original_body`` is already split and is left alone, so running it again
  changes nothing.
- :func:`parse_files` reads .eml and .mbox files for ``neuvo mail parse`` and writes nothing.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.models import ChannelKind, MessageKind, Ticket, TicketMessage
from mailsplit import Split, split_message

#: The notes :mod:`kb.services.inquiries.email_intake` appends about attachments it left out.
_NOTES = re.compile(r"(?:\n*\[attachment left out: [^\n]*\])+\s*\Z")


def split_body(text: str, html: str | None = None) -> Split:
    """The new text, quoted thread and signature of a mail body."""
    return split_message(text, html)


def store_split(row: Ticket | TicketMessage, original: str, parts: Split, notes: str = "") -> None:
    """Put a split body on a ticket or message: the original whole, ``body`` the new text and notes."""
    row.original_body = original
    row.body = f"{parts.text}\n\n{notes}".strip() if notes else parts.text
    row.quoted = parts.quoted
    row.signature = parts.signature


def _split_row(row: Ticket | TicketMessage) -> bool:
    """Split a stored body once; False when there is nothing to do (already split, or empty)."""
    if row.original_body or not row.body.strip():
        return False
    match = _NOTES.search(row.body)
    original = row.body[:match.start()] if match else row.body
    store_split(row, original, split_body(original), match.group(0).strip() if match else "")
    return True


@dataclass(frozen=True)
class Reparse:
    tickets: int
    messages: int


def reparse(session: Session, *, progress: Callable[[Sequence[Any]], Any] | None = None,
            batch: int = 200) -> Reparse:
    """Split the e-mail tickets and their customers' messages stored whole; flushes per batch."""
    ids = list(session.scalars(select(Ticket.id).where(Ticket.channel == ChannelKind.EMAIL,
                                                       Ticket.original_body == "").order_by(Ticket.id)))
    message_ids = list(session.scalars(
        select(TicketMessage.id).join(Ticket, Ticket.id == TicketMessage.ticket_id)
        .where(Ticket.channel == ChannelKind.EMAIL, TicketMessage.kind == MessageKind.CUSTOMER,
               TicketMessage.original_body == "").order_by(TicketMessage.id)))
    work = [(Ticket, i) for i in ids] + [(TicketMessage, i) for i in message_ids]
    tickets = messages = 0
    chunks = [work[k:k + batch] for k in range(0, len(work), batch)]
    for chunk in (progress(chunks) if progress else chunks):
        for model, ident in chunk:
            row = session.get(model, ident)
            if row is not None and _split_row(row):
                if model is Ticket:
                    tickets += 1
                else:
                    messages += 1
        session.flush()
    return Reparse(tickets, messages)
