"""Knowledge-base content: categories, articles and readers' feedback."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.db import Base, UTCDateTime, enum_column, utcnow


class ArticleStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    position: Mapped[int] = mapped_column(default=100)
    icon: Mapped[str] = mapped_column(String(20), default="")
    #: Name and description per language code, e.g. {"fi": "Toimitus", "sv": "Leverans"}.
    names: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    descriptions: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)

    articles: Mapped[list[Article]] = relationship(back_populates="category")

    def name(self, language: str) -> str:
        """The name in ``language``, else Finnish, else the slug."""
        return self.names.get(language) or self.names.get("fi") or self.slug

    def description(self, language: str) -> str:
        return self.descriptions.get(language) or ""


class Article(Base):
    __tablename__ = "articles"
    __table_args__ = (Index("ix_articles_language_status", "language", "status"),
                      Index("ix_articles_translation_of_id", "translation_of_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    language: Mapped[str] = mapped_column(String(2))
    title: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text, default="")
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[ArticleStatus] = mapped_column(
        enum_column(ArticleStatus),
        default=ArticleStatus.PUBLISHED,
    )
    #: The original this article translates; originals point nowhere.
    translation_of_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    view_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: ``body`` rendered once at save: sanitised HTML and the plain text a reader sees
    #: (kb/services/helpcenter/article_render.py). ``rendered_from`` names the renderer and the body it
    #: was made from; a rendering that does not match is never served.
    body_html: Mapped[str | None] = mapped_column(Text)
    body_text: Mapped[str | None] = mapped_column(Text)
    rendered_from: Mapped[str | None] = mapped_column(String(100))

    category: Mapped[Category] = relationship(back_populates="articles")
    original: Mapped[Article | None] = relationship(remote_side=[id], back_populates="translations")
    translations: Mapped[list[Article]] = relationship(back_populates="original")

    @property
    def is_published(self) -> bool:
        return self.status is ArticleStatus.PUBLISHED

    @property
    def group_id(self) -> int:
        """Id shared by an original and all its translations."""
        return self.translation_of_id or self.id


class ArticleFeedback(Base):
    """One "was this helpful?" answer per visitor session and article."""

    __tablename__ = "article_feedback"
    __table_args__ = (UniqueConstraint("article_id", "visitor", name="uq_article_feedback_visitor"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    visitor: Mapped[str] = mapped_column(String(64))
    helpful: Mapped[bool]
    #: What a reader who answered "no" says was missing (shown to editors).
    comment: Mapped[str] = mapped_column(String(500), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IndexChange(Base):
    """One change to an article that every app server's search index must apply.

    Written in the same transaction as the article change, so a rollback never
    leaves an index ahead of the database. The log is kept (not deleted when
    applied): each app server's index remembers the last id it applied and
    catches up from there; rows older than the retention period are pruned.
    Ids only grow (AUTOINCREMENT on SQLite, a sequence on PostgreSQL), and
    writers take a table lock before inserting, so ids become visible in order.
    """

    __tablename__ = "index_changes"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    article_id: Mapped[int] = mapped_column(index=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
