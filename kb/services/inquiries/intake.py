"""Customer inquiries through the contact form: validation, the ticket, the order-state
signal, "this solved it", the upset flag and deflection.

Contract:

- :func:`submit_inquiry` stores one ticket (channel ``form``, reference ``T-000123``
  as ``external_id``), the first message's attachments, and the suggested articles.
  It flushes, never commits; the caller sends the confirmation after the commit.
- The first message's text is ``Ticket.body``; its attachments (checked by
  :mod:`kb.services.inquiries.attachments`) hang on a ``customer`` message with an empty
  body created at the same instant.
- Spam: a filled honeypot still gets a ticket (so nothing can be told from outside), but
  in the spam queue: ``status = closed``, ``inquiry_type = "spam"``, no suggestions, no
  upset flag, no confirmation e-mail. Agents can look there; the inbox never shows it.
- Upset: :func:`looks_upset` (mostly capitals, or runs of ``!!!``/``???``) or flooding
  (at least :data:`FLOOD_COUNT` inquiries from one e-mail address within
  :data:`FLOOD_WINDOW`, this one included) sets ``Ticket.upset``; :func:`flag_upset`
  is applied to form, e-mail, API and imported inquiries alike.
- Deflection: opening a suggested article from the form records an ``opened``
  event keyed on the visitor (the browser session). Sending the form within
  :data:`DEFLECTION_WINDOW` claims the visitor's unclaimed ``opened`` events for the
  new ticket (``ticket_id`` set). An ``opened`` event still unclaimed a full window
  after it happened is a deflected inquiry: the customer read the article and did not
  write. :func:`deflection_counts` counts them; younger unclaimed events are pending.
"""
from __future__ import annotations

import re
import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kb.models import (Article, ArticleEvent, ArticleEventKind, ChannelKind, MessageKind, Order,
                       OrderStatus, Ticket, TicketMessage, TicketStatus, TicketSuggestion)
from kb.services.orders import rules as order_rules
from kb.services.errors import DomainError, InvalidInput, NotFound
from kb.services.inquiries.attachments import UploadedFile, add_attachments
from kb.services.helpcenter.self_service import help_article

INQUIRY_TYPES = ("order", "delivery", "payment", "return", "warranty", "product", "other")
SPAM = "spam"
FLOOD_COUNT = 3
FLOOD_WINDOW = timedelta(minutes=30)
DEFLECTION_WINDOW = timedelta(hours=24)
SOLVED_LINK_MAX_AGE = timedelta(days=30)
#: Orders in these states can no longer be changed, only returned.
BEYOND_CHANGE = (OrderStatus.PACKED, OrderStatus.SHIPPED, OrderStatus.DELIVERED)
_CHANGE_WORDS = re.compile(
    r"\b(muut(a|e|o|t)\w*|peru\w*|change\w*|chang(e|ing)|cancel\w*|modif\w*|amend\w*|edit\w*|"
    r"ändr\w*|avbryt\w*|avbok\w*|annuller\w*)", re.IGNORECASE)


class AlreadySolved(DomainError):
    """The ticket was already solved or closed, or this link was used before."""


class ConversationGoesOn(DomainError):
    """An agent has answered, or the customer has written again, since the automatic answer: the
    ticket stays open for a person. ``by`` is "reply" (an agent answered) or "customer"."""

    def __init__(self, reference: str, *, by: str):
        super().__init__(reference)
        self.by = by


# ---------- upset customers

def looks_upset(text: str) -> bool:
    """Mostly capitals (≥ 60 % of at least 12 letters), or several runs of !!! / ???."""
    letters = [ch for ch in text or "" if ch.isalpha()]
    if len(letters) >= 12 and sum(ch.isupper() for ch in letters) >= 0.6 * len(letters):
        return True
    return len(re.findall(r"[!?]{3,}", text or "")) >= 2 or bool(re.search(r"[!?]{5,}", text or ""))


