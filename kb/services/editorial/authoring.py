"""Authoring articles: drafts, publishing, revisions, slugs that keep redirecting, translations.

Every change goes through these functions. Each one refuses to save over a newer
version than the editor saw (:class:`EditConflict`, checked with a conditional
UPDATE so two racing saves cannot both win), keeps one :class:`ArticleRevision`,
and queues the article for reindexing in the same transaction. They flush but
never commit: the caller commits, then drains the index outbox.

Archiving adds no status: an archived article is a draft tagged ``archived``,
hidden from the public site and from the editor's default lists.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, selectinload

from kb.models import Article, ArticleRevision, ArticleStatus, Category, SlugRedirect
from kb.services.editorial import gap_review
from kb.services.editorial.article_health import ARCHIVED_TAG, translation_table
from kb.services.editorial.draft_outline import has_placeholders
from kb.services.helpcenter.article_render import render_article
from kb.services.editorial.article_images import DEFAULT_IMG_SRC, check_images
from kb.services.helpcenter.articles import LANGUAGES, slugify
from kb.services.errors import DomainError, InvalidInput, NotFound
from kb.services.helpcenter.search_index import queue_reindex

MAX_BODY = 100_000
STATUS_ACTIONS = ("publish", "unpublish", "archive", "unarchive")


class UnfinishedDraft(DomainError):
    """Publishing refused: the text still holds the outline's placeholders (a draft made from a suggested topic)."""


class EditConflict(DomainError):
    """Someone saved the article after the editor opened it; nothing was saved."""

    def __init__(self, article: Article):
        self.article = article
        super().__init__(f"article {article.id} changed at {article.updated_at.isoformat()}")


@dataclass
class ArticleForm:
    """What the editor's form supplies for one article."""

    title: str
    body: str
    language: str
    category_id: int | None
    slug: str = ""
    tags: str | list[str] = ""
    translation_of_id: int | None = None
    #: The img-src of the site's Content-Security-Policy: images it blocks are refused.
    img_src: str = DEFAULT_IMG_SRC


def parse_tags(value: str | list[str]) -> list[str]:
    """Comma-separated tags, trimmed, lower-cased, each once, in the given order."""
    items = value if isinstance(value, list) else value.split(",")
    seen: list[str] = []
    for tag in (t.strip().lower()[:40] for t in items):
        if tag and tag not in seen:
            seen.append(tag)
    return seen[:20]


def is_archived(article: Article) -> bool:
    return ARCHIVED_TAG in (article.tags or ())


def get_article(session: Session, article_id: int) -> Article:
    article = session.scalar(select(Article).where(Article.id == article_id)
                             .options(selectinload(Article.category)))
    if article is None:
        raise NotFound(str(article_id))
    return article


def slug_taken(session: Session, slug: str, *, other_than: int | None = None) -> bool:
    query = select(Article.id).where(Article.slug == slug)
    if other_than is not None:
        query = query.where(Article.id != other_than)
    return session.scalar(query) is not None


def unique_slug(session: Session, text: str) -> str:
    """A slug for ``text`` used by no article and no old redirect (``-2``, ``-3``… appended)."""
    base = slugify(text)[:80].strip("-") or "artikkeli"
    slug, n = base, 1
    while slug_taken(session, slug) or session.scalar(select(SlugRedirect.id).where(SlugRedirect.old_slug == slug)):
        n += 1
        slug = f"{base}-{n}"
    return slug


def _validate(session: Session, form: ArticleForm, article: Article | None) -> tuple[str, list[str], int | None]:
    """Check the form; returns (slug, tags, original id). Raises InvalidInput naming the field."""
    title = form.title.strip()
    if not title:
        raise InvalidInput("is required", field="title")
    if len(title) > 300:
        raise InvalidInput("at most 300 characters", field="title")
    if len(form.body) > MAX_BODY:
        raise InvalidInput(f"at most {MAX_BODY} characters", field="body")
    check_images(form.body, form.img_src)
    if form.language not in LANGUAGES:
        raise InvalidInput("must be one of fi, sv, en", field="language")
    if form.category_id is None or session.get(Category, form.category_id) is None:
        raise InvalidInput("choose a category", field="category")
    own_id = article.id if article is not None else None
    if article is None and not form.slug.strip():
        slug = unique_slug(session, title)
    else:
        slug = slugify(form.slug)[:200]
        if not slug:
            raise InvalidInput("is required", field="slug")
        if slug_taken(session, slug, other_than=own_id):
            raise InvalidInput("another article uses this address", field="slug")
    original_id = None
    if form.translation_of_id:
        original = session.get(Article, form.translation_of_id)
        if original is None or original.id == own_id:
            raise InvalidInput("choose an existing original", field="translation_of")
        original_id = original.group_id
        if original_id == own_id:
            raise InvalidInput("an original cannot translate itself", field="translation_of")
        if own_id is not None and session.scalar(select(Article.id).where(Article.translation_of_id == own_id)):
            raise InvalidInput("this article has translations of its own", field="translation_of")
        clash = session.scalar(select(Article.id).where(
            (Article.id == original_id) | (Article.translation_of_id == original_id),
            Article.language == form.language, Article.id != (own_id or 0)))
        if clash is not None:
            raise InvalidInput("this language version exists already", field="language")
    return slug, parse_tags(form.tags), original_id


