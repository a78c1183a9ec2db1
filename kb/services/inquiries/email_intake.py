"""E-mail as a channel: .eml and .mbox files, and polled mail (:mod:`.imap_mailbox`), become tickets.

Contract:

- Each message is parsed with the standard library (``policy=default``). The body is
  the plain-text part; a mail with only HTML is turned into text (tags dropped, script
  and style left out, never rendered). The body is split (:mod:`kb.services.mail.split`,
  the HTML part read for its quote markers) into the customer's new text, the quoted
  thread and the signature: the ticket's ``body`` is the new text, the whole body is kept
  in ``original_body``.
- A new message becomes a ticket of channel ``email`` whose ``external_id`` is the
  Message-ID (re-importing the same file updates, never duplicates). A message without
  a Message-ID is named by the SHA-256 of its bytes.
- A reply (In-Reply-To / References naming a ticket's Message-ID, or a ``[T-000123]``
  reference in the subject from the ticket's own customer address) is appended to that
  ticket as a ``customer`` message and reopens it. A reference quoted from another
  address starts a new ticket: references are short and guessable. The same reply
  imported twice (same ticket, time and text) is kept once.
- Attachments obey the contact form's limits (:mod:`kb.services.inquiries.attachments`); a refused
  file is left out and named in a note at the end of the message, the mail is kept.
- A file is imported all or nothing: a malformed message raises InvalidInput naming the
  file and the message number; nothing is stored.
- A message sent by a machine (RFC 3834 ``Auto-Submitted``, ``Precedence: bulk``, a
  mailing list, a bounce, an out-of-office reply, a no-reply address) is marked
  ``automatic``: it is stored like any other, but it never reopens a ticket and is never
  acknowledged, so two auto-responders cannot answer each other for ever.
"""
from __future__ import annotations

import hashlib
import mailbox
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.models import ChannelKind, MessageKind, Ticket, TicketMessage, TicketStatus
from kb.services.errors import InvalidInput
from kb.services.inquiries.attachments import (ALLOWED_TYPES, MAX_FILE_BYTES, MAX_FILES, UploadedFile,
                                               add_attachments, check_attachment)
from kb.services.inquiries.intake import flag_upset
from kb.services.accounts.users import EMAIL_RE
from kb.services.mail.split import split_body

_REFERENCE = re.compile(r"\[(T-\d{6}(?:-[0-9A-F]{4})?)\]")
_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
#: How :func:`kb.services.inquiries.replies.reference` quotes an e-mail ticket (its own id).
_EMAIL_TICKET_REFERENCE = re.compile(r"T-(\d{6})")
MAX_BODY = 100_000


@dataclass
class ParsedMail:
    """One e-mail message reduced to what a ticket needs."""

    message_id: str
    subject: str
    body: str
    from_email: str
    from_name: str
    sent_at: datetime
    thread_ids: list[str] = field(default_factory=list)
    attachments: list[UploadedFile] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    #: Sent by a machine, not a person (see the module's contract).
    automatic: bool = False
    #: The body split by :mod:`mailsplit`: the new text, the quoted thread, the signature.
    text: str = ""
    quoted: str = ""
    signature: str = ""


@dataclass(frozen=True)
class MailImport:
    """What an import did: tickets touched, and how many were new, updated or replied to."""

    tickets: list[Ticket]
    created: int
    updated: int
    appended: int
    #: New tickets whose mail came from a person: the ones an acknowledgement may answer.
    from_people: list[Ticket] = field(default_factory=list)


_MACHINE_SENDERS = re.compile(r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?|notifications?)([+.-]|$)",
                              re.IGNORECASE)
_OUT_OF_OFFICE = re.compile(r"^(auto(matic)? ?reply|out of (the )?office|automaattinen vastaus|frånvaro|"
                            r"autosvar|abwesenheit)\b", re.IGNORECASE)


def is_automatic(message: EmailMessage, sender: str) -> bool:
    """True for mail a machine sent (RFC 3834 and the headers list servers and responders add)."""
    auto_submitted = str(message["Auto-Submitted"] or "no").strip().lower()
    precedence = str(message["Precedence"] or "").strip().lower()
    return (auto_submitted != "no" or precedence in ("bulk", "list", "junk", "auto_reply")
            or any(message[header] is not None for header in ("List-Id", "List-Unsubscribe", "X-Autoreply",
                                                              "X-Autorespond", "X-Auto-Response-Suppress"))
            or str(message["Return-Path"] or "").strip() == "<>"
            or bool(_MACHINE_SENDERS.match(sender.partition("@")[0]))
            or bool(_OUT_OF_OFFICE.match(str(message["Subject"] or "").strip())))


