"""Bridge between the database and the :mod:`search` index.

The database is the source of truth. Article changes queue their ids in the
``index_outbox`` table within the same transaction; after the commit the queue
is drained into the index. A missing or corrupt index is rebuilt from the
database on first use instead of failing the request.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from flask import Flask, current_app
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from search import IndexBusy, IndexedArticle, IndexUnavailable, SearchIndex, SearchResults
from kb.models import Article, ArticleStatus, IndexOutbox

log = logging.getLogger(__name__)


def init_search(app: Flask) -> None:
    from kb.services.suggestions import MatcherStore

    app.extensions["neuvo_search"] = SearchIndex(app.config["INDEX_PATH"])
    app.extensions["neuvo_matchers"] = MatcherStore(app.config["MODELS_PATH"])


def index() -> SearchIndex:
    return current_app.extensions["neuvo_search"]


def to_document(article: Article) -> IndexedArticle:
    return IndexedArticle(
        id=article.id, slug=article.slug, language=article.language, title=article.title,
        body=article.body, category=article.category.slug, tags=tuple(article.tags or ()),
        updated_at=article.updated_at,
    )


def published_documents(session: Session) -> Iterable[IndexedArticle]:
    rows = session.scalars(
        select(Article).where(Article.status == ArticleStatus.PUBLISHED)
        .options(selectinload(Article.category)).order_by(Article.id)
    )
    return (to_document(a) for a in rows)


def queue_reindex(session: Session, article_ids: Iterable[int]) -> None:
    """Mark articles stale in the index; call within the transaction that changed them."""
    session.add_all(IndexOutbox(article_id=i) for i in set(article_ids))


def rebuild(session: Session, search_index: SearchIndex,
            progress: Callable[[int], None] | None = None) -> int:
    """Rebuild the whole index from the published articles; clears the outbox."""
    queued = session.scalars(select(IndexOutbox.id)).all()
    count = search_index.rebuild(published_documents(session), progress=progress)
    if queued:
        session.execute(delete(IndexOutbox).where(IndexOutbox.id.in_(queued)))
    return count


def drain_outbox(session: Session, search_index: SearchIndex) -> int:
    """Apply queued article changes to the index; returns how many were applied.

    Leaves the queue in place when the index is busy or unavailable, so the
    next drain (or a rebuild) picks the changes up.
    """
    rows = session.scalars(select(IndexOutbox).order_by(IndexOutbox.id)).all()
    if not rows:
        return 0
    if not search_index.exists():
        return rebuild(session, search_index)
    ids = {r.article_id for r in rows}
    articles = session.scalars(
        select(Article).where(Article.id.in_(ids)).options(selectinload(Article.category))
    ).all()
    live = [a for a in articles if a.is_published]
    gone = ids - {a.id for a in live}
    try:
        if live:
            search_index.upsert(to_document(a) for a in live)
        if gone:
            search_index.delete(gone)
    except (IndexBusy, IndexUnavailable) as error:
        log.warning("index update postponed: %s", error)
        return 0
    session.execute(delete(IndexOutbox).where(IndexOutbox.id.in_([r.id for r in rows])))
    return len(ids)


def ensure_index(session: Session, search_index: SearchIndex) -> bool:
    """Make sure a usable index exists; rebuild from the database if not. True if rebuilt."""
    if search_index.exists():
        try:
            search_index.doc_ids()
            return False
        except IndexUnavailable:
            log.warning("search index at %s is corrupt; rebuilding", search_index)
    rebuild(session, search_index)
    return True


def search_articles(session: Session, query: str, *, language: str | None, category: str | None,
                    page: int, per_page: int) -> SearchResults:
    """Search, recovering from a missing or corrupt index by rebuilding it once."""
    search_index = index()
    try:
        return search_index.search(query, language=language, category=category, page=page, per_page=per_page)
    except IndexUnavailable:
        ensure_index(session, search_index)
        return search_index.search(query, language=language, category=category, page=page, per_page=per_page)
