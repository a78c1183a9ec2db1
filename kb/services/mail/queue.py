"""The mail queue: a message is queued in the transaction of the change it is about, and sent later.

- :func:`queue_mail` adds a row and flushes, nothing else: a rollback sends nothing and a
  commit always leaves the message queued. No web request talks to a mail server.
- :func:`deliver_queued` (``neuvo mail send``, ``neuvo worker``) sends due messages one at a
  time: it *claims* one in a short transaction (``SELECT … FOR UPDATE SKIP LOCKED`` on
  PostgreSQL; ``BEGIN IMMEDIATE`` serialises the claims on SQLite) by writing
  ``claimed_by`` and a lease ``claimed_until``, commits, sends with no transaction open,
  then records the result in a second short transaction. Two senders on two servers never
  take the same message while its lease runs.
- Delivery is at least once. A sender that dies after the server accepted a message but
  before the result was committed leaves the claim to expire, and the message is sent again
  with the same Message-ID and Date, so the copies are recognisably one message (mail clients
  and archives drop duplicates by Message-ID).
- A temporary failure is retried after ``MAIL_RETRY_SECONDS`` × 2^(attempt - 1) (at most
  :data:`MAX_BACKOFF`); after ``MAIL_MAX_ATTEMPTS`` attempts, or at once when the server
  refuses the message for good (5xx), the message is marked failed and kept with its error.
  Attempts are counted when claimed, so a message that crashes its sender is given up too.
- When the server cannot be reached the run stops: the message at hand counts an attempt,
  the others wait untouched for the next run.
- A sent message keeps its recipient, subject and times but not its text, which may hold
  single-use links (tickets keep their own copy of replies).
"""
from __future__ import annotations

import logging
import os
import secrets
import smtplib
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from kb.models import MailStatus, OutgoingMail
from kb.services.errors import InvalidInput
from kb.services.mail.transport import (
    MailServerUnavailable,
    MailTransport,
    build_message,
    new_message_id,
)

log = logging.getLogger(__name__)
#: Kinds of mail written by people (an agent's answer); the rest is marked Auto-Submitted.
PERSONAL_KINDS = frozenset({"reply"})
#: Automatic answers to a customer's message (RFC 3834 "auto-replied"; other mail is "auto-generated").
AUTO_REPLY_KINDS = frozenset({"confirmation", "acknowledgement"})
#: Messages sent per run unless the caller says otherwise.
DEFAULT_LIMIT = 100
#: The longest wait between two attempts.
MAX_BACKOFF = timedelta(hours=2)
#: A claim lasts at least this long, and at least ten socket timeouts (connect, TLS, log-in, send).
MIN_CLAIM = timedelta(minutes=5)


@dataclass(frozen=True)
class DeliveryReport:
    """What one run did: messages sent, given up, left to retry, and the last error seen."""

    sent: int = 0
    failed: int = 0
    retrying: int = 0
    last_error: str = ""


def queue_mail(session: Session, to: str, subject: str, body: str, *, kind: str, sender: str, now: datetime,
               ticket_id: int | None = None, ticket_message_id: int | None = None,
               in_reply_to: str | None = None) -> OutgoingMail:
    """Queue one plain-text message in the session's transaction (flushes, never commits).

    InvalidInput when there is no recipient or a header would need a line break.
    """
    to = (to or "").strip()
    if not to:
        raise InvalidInput("the message has no recipient", field="to")
    message_id = new_message_id(sender)
    try:  # the same checks delivery will make, while the caller can still roll back
        build_message(to, subject, body, sender=sender, message_id=message_id, date=now, in_reply_to=in_reply_to,
                      auto_submitted=auto_submitted(kind))
    except ValueError as error:
        raise InvalidInput(str(error), field="mail") from None
    row = OutgoingMail(kind=kind, sender=sender, recipient=to, subject=subject, body=body, message_id=message_id,
                       in_reply_to=in_reply_to, ticket_id=ticket_id, ticket_message_id=ticket_message_id,
                       status=MailStatus.QUEUED, created_at=now, next_attempt_at=now, attempts=0, last_error="")
    session.add(row)
    session.flush()
    return row


def auto_submitted(kind: str) -> str | None:
    """The RFC 3834 ``Auto-Submitted`` value for a kind of mail (None: a person wrote it)."""
    if kind in PERSONAL_KINDS:
        return None
    return "auto-replied" if kind in AUTO_REPLY_KINDS else "auto-generated"


def as_message(row: OutgoingMail) -> EmailMessage:
    """The message exactly as every attempt sends it (same Message-ID and Date)."""
    return build_message(row.recipient, row.subject, row.body, sender=row.sender, message_id=row.message_id,
                         date=row.created_at, in_reply_to=row.in_reply_to, auto_submitted=auto_submitted(row.kind))


