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
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.models import ChannelKind, MessageKind, Ticket, TicketMessage
from kb.services.errors import InvalidInput
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


# ---------- `neuvo mail parse`: files in, JSON out, nothing stored

def message_bodies(message: EmailMessage) -> tuple[str, str | None]:
    """(plain text, HTML or None) of a message; the plain text is made from the HTML when there is none."""
    from kb.services.inquiries.email_intake import _clean, html_to_text

    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    html_text = None
    try:
        if html is not None:
            html_text = html.get_content()
        text = plain.get_content() if plain is not None else (html_to_text(html_text) if html_text else "")
    except (LookupError, ValueError, AssertionError):
        raise InvalidInput("the text of the message cannot be decoded", field="body") from None
    return _clean(text).strip(), html_text


def parse_files(paths: Sequence[str]) -> list[dict[str, str]]:
    """One object per message of each file, in order (see DESIGN.md); InvalidInput naming the file."""
    from kb.services.inquiries.email_intake import _clean, read_mail_file
    from suggest import detect_language

    rows = []
    for path in paths:
        for number, raw in enumerate(read_mail_file(path), 1):
            try:
                message = BytesParser(policy=policy.default).parsebytes(raw)
                if not message.keys():
                    raise InvalidInput("no e-mail headers", field="headers")
                text, html = message_bodies(message)  # type: ignore[arg-type]
                subject = _clean(str(message["Subject"] or "")).replace("\n", " ").strip()
                sender = _clean(str(message["From"] or "")).replace("\n", " ").strip()
            except InvalidInput as error:
                raise InvalidInput(error.message, field=error.field, source=path, line=number) from None
            except (TypeError, ValueError, IndexError, LookupError) as error:
                raise InvalidInput(f"cannot read the message ({error.__class__.__name__})", source=path,
                                   line=number) from None
            parts = split_body(text, html)
            rows.append({"file": path, "subject": subject, "from": sender,
                         "language": detect_language(f"{subject}\n{parts.text}".strip()) if (subject or parts.text)
                         else "", "text": parts.text, "quoted": parts.quoted, "signature": parts.signature})
    return rows