class _TextExtractor(HTMLParser):
    """HTML to plain text: text nodes only, line breaks for block elements, no script or style."""

    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "hr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head", "title"):
            self._skip += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "title"):
            self._skip = max(0, self._skip - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The readable text of an HTML mail (never markup)."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    lines = [re.sub(r"[ \t\xa0]+", " ", line).strip() for line in "".join(extractor.parts).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _clean(text: str) -> str:
    """Valid Unicode without NUL or other C0 controls (PostgreSQL text refuses NUL), Unix line ends.

    Raw 8-bit header bytes (common, though not RFC 2047) arrive as surrogate escapes: read them as UTF-8.
    """
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch for ch in text if ch in "\n\t" or ord(ch) >= 0x20)


def _message_id(value: str | None, raw: bytes) -> str:
    match = _MESSAGE_ID.search(value or "")
    ident = match.group(1) if match else (value or "").strip()
    if not ident:
        return "sha256:" + hashlib.sha256(raw).hexdigest()[:64]
    return ident if len(ident) <= 120 else "sha256:" + hashlib.sha256(ident.encode()).hexdigest()[:64]


def parse_message(raw: bytes, *, max_files: int = MAX_FILES, max_bytes: int = MAX_FILE_BYTES,
                  allowed: Sequence[str] = ALLOWED_TYPES) -> ParsedMail:
    """Parse one message; InvalidInput (with the field) when it is not a usable e-mail."""
    if not raw.strip():
        raise InvalidInput("empty message", field="message")
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)  # nosec B101 # type narrowing: policy.default parses to EmailMessage
    if not message.keys():
        raise InvalidInput("no e-mail headers", field="headers")
    try:
        sender = message["From"]
        addresses = list(sender.addresses) if sender is not None and hasattr(sender, "addresses") else []
    except (TypeError, ValueError, IndexError):
        addresses = []
    address: Address | None = addresses[0] if addresses else None
    email = (address.addr_spec if address else "").strip()
    if not email or not EMAIL_RE.match(email) or len(email) > 254:
        raise InvalidInput("no valid sender address", field="From")
    try:
        sent_at = parsedate_to_datetime(str(message["Date"])) if message["Date"] else None
    except (TypeError, ValueError):
        raise InvalidInput(f"not a date: {str(message['Date'])[:60]!r}", field="Date") from None
    if sent_at is not None and sent_at.tzinfo is None:
        sent_at = sent_at.replace(tzinfo=timezone.utc)
    subject = _clean(str(message["Subject"] or "")).replace("\n", " ").strip()[:300]

    body, html_text = message_bodies(message)
    body = body[:MAX_BODY]
    if not body and not subject:
        raise InvalidInput("no subject and no text", field="body")
    parsed = ParsedMail(
        message_id=_message_id(message["Message-ID"], raw), subject=subject, body=body, from_email=email.lower(),
        from_name=_clean(address.display_name if address else "").strip()[:120],
        sent_at=(sent_at or datetime.now(timezone.utc)).astimezone(timezone.utc),
        thread_ids=[m for header in ("In-Reply-To", "References") for m in _MESSAGE_ID.findall(str(message[header] or ""))],
        automatic=is_automatic(message, email),
    )
    parts = split_body(body, _clean(html_text)[:4 * MAX_BODY] if html_text else None)
    parsed.text, parsed.quoted, parsed.signature = parts.text, parts.quoted, parts.signature
    for part in message.iter_attachments():
        name = part.get_filename() or "liite"
        try:
            data = part.get_payload(decode=True) or b""
        except (ValueError, AssertionError):
            data = b""
        if len(parsed.attachments) >= max_files:
            parsed.refused.append(f"{name}: attach at most {max_files} files")
            continue
        try:
            parsed.attachments.append(check_attachment(name, data, max_bytes=max_bytes, allowed=allowed))
        except InvalidInput as error:
            parsed.refused.append(error.message)
    return parsed


def read_mail_file(path: str) -> list[bytes]:
    """The raw messages of an .eml (one) or .mbox (many) file; InvalidInput for anything else."""
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in (".eml", ".mbox"):
        raise InvalidInput("expected an .eml or .mbox file", source=path)
    if not file.is_file():
        raise InvalidInput("no such file", source=path)
    try:
        if suffix == ".eml":
            return [file.read_bytes()]
        box = mailbox.mbox(str(file), create=False)
        try:
            messages = [box.get_bytes(key) for key in box.keys()]
        finally:
            box.close()
    except OSError as error:
        raise InvalidInput(f"cannot read ({error.__class__.__name__})", source=path) from None
    if not messages:
        raise InvalidInput("no messages in the mailbox", source=path)
    return messages


