"""Answering a ticket: replies e-mailed to the customer, internal notes, solve / close / reopen.

The stale-reply guard: every page carries the ticket version it was rendered
with, and every reply or status change claims the ticket with one conditional
``UPDATE tickets SET version = version + 1 WHERE id = :id AND version = :seen``.
If a colleague replied (or solved) in between, no row matches and the action is
refused with :class:`StaleTicket` before anything is stored or sent. On
PostgreSQL the row lock makes the second of two racing replies wait and then
match nothing; on SQLite ``BEGIN IMMEDIATE`` serialises the writers.

A reply's e-mail is queued in the same transaction as the reply itself
(:mod:`kb.services.mail.queue`): a reply is recorded if and only if its mail is
queued, and the worker sends it after the commit. The mail answers the customer's
own message (In-Reply-To) when the ticket came by e-mail, so it threads in their inbox.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, literal, select, update
from sqlalchemy.orm import Session

from kb.db import UTCDateTime
from kb.models import (Article, ArticleEvent, ArticleEventKind, ArticleStatus, ChannelKind, LinkSource, Macro,
                       MessageKind, Ticket, TicketMessage, TicketStatus, User)
from kb.services.errors import DomainError, InvalidInput
from kb.services.mail.queue import queue_mail
from kb.services.helpcenter.markdown_render import plain_text
from kb.services.inquiries.tickets import link_articles

log = logging.getLogger(__name__)
MAX_BODY = 20_000
MAX_LINKED = 20
REPLY_STATUSES = (TicketStatus.WAITING, TicketStatus.SOLVED, TicketStatus.OPEN)


class StaleTicket(DomainError):
    """Someone replied to or changed the ticket after this page was rendered."""

    def __init__(self, ticket_id: int, expected: int, current: int):
        self.ticket_id, self.expected, self.current = ticket_id, expected, current
        super().__init__(f"ticket {ticket_id} is at version {current}, the page had {expected}")


def reference(ticket: Ticket) -> str:
    """The reference customers and agents quote: the ticket's external id (e.g. T-000123).

    An e-mail ticket's external id is the customer's Message-ID, no reference for people:
    it is quoted as T- and its number (e-mail intake threads replies by either).
    """
    if ticket.channel is ChannelKind.EMAIL:
        return f"T-{ticket.id:06d}"
    return ticket.external_id


def reply_subject(ticket: Ticket) -> str:
    """"Re: <subject> [<reference>]" (the first words of the message when there is no subject)."""
    subject = " ".join(ticket.subject.split()) or plain_text(ticket.body, 60)
    subject = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    return f"{subject} [{reference(ticket)}]"


def _clean_body(body: str) -> str:
    text = (body or "").replace("\r\n", "\n").strip()
    if not text:
        raise InvalidInput("write a message first", field="body")
    if len(text) > MAX_BODY:
        raise InvalidInput(f"at most {MAX_BODY} characters", field="body")
    return text


def _claim(session: Session, ticket: Ticket, expected_version: int, *, now: datetime,
           **values: Any) -> None:
    """Bump the version if and only if it is still ``expected_version``; StaleTicket otherwise."""
    result = session.execute(
        update(Ticket).where(Ticket.id == ticket.id, Ticket.version == expected_version)
        .values(version=Ticket.version + 1, updated_at=now, **values)
        .execution_options(synchronize_session=False))
    session.refresh(ticket)
    if result.rowcount != 1:
        raise StaleTicket(ticket.id, expected_version, ticket.version)


def published_articles(session: Session, ids: Iterable[object]) -> list[Article]:
    """The published articles among ``ids`` (request data: anything else is dropped), in the given order."""
    wanted: list[int] = []
    for value in ids:
        try:
            number = int(str(value).strip())
        except ValueError:
            continue
        if 0 < number < 2**31 and number not in wanted:
            wanted.append(number)
    wanted = wanted[:MAX_LINKED]
    if not wanted:
        return []
    found = {a.id: a for a in session.scalars(select(Article).where(Article.id.in_(wanted),
                                                                   Article.status == ArticleStatus.PUBLISHED))}
    return [found[i] for i in wanted if i in found]


def thread_of(ticket: Ticket) -> str | None:
    """The Message-ID a reply answers: the customer's own mail, for tickets that came by e-mail."""
    if ticket.channel is not ChannelKind.EMAIL or ticket.external_id.startswith("sha256:"):
        return None
    return f"<{ticket.external_id}>"


