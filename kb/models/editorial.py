"""The editors' side: article revisions, old slugs that keep redirecting, and decisions on suggested topics."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kb.db import Base, UTCDateTime, enum_column, utcnow


class ArticleRevision(Base):
    """The article as it was saved: every save keeps one, so any version can be restored."""

    __tablename__ = "article_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SlugRedirect(Base):
    """An article's former slug; old links keep working."""

    __tablename__ = "slug_redirects"

    id: Mapped[int] = mapped_column(primary_key=True)
    old_slug: Mapped[str] = mapped_column(String(200), unique=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))


class GapDecisionKind(enum.StrEnum):
    DRAFTED = "drafted"
    COVERED = "covered"
    DISMISSED = "dismissed"


class GapDecision(Base):
    """What an editor did with a suggested topic, so it does not come back as new."""

    __tablename__ = "gap_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[GapDecisionKind] = mapped_column(enum_column(GapDecisionKind))
    title: Mapped[str] = mapped_column(String(500))
    #: The imported ids of the topic's inquiries when decided.
    inquiry_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    terms: Mapped[list[str]] = mapped_column(JSON, default=list)
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(500), default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GapSnapshot(Base):
    """The latest suggested-topics run (refreshed by `neuvo suggest refresh` or on demand)."""

    __tablename__ = "gap_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The report as `neuvo suggest gaps --json` prints it, plus the previous window's sizes.
    report: Mapped[dict] = mapped_column(JSON)