def flag_upset(session: Session, tickets: Sequence[Ticket]) -> None:
    """Set ``upset`` on tickets written in capitals or sent as a flood (flushed tickets only)."""
    emails = sorted({t.customer_email.lower() for t in tickets if t.customer_email})
    times: dict[str, list[datetime]] = defaultdict(list)
    for start in range(0, len(emails), 500):
        chunk = emails[start:start + 500]
        for email, created in session.execute(
                select(Ticket.customer_email, Ticket.created_at).where(
                    func.lower(Ticket.customer_email).in_(chunk), Ticket.inquiry_type != SPAM)):
            times[email.lower()].append(created)
    for series in times.values():
        series.sort()
    for ticket in tickets:
        if ticket.inquiry_type == SPAM:
            continue
        flooding = False
        if ticket.customer_email:
            series = times[ticket.customer_email.lower()]
            recent = [t for t in series if ticket.created_at - FLOOD_WINDOW <= t <= ticket.created_at]
            flooding = len(recent) >= FLOOD_COUNT
        ticket.upset = ticket.upset or flooding or looks_upset(f"{ticket.subject}\n{ticket.body}")


# ---------- the order-state signal

@dataclass(frozen=True)
class OrderSignal:
    """What the customer's order says about a question: ``returns`` or ``change`` (or nothing)."""

    kind: str | None = None
    order_number: str = ""
    article: Article | None = None


def asks_about_change(text: str) -> bool:
    """Whether the question is about changing or cancelling an order (fi, sv, en)."""
    return bool(_CHANGE_WORDS.search(text or ""))


def order_signal(session: Session, text: str, *, email: str, order_number: str, language: str,
                 verified_email: bool) -> OrderSignal:
    """Point change questions to the return page once the order is packed, else to the change page.

    The order is the given number when it belongs to ``email``, else (only for a
    verified, logged-in address) the customer's latest order: an unverified
    address must not reveal the state of somebody else's order.
    """
    if not email or not asks_about_change(text):
        return OrderSignal()
    order: Order | None = None
    if order_number:
        try:
            order = order_rules.customer_order(session, order_number, email=email)
        except NotFound:
            order = None
    if order is None and verified_email:
        order = order_rules.latest_order(session, email=email)
    if order is None:
        return OrderSignal()
    if order.status in BEYOND_CHANGE:
        return OrderSignal("returns", order.number, help_article(session, "returns", language))
    if order.is_changeable:
        return OrderSignal("change", order.number, help_article(session, "changes", language))
    return OrderSignal()


def promote_suggestion(session: Session, ticket: Ticket, article: Article, *, now: datetime,
                       drop: Article | None = None) -> None:
    """Put ``article`` first among the ticket's suggestions (and remove ``drop``)."""
    rows = list(session.scalars(select(TicketSuggestion).where(TicketSuggestion.ticket_id == ticket.id)
                                .order_by(TicketSuggestion.rank)))
    top = max((r.score for r in rows), default=1.0)
    for row in rows:
        if row.article_id == article.id or (drop is not None and row.article_id == drop.id):
            session.delete(row)
    session.flush()
    kept = [r for r in rows if r.article_id not in (article.id, drop.id if drop else None)]
    for rank, row in enumerate(kept, 2):
        row.rank = rank
    session.add(TicketSuggestion(ticket_id=ticket.id, article_id=article.id, rank=1, score=top, created_at=now))
    session.flush()


# ---------- the ticket

@dataclass
class ContactInput:
    """One contact-form submission, already checked by the form."""

    inquiry_type: str
    name: str
    email: str
    subject: str
    message: str
    ui_language: str
    order_number: str = ""
    user_id: int | None = None
    visitor: str = ""
    attachments: list[UploadedFile] = field(default_factory=list)
    spam: bool = False


@dataclass(frozen=True)
class Confirmation:
    """What the confirmation shows: the order signal and up to three articles."""

    signal: OrderSignal
    articles: list[Article]


def reference(ticket_id: int) -> str:
    return f"T-{ticket_id:06d}"


def choose_language(text: str, ui_language: str) -> str:
    """The language the customer wrote in; a few words are too little to tell, so the UI's then."""
    from suggest import detect_language

    return detect_language(text) if len(re.findall(r"\w+", text)) >= 4 else ui_language


def check_order_number(session: Session, number: str, *, email: str) -> None:
    """InvalidInput (field ``order_number``) unless the order belongs to ``email``."""
    try:
        order_rules.customer_order(session, number, email=email)
    except NotFound:
        raise InvalidInput("no order with this number among your orders", field="order_number") from None