def send_reply(session: Session, ticket: Ticket, body: str, *, by: User, now: datetime, expected_version: int,
               sender: str, linked_article_ids: Iterable[object] = (),
               status_after: TicketStatus = TicketStatus.WAITING) -> TicketMessage:
    """Record the answer, with the articles linked in it, and queue its e-mail to the customer (from ``sender``).

    Raises InvalidInput (empty body, no customer address, bad status) or StaleTicket
    (the page was out of date); the caller rolls back then, and nothing is queued.
    """
    text = _clean_body(body)
    if status_after not in REPLY_STATUSES:
        raise InvalidInput("a reply leaves the ticket waiting, open or solved", field="status_after")
    if not ticket.customer_email:
        raise InvalidInput("the customer left no e-mail address; add an internal note instead", field="body")
    # the first reply sets the first response time, in the same statement that claims the version
    values: dict[str, Any] = {"status": status_after,
                              "first_response_at": func.coalesce(Ticket.first_response_at,
                                                                 literal(now, type_=UTCDateTime()))}
    if status_after is TicketStatus.SOLVED:
        values["solved_at"] = now
    _claim(session, ticket, expected_version, now=now, **values)
    message = TicketMessage(ticket_id=ticket.id, kind=MessageKind.REPLY, author_id=by.id, body=text,
                            created_at=now)
    session.add(message)
    _link(session, ticket, published_articles(session, linked_article_ids), by=by, now=now)
    session.flush()
    queue_mail(session, ticket.customer_email, reply_subject(ticket), text, kind="reply", sender=sender, now=now,
               ticket_id=ticket.id, ticket_message_id=message.id, in_reply_to=thread_of(ticket))
    if status_after is TicketStatus.SOLVED:
        _send_survey(session, ticket, now=now)
    return message


def _link(session: Session, ticket: Ticket, articles: list[Article], *, by: User, now: datetime) -> None:
    """Record inserted answers as agent links (what the suggester learns from) and as events."""
    if not articles:
        return
    link_articles(session, ticket, articles, source=LinkSource.AGENT, by=by.id, now=now)
    for article in articles:
        session.add(ArticleEvent(article_id=article.id, kind=ArticleEventKind.INSERTED, ticket_id=ticket.id,
                                 created_at=now))


def add_note(session: Session, ticket: Ticket, body: str, *, by: User, now: datetime) -> TicketMessage:
    """An internal note for colleagues: never mailed, does not change the version or status."""
    message = TicketMessage(ticket_id=ticket.id, kind=MessageKind.NOTE, author_id=by.id, body=_clean_body(body),
                            created_at=now)
    session.add(message)
    session.flush()
    return message


def solve(session: Session, ticket: Ticket, *, by: User, now: datetime, expected_version: int) -> str | None:
    """Mark solved (handling time ends now) and queue the satisfaction survey; returns its token.

    Raises StaleTicket.
    """
    _claim(session, ticket, expected_version, now=now, status=TicketStatus.SOLVED, solved_at=now)
    log.info("ticket %s solved by user %s", ticket.id, by.id)
    return _send_survey(session, ticket, now=now)


def close(session: Session, ticket: Ticket, *, by: User, now: datetime, expected_version: int) -> None:
    """Close for good (spam, duplicates, answered elsewhere); a solved ticket keeps its solved time."""
    _claim(session, ticket, expected_version, now=now, status=TicketStatus.CLOSED)
    log.info("ticket %s closed by user %s", ticket.id, by.id)


def reopen(session: Session, ticket: Ticket, *, by: User, now: datetime, expected_version: int) -> None:
    """Back to open; handling time restarts at the next solve."""
    _claim(session, ticket, expected_version, now=now, status=TicketStatus.OPEN, solved_at=None)
    log.info("ticket %s reopened by user %s", ticket.id, by.id)


def _send_survey(session: Session, ticket: Ticket, *, now: datetime) -> str | None:
    """Ask for CSAT/CES when the survey service is installed; a ticket with no address gets none."""
    if not ticket.customer_email:
        return None
    try:
        from kb.services.inquiries.surveys import send_survey
    except ImportError:  # the survey module ships separately; solving must work without it
        return None
    return send_survey(session, ticket, now=now)


def handling_time(ticket: Ticket) -> timedelta | None:
    """From the inquiry to its solution (None while unsolved)."""
    return ticket.solved_at - ticket.created_at if ticket.solved_at else None


def first_response_time(ticket: Ticket) -> timedelta | None:
    return ticket.first_response_at - ticket.created_at if ticket.first_response_at else None


def macros_for(session: Session, language: str) -> list[Macro]:
    """Canned replies in the ticket's language, by title."""
    return list(session.scalars(select(Macro).where(Macro.language == language).order_by(Macro.title)))
