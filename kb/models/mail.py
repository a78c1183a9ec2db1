"""Outgoing e-mail waiting to be sent, sent, or given up on (the mail queue).

Web requests only add rows, in the same transaction as the change the mail is
about; ``neuvo mail send`` and ``neuvo worker`` deliver them (see
:mod:`kb.services.mail.queue`).
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kb.db import Base, UTCDateTime, enum_column, utcnow


class MailStatus(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class OutgoingMail(Base):
    """One message: written whole when queued, so every attempt sends the same bytes.

    ``message_id`` is fixed when the row is created: a message sent again after a
    crash between the SMTP server's "OK" and the commit carries the same
    Message-ID, which mail clients and archives recognise as one message.
    """

    __tablename__ = "outgoing_mails"
    __table_args__ = (Index("ix_outgoing_mails_status_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What the mail is: reply, survey, confirmation, reset, welcome, registered, invite.
    kind: Mapped[str] = mapped_column(String(32))
    sender: Mapped[str] = mapped_column(String(320))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(1000))
    #: Plain text; emptied once sent (it may hold single-use links; tickets keep their own copy).
    body: Mapped[str] = mapped_column(Text, default="")
    #: "<unique@domain>", also the Message-ID header.
    message_id: Mapped[str] = mapped_column(String(250), unique=True)
    #: Message-ID of the customer's mail this answers (In-Reply-To and References), for threading.
    in_reply_to: Mapped[str | None] = mapped_column(String(250))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    ticket_message_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_messages.id", ondelete="SET NULL"))
    status: Mapped[MailStatus] = mapped_column(enum_column(MailStatus), default=MailStatus.QUEUED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Attempts started (counted when claimed, so a message that crashes the sender is given up too).
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    #: A sender's claim: while ``claimed_until`` is in the future no other sender takes the message.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Given up after the last allowed attempt, or refused permanently by the server.
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
