"""Inquiries (tickets) from every channel, the articles suggested for them,
and the articles agents linked in their answers."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.db import Base, UTCDateTime, enum_column, utcnow
from kb.models.article import Article
from kb.models.conversation import TicketMessage
from kb.models.shop import ChannelKind



class TicketStatus(enum.StrEnum):
    NEW = "new"
    OPEN = "open"
    WAITING = "waiting"
    SOLVED = "solved"
    CLOSED = "closed"


class LinkSource(enum.StrEnum):
    IMPORT = "import"
    AGENT = "agent"


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The shop's own id for imported inquiries; Neuvo's reference for its own.
    external_id: Mapped[str] = mapped_column(String(120), unique=True)
    channel: Mapped[ChannelKind] = mapped_column(enum_column(ChannelKind))
    subject: Mapped[str] = mapped_column(String(300), default="")
    #: The customer's new words: what the agent, the suggester and the acknowledgement read.
    body: Mapped[str] = mapped_column(Text, default="")
    #: E-mail: the body as it came, whole (quoted thread and signature included), for audit.
    original_body: Mapped[str] = mapped_column(Text, default="")
    #: E-mail: the earlier thread the customer's mail quoted, and the signature (see :mod:`mailsplit`).
    quoted: Mapped[str] = mapped_column(Text, default="")
    signature: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(2))
    customer_email: Mapped[str] = mapped_column(String(254), default="", index=True)
    order_number: Mapped[str] = mapped_column(String(64), default="", index=True)
    inquiry_type: Mapped[str] = mapped_column(String(20), default="")
    status: Mapped[TicketStatus] = mapped_column(enum_column(TicketStatus), default=TicketStatus.NEW)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: The customer's account, when the inquiry came from a logged-in customer.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    customer_name: Mapped[str] = mapped_column(String(120), default="")
    #: Written in capitals or sent as a flood of messages: possibly upset, answer first.
    upset: Mapped[bool] = mapped_column(default=False)
    #: Bumped by every reply and status change: a reply written against an older version is refused.
    version: Mapped[int] = mapped_column(default=1)
    #: Whether the first suggestion cleared the suggester's confidence threshold.
    suggestion_confident: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    solved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the sender proved the address: sent while logged in with a confirmed address, or the link in the
    #: confirmation mail opened. Only then is the inquiry shown under that address's "My messages".
    sender_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the customer's personal data was erased (on request, or after the retention period).
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    messages: Mapped[list[TicketMessage]] = relationship(cascade="all, delete-orphan",
                                                         order_by="TicketMessage.created_at")
    suggestions: Mapped[list[TicketSuggestion]] = relationship(
        back_populates="ticket", cascade="all, delete-orphan", order_by="TicketSuggestion.rank")
    links: Mapped[list[TicketArticleLink]] = relationship(back_populates="ticket", cascade="all, delete-orphan")

    @property
    def text(self) -> str:
        """Subject and body together, as the suggester reads them."""
        return f"{self.subject}\n{self.body}".strip()


class TicketSuggestion(Base):
    """An article the suggester attached to a ticket, with its score and rank."""

    __tablename__ = "ticket_suggestions"
    __table_args__ = (UniqueConstraint("ticket_id", "article_id", name="uq_ticket_suggestions_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    rank: Mapped[int]
    score: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="suggestions")
    article: Mapped[Article] = relationship()


class TicketArticleLink(Base):
    """An article linked in the answer to a ticket: what the suggester learns from."""

    __tablename__ = "ticket_article_links"
    __table_args__ = (UniqueConstraint("ticket_id", "article_id", name="uq_ticket_article_links_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    source: Mapped[LinkSource] = mapped_column(enum_column(LinkSource))
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="links")
    article: Mapped[Article] = relationship()