def submit_inquiry(session: Session, data: ContactInput, *, matcher: object, now: datetime) -> Ticket:
    """Store the inquiry as a ticket with its attachments and suggestions; flushes, never commits."""
    from kb.services.editorial.suggestions import attach_suggestions

    text = f"{data.subject}\n{data.message}"
    ticket = Ticket(external_id=f"pending-{secrets.token_hex(8)}", channel=ChannelKind.FORM,
                    subject=data.subject, body=data.message, language=choose_language(text, data.ui_language),
                    customer_email=data.email.lower(), customer_name=data.name, order_number=data.order_number,
                    inquiry_type=SPAM if data.spam else data.inquiry_type, user_id=data.user_id,
                    # logged in: the address is the account's, confirmed before its first log-in
                    sender_confirmed_at=now if data.user_id is not None else None,
                    status=TicketStatus.CLOSED if data.spam else TicketStatus.NEW, created_at=now, updated_at=now)
    session.add(ticket)
    session.flush()
    ref = reference(ticket.id)
    if session.scalar(select(Ticket.id).where(Ticket.external_id == ref)) is not None:
        ref = f"{ref}-{secrets.token_hex(2).upper()}"  # an imported inquiry already uses this id
    ticket.external_id = ref
    if data.attachments:
        message = TicketMessage(kind=MessageKind.CUSTOMER, body="", created_at=now)
        add_attachments(message, data.attachments)
        ticket.messages.append(message)
    session.flush()
    if data.spam:
        return ticket
    flag_upset(session, [ticket])
    attach_suggestions(session, [ticket], matcher, now=now)  # type: ignore[arg-type]
    signal = order_signal(session, text, email=ticket.customer_email, order_number=data.order_number,
                          language=ticket.language, verified_email=data.user_id is not None)
    if signal.article is not None:
        drop = help_article(session, "changes", ticket.language) if signal.kind == "returns" else None
        promote_suggestion(session, ticket, signal.article, now=now, drop=drop)
    if data.visitor:
        session.execute(update(ArticleEvent).where(
            ArticleEvent.visitor == data.visitor, ArticleEvent.kind == ArticleEventKind.OPENED,
            ArticleEvent.ticket_id.is_(None), ArticleEvent.created_at >= now - DEFLECTION_WINDOW,
        ).values(ticket_id=ticket.id).execution_options(synchronize_session=False))
    session.refresh(ticket)
    return ticket


def confirmation(session: Session, ticket: Ticket, *, limit: int = 3) -> Confirmation:
    """The order signal and the articles to offer: the signal's article first, then confident suggestions."""
    signal = order_signal(session, ticket.text, email=ticket.customer_email, order_number=ticket.order_number,
                          language=ticket.language, verified_email=ticket.user_id is not None)
    articles: list[Article] = [signal.article] if signal.article is not None else []
    if ticket.suggestion_confident:
        skip = help_article(session, "changes", ticket.language) if signal.kind == "returns" else None
        for suggestion in ticket.suggestions:
            if suggestion.article not in articles and suggestion.article != skip:
                articles.append(suggestion.article)
    return Confirmation(signal, articles[:limit])


# ---------- "this solved it"

def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt="neuvo.contact.solved")


def solved_token(secret: str, ticket_id: int, article_id: int) -> str:
    """A signed token naming the ticket and the article (the same each time: page and e-mail agree)."""
    return _serializer(secret).dumps([ticket_id, article_id])


def read_solved_token(secret: str, token: str) -> tuple[int, int]:
    """(ticket id, article id) from a token we signed; NotFound otherwise."""
    if len(token) > 200:
        raise NotFound("token")
    try:
        value = _serializer(secret).loads(token)
    except BadSignature:
        raise NotFound("token") from None
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value)):
        raise NotFound("token")
    return value[0], value[1]


def _since_auto_answer(ticket_id: int):  # type: ignore[no-untyped-def]
    """Messages from an agent or the customer written after the ticket's first automatic answer."""
    first_auto = (select(func.min(TicketMessage.id))
                  .where(TicketMessage.ticket_id == ticket_id, TicketMessage.kind == MessageKind.AUTO)
                  .scalar_subquery())
    return select(TicketMessage.kind).where(
        TicketMessage.ticket_id == ticket_id, TicketMessage.kind.in_([MessageKind.REPLY, MessageKind.CUSTOMER]),
        TicketMessage.id > func.coalesce(first_auto, 0))