def _record(session: Session, article: Article, *, by: int | None, now: datetime) -> ArticleRevision:
    revision = ArticleRevision(article_id=article.id, title=article.title, body=article.body,
                               status=article.status.value, author_id=by, created_at=now)
    session.add(revision)
    return revision


def _ensure_baseline(session: Session, article: Article) -> None:
    """Keep the version an import (or anything outside the editor) left, before changing it."""
    last = session.scalar(select(func.max(ArticleRevision.created_at)).where(ArticleRevision.article_id == article.id))
    if last is None or last < article.updated_at:
        _record(session, article, by=None, now=article.updated_at)


def _claim(session: Session, article: Article, expected: datetime | None, now: datetime) -> None:
    """Move ``updated_at`` from ``expected`` to ``now`` atomically, or raise EditConflict."""
    if expected is None:
        raise EditConflict(article)
    result = session.execute(update(Article).where(Article.id == article.id, Article.updated_at == expected)
                             .values(updated_at=now).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        session.refresh(article)
        raise EditConflict(article)
    article.updated_at = now


def create_article(session: Session, form: ArticleForm, *, by: int | None, now: datetime) -> Article:
    """Create a draft; raises InvalidInput for a bad field."""
    slug, tags, original_id = _validate(session, form, None)
    article = Article(slug=slug, title=form.title.strip(), body=form.body, language=form.language,
                      category_id=form.category_id, tags=tags, status=ArticleStatus.DRAFT,
                      translation_of_id=original_id, view_count=0, created_at=now, updated_at=now)
    render_article(article)
    session.add(article)
    session.flush()
    _record(session, article, by=by, now=now)
    queue_reindex(session, [article.id])
    return article


def update_article(session: Session, article: Article, form: ArticleForm, *, expected: datetime | None,
                   by: int | None, now: datetime) -> Article:
    """Save the editor's version; a changed slug leaves a redirect from the old one."""
    slug, tags, original_id = _validate(session, form, article)
    _ensure_baseline(session, article)
    _claim(session, article, expected, now)
    if slug != article.slug:
        session.execute(delete(SlugRedirect).where(SlugRedirect.old_slug == slug))
        session.add(SlugRedirect(old_slug=article.slug, article_id=article.id))
        article.slug = slug
    article.title, article.body, article.language = form.title.strip(), form.body, form.language
    render_article(article)
    article.category_id, article.translation_of_id = form.category_id, original_id
    archived = is_archived(article)
    article.tags = [t for t in tags if t != ARCHIVED_TAG] + ([ARCHIVED_TAG] if archived else [])
    session.flush()
    _record(session, article, by=by, now=now)
    queue_reindex(session, [article.id])
    return article


def change_status(session: Session, article: Article, action: str, *, expected: datetime | None,
                  by: int | None, now: datetime) -> Article:
    """Publish, unpublish, archive or unarchive (back to draft)."""
    if action not in STATUS_ACTIONS:
        raise InvalidInput("unknown action", field="action")
    _ensure_baseline(session, article)
    _claim(session, article, expected, now)
    tags = [t for t in (article.tags or ()) if t != ARCHIVED_TAG]
    if action == "publish":
        if has_placeholders(article.body):
            raise UnfinishedDraft(f"article {article.id} still has the outline's placeholder text")
        article.status = ArticleStatus.PUBLISHED
        article.published_at = article.published_at or now
    else:
        article.status = ArticleStatus.DRAFT
        if action == "archive":
            tags.append(ARCHIVED_TAG)
    article.tags = tags
    session.flush()
    _record(session, article, by=by, now=now)
    queue_reindex(session, [article.id])
    if action == "publish":
        gap_review.learn_from_published(session, article, by=by, now=now)
    return article


def revisions(session: Session, article: Article) -> list[ArticleRevision]:
    """The article's saved versions, newest first."""
    return list(session.scalars(select(ArticleRevision).where(ArticleRevision.article_id == article.id)
                                .order_by(ArticleRevision.created_at.desc(), ArticleRevision.id.desc())))


def get_revision(session: Session, article: Article, revision_id: int) -> ArticleRevision:
    revision = session.get(ArticleRevision, revision_id)
    if revision is None or revision.article_id != article.id:
        raise NotFound(str(revision_id))
    return revision


def previous_revision(session: Session, revision: ArticleRevision) -> ArticleRevision | None:
    return session.scalar(select(ArticleRevision).where(
        ArticleRevision.article_id == revision.article_id,
        (ArticleRevision.created_at < revision.created_at)
        | ((ArticleRevision.created_at == revision.created_at) & (ArticleRevision.id < revision.id)))
        .order_by(ArticleRevision.created_at.desc(), ArticleRevision.id.desc()).limit(1))


def restore_revision(session: Session, article: Article, revision: ArticleRevision, *,
                     expected: datetime | None, by: int | None, now: datetime) -> Article:
    """Bring back a revision's title and body as a new revision (the status stays as it is)."""
    _ensure_baseline(session, article)
    _claim(session, article, expected, now)
    article.title, article.body = revision.title, revision.body
    render_article(article)
    session.flush()
    _record(session, article, by=by, now=now)
    queue_reindex(session, [article.id])
    return article


@dataclass(frozen=True)
class DiffLine:
    """One line of a unified diff: kind is "add", "del", "same" or "hunk"."""

    kind: str
    text: str


def diff_lines(old_title: str, old_body: str, new_title: str, new_body: str) -> list[DiffLine]:
    """A unified diff of title and body; the template escapes the text."""
    before = [f"# {old_title}", ""] + old_body.splitlines()
    after = [f"# {new_title}", ""] + new_body.splitlines()
    out: list[DiffLine] = []
    for line in list(difflib.unified_diff(before, after, lineterm="", n=3))[2:]:
        if line.startswith("@@"):
            out.append(DiffLine("hunk", line))
        elif line.startswith("+"):
            out.append(DiffLine("add", line[1:]))
        elif line.startswith("-"):
            out.append(DiffLine("del", line[1:]))
        else:
            out.append(DiffLine("same", line[1:]))
    return out


def follow_redirect(session: Session, slug: str) -> Article | None:
    """The published article that used to live at ``slug``, if any."""
    return session.scalar(select(Article).join(SlugRedirect, SlugRedirect.article_id == Article.id)
                          .where(SlugRedirect.old_slug == slug, Article.status == ArticleStatus.PUBLISHED))


# ---------- lists and categories

@dataclass(frozen=True)
class ArticleFilters:
    """The editor's article list filters; empty strings mean "any"."""

    language: str = ""
    category_id: int | None = None
    status: str = ""          # draft | published | archived | "" (all but archived)
    translation: str = ""     # missing | behind
    query: str = ""


def list_articles(session: Session, filters: ArticleFilters) -> list[Article]:
    """Articles matching the filters, newest change first."""
    query = select(Article).options(selectinload(Article.category)).order_by(Article.updated_at.desc(), Article.id)
    if filters.language in LANGUAGES:
        query = query.where(Article.language == filters.language)
    if filters.category_id:
        query = query.where(Article.category_id == filters.category_id)
    if filters.status in ("draft", "published"):
        query = query.where(Article.status == ArticleStatus(filters.status))
    if filters.query.strip():
        needle = f"%{filters.query.strip().lower()[:100]}%"
        query = query.where(func.lower(Article.title).like(needle) | func.lower(Article.slug).like(needle))
    rows = list(session.scalars(query))
    if filters.status == "archived":
        rows = [a for a in rows if is_archived(a)]
    else:
        rows = [a for a in rows if not is_archived(a)]
    if filters.translation in ("missing", "behind"):
        table = translation_table(session)
        wanted = {g.original.id for g in table if g.missing} if filters.translation == "missing" else \
            {v.article.id for g in table for v in g.versions if v.state == "behind"}
        rows = [a for a in rows if a.id in wanted]
    return rows


def categories(session: Session) -> list[Category]:
    return list(session.scalars(select(Category).order_by(Category.position, Category.slug)))


def save_category(session: Session, *, category_id: int | None, names: dict[str, str], position: int,
                  slug: str = "", icon: str = "") -> Category:
    """Create a category (slug from the Finnish name unless given) or update its names and position.

    The slug never changes: it is in public addresses and in the search index.
    """
    names = {lang: (names.get(lang) or "").strip()[:80] for lang in LANGUAGES}
    if not names["fi"]:
        raise InvalidInput("is required", field="name_fi")
    if not -10_000 <= position <= 10_000:
        raise InvalidInput("must be between -10000 and 10000", field="position")
    if category_id is None:
        new_slug = slugify(slug or names["fi"])[:80]
        if not new_slug:
            raise InvalidInput("is required", field="slug")
        if session.scalar(select(Category.id).where(Category.slug == new_slug)):
            raise InvalidInput("a category with this address exists", field="slug")
        category = Category(slug=new_slug, names={}, descriptions={})
        session.add(category)
    else:
        category = session.get(Category, category_id)
        if category is None:
            raise NotFound(str(category_id))
    category.names = {k: v for k, v in names.items() if v}
    category.position = position
    if icon:
        category.icon = icon.strip()[:20]
    session.flush()
    return category


def originals(session: Session, *, other_than: int | None = None) -> list[Article]:
    """Articles that translations can point to (originals), by language and title."""
    rows = session.scalars(select(Article).where(Article.translation_of_id.is_(None))
                           .order_by(Article.language, Article.title))
    return [a for a in rows if a.id != other_than]


def published_articles(session: Session) -> list[Article]:
    return list(session.scalars(select(Article).where(Article.status == ArticleStatus.PUBLISHED)
                                .order_by(Article.language, Article.title)))


def articles_by_slug(session: Session, slugs: set[str]) -> dict[str, Article]:
    if not slugs:
        return {}
    return {a.slug: a for a in session.scalars(select(Article).where(Article.slug.in_(slugs)))}