def retry_delay(attempts: int, first: float) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt."""
    return min(MAX_BACKOFF, timedelta(seconds=first * 2 ** max(attempts - 1, 0)))


def deliver_queued(session: Session, config: Mapping[str, Any], *, now: datetime,
                   limit: int = DEFAULT_LIMIT) -> DeliveryReport:
    """Send up to ``limit`` messages due at ``now`` (see the module's contract).

    ``config`` holds the MAIL_* settings. Commits the session after every claim and every
    result, so call it with no unfinished work of your own in the session.
    """
    started = time.monotonic()

    def clock() -> datetime:
        return now + timedelta(seconds=time.monotonic() - started)

    claimant = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"
    lease = max(MIN_CLAIM, timedelta(seconds=10 * float(config.get("MAIL_TIMEOUT") or 10)))
    max_attempts = int(config.get("MAIL_MAX_ATTEMPTS") or 10)
    first_delay = float(config.get("MAIL_RETRY_SECONDS") or 60)
    sent = failed = retrying = 0
    last_error = ""
    with MailTransport(config) as transport:
        for _ in range(limit):
            row = _claim_next(session, claimant, due=now, at=clock(), lease=lease)
            if row is None:
                break
            try:
                transport.send(as_message(row))
            except (MailServerUnavailable, OSError, ValueError) as error:
                permanent, stop = _judge(error)
                last_error = _describe(error)
                gave_up = _record_failure(session, row, claimant, last_error, at=clock(),
                                          give_up=permanent or row.attempts >= max_attempts,
                                          delay=retry_delay(row.attempts, first_delay))
                failed, retrying = failed + gave_up, retrying + (not gave_up)
                if stop:
                    break
            else:
                _mark_sent(session, row, at=clock())
                sent += 1
    return DeliveryReport(sent=sent, failed=failed, retrying=retrying, last_error=last_error)


def _claim_next(session: Session, claimant: str, *, due: datetime, at: datetime,
                lease: timedelta) -> OutgoingMail | None:
    """Claim the next due message that nobody holds, in a transaction of its own."""
    row = session.scalar(
        select(OutgoingMail)
        .where(OutgoingMail.status == MailStatus.QUEUED, OutgoingMail.next_attempt_at <= due,
               or_(OutgoingMail.claimed_until.is_(None), OutgoingMail.claimed_until <= at))
        .order_by(OutgoingMail.next_attempt_at, OutgoingMail.id)
        .limit(1)
        .with_for_update(skip_locked=True))
    if row is None:
        session.rollback()
        return None
    row.claimed_by, row.claimed_until, row.attempts = claimant, at + lease, row.attempts + 1
    session.commit()
    return row


def _mark_sent(session: Session, row: OutgoingMail, *, at: datetime) -> None:
    """Sent, whoever holds the claim now (the server has the message either way)."""
    session.execute(
        update(OutgoingMail).where(OutgoingMail.id == row.id, OutgoingMail.status == MailStatus.QUEUED)
        .values(status=MailStatus.SENT, sent_at=at, body="", claimed_by=None, claimed_until=None)
        .execution_options(synchronize_session=False))
    session.commit()


def _record_failure(session: Session, row: OutgoingMail, claimant: str, error: str, *, at: datetime,
                    give_up: bool, delay: timedelta) -> bool:
    """Schedule the next attempt, or give up; returns whether the message was given up."""
    values: dict[str, Any] = {"claimed_by": None, "claimed_until": None, "last_error": error[:500]}
    if give_up:
        values.update(status=MailStatus.FAILED, failed_at=at)
        log.warning("mail %s (%s) given up after %d attempt(s): %s", row.id, row.kind, row.attempts, error)
    else:
        values["next_attempt_at"] = at + delay
        log.warning("mail %s (%s) not sent, retrying in %s: %s", row.id, row.kind, delay, error)
    session.execute(
        update(OutgoingMail).where(OutgoingMail.id == row.id, OutgoingMail.claimed_by == claimant)
        .values(**values).execution_options(synchronize_session=False))
    session.commit()
    return give_up


def _judge(error: BaseException) -> tuple[bool, bool]:
    """(refused for good, stop this run): 5xx answers about this message are final; a lost server stops."""
    if isinstance(error, (MailServerUnavailable, smtplib.SMTPSenderRefused)):
        return False, True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _text in error.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes), False
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500, False
    if isinstance(error, ValueError):  # the message itself cannot be encoded
        return True, False
    return False, True  # the connection broke


def _describe(error: BaseException) -> str:
    if isinstance(error, MailServerUnavailable):
        return str(error)
    return f"{error.__class__.__name__}: {error}"


def queue_counts(session: Session) -> dict[str, int]:
    """How many messages are queued, sent and failed, by status value ("queued", "sent", "failed")."""
    counts: dict[MailStatus, int] = {status: n for status, n in session.execute(
        select(OutgoingMail.status, func.count(OutgoingMail.id)).group_by(OutgoingMail.status))}
    return {status.value: counts.get(status, 0) for status in MailStatus}