def solvable(session: Session, ticket_id: int, article_id: int, *, now: datetime) -> tuple[Ticket, Article]:
    """The ticket and article of a link; NotFound once expired, AlreadySolved once closed or used,
    ConversationGoesOn once an agent or the customer has written since the automatic answer."""
    ticket, article = session.get(Ticket, ticket_id), session.get(Article, article_id)
    if ticket is None or article is None or now - ticket.created_at > SOLVED_LINK_MAX_AGE:
        raise NotFound("token")
    used = session.scalar(select(func.count(ArticleEvent.id)).where(
        ArticleEvent.ticket_id == ticket.id, ArticleEvent.kind == ArticleEventKind.SOLVED))
    if used or ticket.status in (TicketStatus.SOLVED, TicketStatus.CLOSED):
        raise AlreadySolved(ticket.external_id)
    kinds = set(session.scalars(_since_auto_answer(ticket.id)))
    if kinds:
        raise ConversationGoesOn(ticket.external_id, by="reply" if MessageKind.REPLY in kinds else "customer")
    return ticket, article


def solve_by_article(session: Session, ticket_id: int, article_id: int, *, visitor: str, now: datetime) -> Ticket:
    """Close the ticket as solved by the article, once (a conditional UPDATE settles races, also with
    an agent's answer or the customer's message arriving meanwhile)."""
    ticket, article = solvable(session, ticket_id, article_id, now=now)
    result = session.execute(
        update(Ticket).where(Ticket.id == ticket.id,
                             Ticket.status.not_in([TicketStatus.SOLVED, TicketStatus.CLOSED]),
                             ~_since_auto_answer(ticket.id).exists())
        .values(status=TicketStatus.SOLVED, solved_at=now, updated_at=now, version=Ticket.version + 1)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        session.refresh(ticket)
        solvable(session, ticket_id, article_id, now=now)  # raises the reason
        raise AlreadySolved(ticket.external_id)
    session.add(ArticleEvent(article_id=article.id, kind=ArticleEventKind.SOLVED, ticket_id=ticket.id,
                             visitor=visitor, created_at=now))
    session.flush()
    session.refresh(ticket)
    return ticket


# ---------- deflection

def record_opened(session: Session, slug: str, *, visitor: str, now: datetime) -> Article:
    """Record that the visitor opened a suggested article from the form; NotFound for unknown slugs."""
    from kb.services.helpcenter.articles import published_article

    article = published_article(session, slug)
    session.add(ArticleEvent(article_id=article.id, kind=ArticleEventKind.OPENED, visitor=visitor, created_at=now))
    session.flush()
    return article


@dataclass(frozen=True)
class DeflectionCounts:
    """Suggested articles opened from the form in a window, and how many of those deflected an inquiry."""

    opened: int
    #: Opened, and no inquiry from that visitor within DEFLECTION_WINDOW.
    deflected: int
    #: Opened less than DEFLECTION_WINDOW before ``until``: not yet decided.
    pending: int
    #: Distinct visitors with a deflected opening: inquiries that were never sent.
    visitors: int
    by_article: dict[str, int]


def deflection_counts(session: Session, since: datetime, until: datetime) -> DeflectionCounts:
    """Count ``opened`` events in [since, until) by outcome (see the module's rule)."""
    rows = session.execute(
        select(ArticleEvent.created_at, ArticleEvent.ticket_id, ArticleEvent.visitor, Article.slug)
        .join(Article, Article.id == ArticleEvent.article_id)
        .where(ArticleEvent.kind == ArticleEventKind.OPENED, ArticleEvent.created_at >= since,
               ArticleEvent.created_at < until)).all()
    deflected = [r for r in rows if r.ticket_id is None and r.created_at + DEFLECTION_WINDOW <= until]
    pending = sum(1 for r in rows if r.ticket_id is None and r.created_at + DEFLECTION_WINDOW > until)
    by_article: dict[str, int] = defaultdict(int)
    for row in deflected:
        by_article[row.slug] += 1
    return DeflectionCounts(opened=len(rows), deflected=len(deflected), pending=pending,
                            visitors=len({r.visitor for r in deflected}), by_article=dict(by_article))
