"""Inquiries from every channel: intake, import and linked answers.

Every stored inquiry gets its suggested articles attached at intake (see
:mod:`kb.services.editorial.suggestions`), so agent and editor pages read them ready-made.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.models import Article, ChannelKind, LinkSource, Ticket, TicketArticleLink, TicketStatus
from kb.services.batches import batched
from kb.services.errors import InvalidInput
from kb.services.importing import Row, check_fields, choice, string_list, text, timestamp
from kb.services.inquiries.intake import flag_upset
from kb.services.accounts.users import EMAIL_RE

CHANNELS = tuple(c.value for c in ChannelKind)
INQUIRY_FIELDS = {"id", "created_at", "channel", "subject", "body", "language", "email", "order_number",
                  "article_slugs"}


@dataclass
class InquiryInput:
    """One inquiry of the import format in DESIGN.md."""

    id: str
    created_at: datetime
    channel: str
    subject: str
    body: str
    language: str | None = None
    email: str = ""
    order_number: str = ""
    article_slugs: list[str] = field(default_factory=list)


def parse_inquiry(row: Row) -> InquiryInput:
    check_fields(row, INQUIRY_FIELDS, ("id", "created_at", "channel"))
    body, subject = text(row, "body", max_length=100_000), text(row, "subject", max_length=300)
    if not body and not subject:
        raise InvalidInput("is required (or a subject)", field="body")
    email = text(row, "email", max_length=254)
    if email and not EMAIL_RE.match(email):
        raise InvalidInput("not a valid e-mail address", field="email")
    language = text(row, "language").lower() or None
    if language is not None and language not in ("fi", "sv", "en"):
        raise InvalidInput("must be one of fi, sv, en (or empty to detect)", field="language")
    return InquiryInput(
        id=text(row, "id", max_length=120), created_at=timestamp(row, "created_at"),
        channel=choice(row, "channel", CHANNELS), subject=subject, body=body, language=language,
        email=email, order_number=text(row, "order_number", max_length=64),
        article_slugs=string_list(row, "article_slugs"),
    )


def upsert_inquiries(session: Session, items: list[InquiryInput], *, now: datetime) -> tuple[list[Ticket], int]:
    """Create or update tickets by the shop's id; returns (tickets, number created).

    Raises :class:`InvalidInput` (field ``article_slugs``) for a linked article that does not exist.
    """
    from kb.services.mail.split import split_body, store_split
    from suggest import detect_language

    slugs = {s for item in items for s in item.article_slugs}
    articles = {a.slug: a for a in session.scalars(select(Article).where(Article.slug.in_(slugs)))} if slugs else {}
    unknown = sorted(slugs - articles.keys())
    if unknown:
        raise InvalidInput(f"no article with slug '{unknown[0]}'", field="article_slugs")
    existing = tickets_by_external_id(session, [i.id for i in items])
    tickets, created = [], 0
    for item in items:
        ticket = existing.get(item.id)
        if ticket is None:
            # the shop's own records (import, its API token): it vouches for its customers' addresses
            ticket = Ticket(external_id=item.id, status=TicketStatus.NEW, sender_confirmed_at=now)
            session.add(ticket)
            existing[item.id] = ticket
            created += 1
        ticket.channel = ChannelKind(item.channel)
        ticket.subject, ticket.body = item.subject, item.body
        if ticket.channel is ChannelKind.EMAIL:  # the same split as mail imported from files or IMAP
            store_split(ticket, item.body, split_body(item.body))
        else:
            ticket.original_body = ticket.quoted = ticket.signature = ""
        ticket.language = item.language or detect_language(f"{item.subject}\n{item.body}")
        ticket.customer_email, ticket.order_number = item.email, item.order_number
        ticket.created_at, ticket.updated_at = item.created_at, now
        tickets.append(ticket)
    session.flush()
    flag_upset(session, tickets)
    for item in items:
        if item.article_slugs:
            link_articles(session, existing[item.id], [articles[s] for s in item.article_slugs],
                          source=LinkSource.IMPORT, by=None, now=now)
    return tickets, created


def tickets_by_external_id(session: Session, ids: list[str]) -> dict[str, Ticket]:
    """The stored tickets among the shop's ids (any number of them, see :mod:`kb.services.batches`)."""
    return {t.external_id: t for chunk in batched(ids)
            for t in session.scalars(select(Ticket).where(Ticket.external_id.in_(chunk)))}


def link_articles(session: Session, ticket: Ticket, articles: list[Article], *, source: LinkSource,
                  by: int | None, now: datetime) -> None:
    """Record articles linked in the answer to ``ticket`` (each once)."""
    have = {link.article_id for link in ticket.links}
    for article in articles:
        if article.id not in have:
            ticket.links.append(TicketArticleLink(article_id=article.id, source=source, linked_by_id=by,
                                                  created_at=now))
            have.add(article.id)


def read_texts(path: str) -> list[tuple[str, str, str | None]]:
    """(id, text, language) for each inquiry in a .jsonl/.csv file, or each line of a .txt file."""
    from pathlib import Path

    from kb.services.importing import read_rows

    if Path(path).suffix.lower() == ".txt":
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as error:
            raise InvalidInput(f"cannot read ({error.__class__.__name__})", source=path) from None
        return [(str(n), line.strip(), None) for n, line in enumerate(lines, 1) if line.strip()]
    items = []
    for number, row in read_rows(path):
        try:
            item_id = text(row, "id") or str(number)
            body = f"{text(row, 'subject')}\n{text(row, 'body')}".strip()
            language = text(row, "language").lower() or None
        except InvalidInput as error:
            raise InvalidInput(error.message, field=error.field, source=path, line=number) from None
        if not body:
            raise InvalidInput("is required", field="body", source=path, line=number)
        items.append((item_id, body, language if language in ("fi", "sv", "en") else None))
    return items
