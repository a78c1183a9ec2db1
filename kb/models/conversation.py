"""What is said on a ticket: messages, internal notes, attachments, canned replies,
the customer's satisfaction answers, and which agent is looking at it."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.db import Base, UTCDateTime, enum_column, utcnow



class MessageKind(enum.StrEnum):
    CUSTOMER = "customer"   # from the customer (any channel)
    REPLY = "reply"         # an agent's answer, sent to the customer
    NOTE = "note"           # internal note, never sent
    AUTO = "auto"           # automatic confirmation


class TicketMessage(Base):
    __tablename__ = "ticket_messages"
    __table_args__ = (Index("ix_ticket_messages_ticket_created", "ticket_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[MessageKind] = mapped_column(enum_column(MessageKind))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text, default="")
    #: E-mail: the body as it came, the thread it quoted and the signature (``body`` is the new text).
    original_body: Mapped[str] = mapped_column(Text, default="")
    quoted: Mapped[str] = mapped_column(Text, default="")
    signature: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    attachments: Mapped[list[Attachment]] = relationship(back_populates="message", cascade="all, delete-orphan")


class Attachment(Base):
    """A file sent with a message; the type is judged from the bytes, not the name."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("ticket_messages.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)

    message: Mapped[TicketMessage] = relationship(back_populates="attachments")


class Macro(Base):
    """A canned reply agents insert and edit before sending."""

    __tablename__ = "macros"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    language: Mapped[str] = mapped_column(String(2), default="fi")
    body: Mapped[str] = mapped_column(Text)


class SurveyResponse(Base):
    """The one-question CSAT and the Customer Effort Score, asked once per solved ticket."""

    __tablename__ = "survey_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), unique=True)
    #: SHA-256 of the single-use link's token.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: 1-5: "How satisfied are you with the help you got?"
    csat: Mapped[int | None]
    #: 1-7: "How easy was it to get your issue handled?"
    ces: Mapped[int | None]
    comment: Mapped[str] = mapped_column(String(1000), default="")


class TicketViewer(Base):
    """An agent who has the ticket open (refreshed while the page stays open)."""

    __tablename__ = "ticket_viewers"
    __table_args__ = (UniqueConstraint("ticket_id", "user_id", name="uq_ticket_viewers_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ArticleEventKind(enum.StrEnum):
    SUGGESTED = "suggested"      # shown to an agent on a ticket
    INSERTED = "inserted"        # an agent inserted it into a reply
    SHOWN = "shown"              # shown to a customer on the contact form
    OPENED = "opened"            # the customer opened it from the contact form
    DEFLECTED = "deflected"      # opened, and the customer did not send the form
    SOLVED = "solved"            # "this solved it" from the auto-reply closed the ticket


class ArticleEvent(Base):
    """How an article helped (or not): the raw events behind article health and deflection."""

    __tablename__ = "article_events"
    __table_args__ = (Index("ix_article_events_article_kind", "article_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    kind: Mapped[ArticleEventKind] = mapped_column(enum_column(ArticleEventKind))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    visitor: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
