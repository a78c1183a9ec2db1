"""The satisfaction survey after a solved ticket: CSAT (1-5) and Customer Effort Score (1-7).

One survey per ticket (``SurveyResponse.ticket_id`` is unique). The link carries a
random token of which only the SHA-256 is stored; it is answered once (a
conditional UPDATE on ``answered_at IS NULL`` settles double submits). Solving a
ticket again before the answer issues a new link and the old one stops working;
once answered, no survey is sent again.
"""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kb.models import SurveyResponse, Ticket
from kb.services.errors import DomainError, InvalidInput, NotFound
from kb.services.mail.queue import queue_mail

CSAT_RANGE = range(1, 6)
CES_RANGE = range(1, 8)
MAX_COMMENT = 1000
_MAX_TOKEN_LENGTH = 128


class AlreadyAnswered(DomainError):
    """The survey behind this link has been answered."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _from_app() -> tuple[str, Callable[[str], str]]:
    """The From address and the survey link from the running app (the CLI and views both have one)."""
    from kb.mailing.emailing import email_link, mail_sender

    return mail_sender(), lambda token: email_link("contact.survey", token=token)


def send_survey(session: Session, ticket: Ticket, *, now: datetime, sender: str | None = None,
                link: Callable[[str], str] | None = None) -> str:
    """Create (or renew) the ticket's survey and queue the e-mail with its single-use link; returns the token.

    ``sender`` (From address) and ``link`` (token → absolute URL) default to the
    running app's. Returns "" and queues nothing when the survey was already answered.
    The mail is queued in the caller's transaction: the survey and its mail are
    committed, or rolled back, together.
    """
    row = session.scalar(select(SurveyResponse).where(SurveyResponse.ticket_id == ticket.id))
    if row is not None and row.answered_at is not None:
        return ""
    token = secrets.token_urlsafe(32)
    if row is None:
        row = SurveyResponse(ticket_id=ticket.id, token_hash=_digest(token), sent_at=now)
        session.add(row)
    else:
        row.token_hash, row.sent_at = _digest(token), now
    session.flush()
    if ticket.customer_email:
        if sender is None or link is None:
            app_sender, app_link = _from_app()
            sender, link = sender or app_sender, link or app_link
        _mail_survey(session, ticket, link(token), sender=sender, now=now)
    return token


def _mail_survey(session: Session, ticket: Ticket, url: str, *, sender: str, now: datetime) -> None:
    from flask_babel import force_locale, gettext as _

    with force_locale(ticket.language or "fi"):
        subject = _("How did we do? [%(reference)s]", reference=ticket.external_id)
        body = _("Hello,\n\nyour inquiry %(reference)s has been solved. Two quick questions help us get better:\n"
                 "how satisfied are you with the help you got, and how easy was it to get your issue handled?\n\n"
                 "%(link)s\n\nThe link works once. Thank you!\n", reference=ticket.external_id, link=url)
    queue_mail(session, ticket.customer_email, subject, body, kind="survey", sender=sender, now=now,
               ticket_id=ticket.id)


def find_survey(session: Session, token: str) -> SurveyResponse:
    """The survey behind a link; NotFound for unknown tokens."""
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        raise NotFound("survey")
    row = session.scalar(select(SurveyResponse).where(SurveyResponse.token_hash == _digest(token)))
    if row is None:
        raise NotFound("survey")
    return row


def _score(value: str | int | None, allowed: range, field: str) -> int:
    try:
        number = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = 0
    if number not in allowed:
        raise InvalidInput(f"choose a number from {allowed.start} to {allowed.stop - 1}", field=field)
    return number


def answer_survey(session: Session, token: str, *, csat: str | int | None, ces: str | int | None,
                  comment: str = "", now: datetime) -> SurveyResponse:
    """Store the answer once: NotFound, InvalidInput (csat, ces, comment) or AlreadyAnswered."""
    row = find_survey(session, token)
    if row.answered_at is not None:
        raise AlreadyAnswered(str(row.ticket_id))
    csat_value, ces_value = _score(csat, CSAT_RANGE, "csat"), _score(ces, CES_RANGE, "ces")
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise InvalidInput(f"write at most {MAX_COMMENT} characters", field="comment")
    result = session.execute(
        update(SurveyResponse).where(SurveyResponse.id == row.id, SurveyResponse.answered_at.is_(None))
        .values(csat=csat_value, ces=ces_value, comment=comment, answered_at=now)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise AlreadyAnswered(str(row.ticket_id))
    session.refresh(row)
    return row
