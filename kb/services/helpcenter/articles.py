"""Articles and categories: reading the knowledge base and changing it."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, load_only

from kb.models import Article, ArticleFeedback, ArticleStatus, Category
from kb.services.helpcenter.article_render import render_article
from kb.services.batches import batched
from kb.services.errors import InvalidInput, NotFound
from kb.services.helpcenter.search_index import queue_reindex

LANGUAGES = ("fi", "sv", "en")


def slugify(text: str) -> str:
    """ASCII slug: "Palautukset & hyvitykset" -> "palautukset-hyvitykset"."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")


@dataclass
class ArticleInput:
    """What an import row or editor form supplies for one article."""

    slug: str
    title: str
    body: str
    language: str
    category: str
    tags: list[str] = field(default_factory=list)
    status: ArticleStatus = ArticleStatus.PUBLISHED
    translation_of: str | None = None


def get_category(session: Session, slug: str) -> Category:
    category = session.scalar(select(Category).where(Category.slug == slug))
    if category is None:
        raise NotFound(slug)
    return category


def categories_with_counts(session: Session, language: str) -> list[tuple[Category, int]]:
    """Categories in display order with the number of published articles in ``language``."""
    counts = dict(
        session.execute(
            select(Article.category_id, func.count(Article.id))
            .where(Article.status == ArticleStatus.PUBLISHED, Article.language == language)
            .group_by(Article.category_id)
        ).all()
    )
    categories = session.scalars(select(Category).order_by(Category.position, Category.slug)).all()
    return [(c, counts.get(c.id, 0)) for c in categories]


def published_article(session: Session, slug: str) -> Article:
    article = session.scalar(
        select(Article).where(Article.slug == slug, Article.status == ArticleStatus.PUBLISHED)
        .options(joinedload(Article.category))
    )
    if article is None:
        raise NotFound(slug)
    return article


def titles_by_slug(session: Session, slugs: list[str]) -> dict[str, tuple[str, str]]:
    """slug -> (language, title) for the given published articles."""
    if not slugs:
        return {}
    rows = session.execute(select(Article.slug, Article.language, Article.title)
                           .where(Article.slug.in_(slugs), Article.status == ArticleStatus.PUBLISHED))
    return {slug: (language, title) for slug, language, title in rows}


def articles_in_category(session: Session, category: Category, language: str) -> list[Article]:
    """The category's published articles in ``language``, most read first, with what a list shows of each."""
    return list(session.scalars(
        select(Article).options(load_only(Article.id, Article.slug, Article.title, Article.language,
                                           Article.category_id, Article.status, Article.view_count,
                                           Article.body, Article.body_text, Article.rendered_from))
        .where(Article.category_id == category.id, Article.language == language,
               Article.status == ArticleStatus.PUBLISHED)
        .order_by(Article.view_count.desc(), Article.title)
    ))


def translations_of(session: Session, article: Article) -> dict[str, Article]:
    """Every published language version of the article, keyed by language code."""
    group = article.group_id
    rows = session.scalars(
        select(Article).where(
            (Article.id == group) | (Article.translation_of_id == group),
            Article.status == ArticleStatus.PUBLISHED,
        )
    ).all()
    versions: dict[str, Article] = {}
    for row in sorted(rows, key=lambda a: a.translation_of_id is not None):
        versions.setdefault(row.language, row)
    return versions


def count_view(session: Session, article: Article) -> None:
    """Add one view atomically (no lost updates under concurrent readers)."""
    session.execute(update(Article).where(Article.id == article.id)
                    .values(view_count=Article.view_count + 1))


def record_feedback(session: Session, article: Article, *, visitor: str, helpful: bool,
                    now: datetime) -> bool:
    """Record a "was this helpful?" answer once per visitor; False if already answered."""
    exists = session.scalar(select(ArticleFeedback.id).where(
        ArticleFeedback.article_id == article.id, ArticleFeedback.visitor == visitor))
    if exists:
        return False
    try:
        with session.begin_nested():
            session.add(ArticleFeedback(article_id=article.id, visitor=visitor, helpful=helpful,
                                        created_at=now))
    except IntegrityError:
        return False
    return True


def feedback_counts(session: Session, article: Article) -> tuple[int, int]:
    """(helpful, not helpful) answers for the article."""
    rows = dict(session.execute(
        select(ArticleFeedback.helpful, func.count()).where(ArticleFeedback.article_id == article.id)
        .group_by(ArticleFeedback.helpful)
    ).all())
    return rows.get(True, 0), rows.get(False, 0)


def ensure_category(session: Session, value: str) -> Category:
    """The category named by slug or name, created (named as given) if new."""
    slug = slugify(value)[:80].rstrip("-")  # "ﬃ" becomes "ffi": 80 characters can slugify longer than the column
    if not slug:
        raise InvalidInput("category is empty", field="category")
    category = session.scalar(select(Category).where(Category.slug == slug))
    if category is None:
        try:
            with session.begin_nested():
                category = Category(slug=slug, names={lang: value.strip() for lang in LANGUAGES})
                session.add(category)
        except IntegrityError:  # another writer created it since the SELECT (PostgreSQL does not queue writers)
            category = session.scalars(select(Category).where(Category.slug == slug)).one()
    return category


def upsert_articles(session: Session, items: list[ArticleInput], *, now: datetime) -> tuple[int, int]:
    """Create or update articles by slug; returns (created, updated).

    ``translation_of`` may name an article in the database or one in ``items``.
    Raises :class:`InvalidInput` naming the slug if it names neither.
    """
    existing = {a.slug: a for slugs in batched(i.slug for i in items)
                for a in session.scalars(select(Article).where(Article.slug.in_(slugs)))}
    created = updated = 0
    touched: list[Article] = []
    for item in items:
        article = existing.get(item.slug)
        category = ensure_category(session, item.category)
        if article is None:
            article = Article(slug=item.slug, created_at=now, view_count=0)
            session.add(article)
            existing[item.slug] = article
            created += 1
        else:
            updated += 1
        was_published = article.status is ArticleStatus.PUBLISHED and article.id is not None
        article.title, article.body, article.language = item.title, item.body, item.language
        render_article(article)
        article.category, article.tags, article.status = category, list(item.tags), item.status
        article.updated_at = now
        if item.status is ArticleStatus.PUBLISHED and not was_published:
            article.published_at = article.published_at or now
        touched.append(article)
    session.flush()
    for item in items:
        if item.translation_of:
            original = existing.get(item.translation_of) or session.scalar(
                select(Article).where(Article.slug == item.translation_of))
            if original is None:
                raise InvalidInput(f"no article with slug '{item.translation_of}'", field="translation_of")
            existing[item.slug].translation_of_id = original.translation_of_id or original.id
        else:
            existing[item.slug].translation_of_id = None
    session.flush()
    queue_reindex(session, [a.id for a in touched])
    return created, updated