def parse_mail_file(path: str, **limits: Any) -> list[ParsedMail]:
    """Every message of the file parsed, or InvalidInput naming the message number."""
    parsed = []
    for number, raw in enumerate(read_mail_file(path), 1):
        try:
            parsed.append(parse_message(raw, **limits))
        except InvalidInput as error:
            raise InvalidInput(error.message, field=error.field, source=path, line=number) from None
    return parsed


def _thread(session: Session, mail: ParsedMail) -> Ticket | None:
    """The ticket this mail replies to, by Message-ID or by a reference in the subject."""
    if mail.thread_ids:
        found = session.scalar(select(Ticket).where(Ticket.external_id.in_(mail.thread_ids))
                               .order_by(Ticket.created_at).limit(1))
        if found is not None:
            return found
    match = _REFERENCE.search(mail.subject)
    if not match:
        return None
    found = session.scalar(select(Ticket).where(Ticket.external_id == match.group(1)))
    if found is None and (number := _EMAIL_TICKET_REFERENCE.fullmatch(match.group(1))):
        candidate = session.get(Ticket, int(number.group(1)))
        found = candidate if candidate is not None and candidate.channel is ChannelKind.EMAIL else None
    # references are short and sequential: only the ticket's own customer may add to it by quoting one
    if found is not None and (found.customer_email or "").lower() != mail.from_email.lower():
        return None
    return found


def _notes(mail: ParsedMail) -> str:
    return "\n".join(f"[attachment left out: {reason}]" for reason in mail.refused)


def _store(row: Ticket | TicketMessage, mail: ParsedMail) -> None:
    """The mail's split body on a ticket or message (see :func:`kb.services.mail.split.store_split`)."""
    from kb.services.mail.split import store_split
    from mailsplit import Split

    store_split(row, mail.body, Split(mail.text, mail.quoted, mail.signature), _notes(mail))


def ingest_mails(session: Session, mails: Sequence[ParsedMail], *, now: datetime) -> MailImport:
    """Store the messages as tickets or replies (see the module's contract); flushes, never commits."""
    from suggest import detect_language

    tickets: dict[int, Ticket] = {}
    from_people: list[Ticket] = []
    created = updated = appended = 0
    for mail in mails:
        ticket = session.scalar(select(Ticket).where(Ticket.external_id == mail.message_id))
        if ticket is not None:
            ticket.subject, ticket.updated_at = mail.subject, now
            _store(ticket, mail)
            updated += 1
        elif (parent := _thread(session, mail)) is not None:
            ticket = parent
            duplicate = any(m.kind == MessageKind.CUSTOMER and (m.original_body or m.body) == mail.body
                            and m.created_at == mail.sent_at for m in parent.messages)
            if not duplicate:
                message = TicketMessage(kind=MessageKind.CUSTOMER, created_at=mail.sent_at)
                _store(message, mail)
                add_attachments(message, mail.attachments)
                parent.messages.append(message)
                if not mail.automatic and parent.status in (TicketStatus.SOLVED, TicketStatus.CLOSED,
                                                            TicketStatus.WAITING):
                    parent.status = TicketStatus.OPEN
                parent.version += 1
                parent.updated_at = now
                appended += 1
        else:
            ticket = Ticket(external_id=mail.message_id, channel=ChannelKind.EMAIL, subject=mail.subject,
                            language=detect_language(f"{mail.subject}\n{mail.text or mail.body}"),
                            customer_email=mail.from_email, customer_name=mail.from_name, status=TicketStatus.NEW,
                            created_at=mail.sent_at, updated_at=now)
            _store(ticket, mail)
            if mail.attachments:
                message = TicketMessage(kind=MessageKind.CUSTOMER, body="", created_at=mail.sent_at)
                add_attachments(message, mail.attachments)
                ticket.messages.append(message)
            session.add(ticket)
            created += 1
            if not mail.automatic:
                from_people.append(ticket)
        session.flush()
        tickets[ticket.id] = ticket
    flag_upset(session, list(tickets.values()))
    return MailImport(list(tickets.values()), created, updated, appended, from_people)


# ---------- `neuvo mail parse`: files in, JSON out, nothing stored

def message_bodies(message: EmailMessage) -> tuple[str, str | None]:
    """(plain text, HTML or None) of a message; the plain text is made from the HTML when there is none."""
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
