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
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kb.models import SurveyResponse, Ticket
from kb.services.errors import DomainError, InvalidInput, NotFound

CSAT_RANGE = range(1, 6)
CES_RANGE = range(1, 8)
MAX_COMMENT = 1000
_MAX_TOKEN_LENGTH = 128


class AlreadyAnswered(DomainError):
    """The survey behind this link has been answered."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _from_app() -> tuple[dict[str, Any], Callable[[str], str]]:
    """Mail settings and the survey link from the running app (the CLI and views both have one)."""
    from kb.emailing import email_link, mail_config

    return mail_config(), lambda token: email_link("contact.survey", token=token)


def send_survey(session: Session, ticket: Ticket, *, now: datetime, config: Mapping[str, Any] | None = None,
                link: Callable[[str], str] | None = None) -> str:
    """Create (or renew) the ticket's survey and e-mail its single-use link; returns the token.

    ``config`` (MAIL_* settings) and ``link`` (token → absolute URL) default to the
    running app's. Returns "" and sends nothing when the survey was already answered.
    The mail is sent before the caller commits: a failing mail server raises OSError,
    so the caller can roll back rather than keep a survey nobody received.
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
        if config is None or link is None:
            app_config, app_link = _from_app()
            config, link = config or app_config, link or app_link
        _mail_survey(ticket, link(token), config)
    return token


def _mail_survey(ticket: Ticket, url: str, config: Mapping[str, Any]) -> None:
    from flask_babel import force_locale, gettext as _

    from kb.services.mail import send_mail

    with force_locale(ticket.language or "fi"):
        subject = _("How did we do? [%(reference)s]", reference=ticket.external_id)
        body = _("Hello,\n\nyour inquiry %(reference)s has been solved. Two quick questions help us get better:\n"
                 "how satisfied are you with the help you got, and how easy was it to get your issue handled?\n\n"
                 "%(link)s\n\nThe link works once. Thank you!\n", reference=ticket.external_id, link=url)
    send_mail(ticket.customer_email, subject, body, config=config)


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
