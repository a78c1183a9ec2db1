"""Bridge between the database and the :mod:`search` index of this app server.

The database is the source of truth; every app server keeps its own index
(``INDEX_PATH``), shared by its worker processes, and brings it up to date from
the database:

* Article changes append rows to the ``index_changes`` log in the same
  transaction (:func:`queue_reindex`). The log is ordered and durable: rows are
  not deleted when applied, only pruned after ``INDEX_CHANGE_RETENTION_DAYS``.
* Each index generation stores a checkpoint: the id of the last change it
  reflects. :func:`sync_index` applies the changes after the checkpoint and then
  advances it (after the data: a crash in between applies the same changes
  again, which gives the same index). Nothing new costs one ``SELECT max(id)``.
* One process per server writes at a time (a file lock beside the index); a
  process that finds it busy skips, since the holder applies the changes, and
  readers keep searching the live generation.
* An index that is missing, corrupt, without a checkpoint, behind the oldest
  retained change or ahead of the log (the database was restored) is rebuilt
  in full into a new generation, which readers pick up when it is swapped in.
  A rebuild takes about 5 s of CPU per thousand articles, so web requests
  rebuild only an index they cannot read at all; one that is merely out of
  step is served as it is until ``neuvo worker``, ``neuvo init`` or
  ``neuvo reindex`` rebuilds it.

Searches check the log at most every ``INDEX_SYNC_SECONDS`` per process; the
process that changed an article applies it at once (:func:`drain_outbox`).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app, has_app_context
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session, selectinload

from kb.db import utcnow
from kb.models import Article, ArticleStatus, IndexChange
from kb.services.batches import batched
from search import IndexBusy, IndexedArticle, IndexUnavailable, SearchIndex, SearchResults, document_version

log = logging.getLogger(__name__)

#: Seconds a process that has just changed articles waits for the update lock.
WRITER_WAIT = 30.0
#: Seconds a full rebuild (``neuvo reindex``, a missing index) waits for the update lock.
REBUILD_WAIT = 600.0
#: Seconds between prunings of the change log by one process (``neuvo worker``).
PRUNE_EVERY = 24 * 3600.0


@dataclass
class SyncClock:
    """When this process last looked at the change log; searches look at most every ``every`` seconds."""

    every: float
    last: float = float("-inf")

    def due(self) -> bool:
        now = time.monotonic()
        if now - self.last < self.every:
            return False
        self.last = now
        return True


@dataclass(frozen=True)
class SyncResult:
    """What :func:`sync_index` did: articles applied, whether it rebuilt the whole index, and
    whether the index needs a rebuild that was left to a command."""

    applied: int = 0
    rebuilt: bool = False
    needs_rebuild: bool = False


@dataclass(frozen=True)
class IndexDrift:
    """How the index differs from the published articles (article ids)."""

    missing: frozenset[int]
    extra: frozenset[int]
    stale: frozenset[int]

    @property
    def clean(self) -> bool:
        return not (self.missing or self.extra or self.stale)


def init_search(app: Flask) -> None:
    from kb.services.suggestions import MatcherStore

    every = float(app.config["INDEX_SYNC_SECONDS"])
    app.extensions["neuvo_search"] = SearchIndex(app.config["INDEX_PATH"])
    app.extensions["neuvo_index_clock"] = SyncClock(every)
    app.extensions["neuvo_prune_clock"] = SyncClock(PRUNE_EVERY)
    app.extensions["neuvo_matchers"] = MatcherStore(app.config["MODELS_PATH"], check_every=every,
                                                    semantic=app.config.get("SUGGEST_SEMANTIC") or "auto")


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
    """Log that these articles changed; call within the transaction that changed them.

    On PostgreSQL the log is locked until commit first, so a change id is only
    handed out after every smaller one has committed or rolled back: a server
    that has seen id N has seen every change before it. (SQLite has one writer
    at a time anyway.)
    """
    ids = sorted(set(article_ids))
    if not ids:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE index_changes IN SHARE ROW EXCLUSIVE MODE"))
    session.add_all(IndexChange(article_id=i) for i in ids)


def sync_index(session: Session, search_index: SearchIndex, *, wait: float = 0.0,
               rebuild_stale: bool = True) -> SyncResult:
    """Bring this server's index up to date with the change log.

    Waits up to ``wait`` seconds for the update lock, else leaves the work to
    its holder. An index that cannot be caught up is rebuilt, unless it is
    readable and ``rebuild_stale`` is False (a web request): then it is
    served as it is and the result says ``needs_rebuild``. A busy Whoosh
    writer leaves the changes for the next sync.
    """
    newest = _newest_change(session)
    if search_index.checkpoint() == newest:
        return SyncResult()
    with search_index.exclusive(wait) as held:
        return _catch_up(session, search_index, rebuild_stale=rebuild_stale) if held else SyncResult()


def drain_outbox(session: Session, search_index: SearchIndex, *, in_request: bool = False) -> int:
    """Apply committed article changes to this server's index now; returns how many were applied.

    Call it after committing article changes: the change is searchable at once
    here, and this process's suggester looks for a new model on its next use.
    Outside a web request (``neuvo worker``, commands) it also rebuilds an
    index that has fallen out of step, and once a day per process prunes the
    change log (the caller commits); views pass ``in_request=True``.
    """
    try:
        applied = sync_index(session, search_index, wait=WRITER_WAIT, rebuild_stale=not in_request).applied
    except (IndexUnavailable, OSError) as error:  # committed all the same: a later sync applies it
        log.warning("index update postponed: %s", error)
        applied = 0
    if has_app_context():
        extensions = current_app.extensions
        if "neuvo_matchers" in extensions:
            extensions["neuvo_matchers"].expire()
        if not in_request and extensions["neuvo_prune_clock"].due():
            prune_index_changes(session, now=utcnow(),
                                keep=timedelta(days=current_app.config["INDEX_CHANGE_RETENTION_DAYS"]))
    return applied


def sync_if_due(session: Session, search_index: SearchIndex) -> None:
    """Catch up with other servers' changes, at most every ``INDEX_SYNC_SECONDS``; never blocks on the lock."""
    if not current_app.extensions["neuvo_index_clock"].due():
        return
    try:
        sync_index(session, search_index, rebuild_stale=False)
    except (IndexUnavailable, OSError) as error:  # the search that follows uses what can be read
        log.warning("index sync failed: %s", error)


def rebuild(session: Session, search_index: SearchIndex, progress: Callable[[int], None] | None = None, *,
            wait: float = REBUILD_WAIT, commit_before_build: bool = False) -> int:
    """Rebuild the whole index from the published articles into a new generation; returns the count.

    ``commit_before_build`` (``neuvo reindex``) reads the articles, commits, and
    only then builds: on SQLite an open transaction holds the write lock, and
    every page would wait for the whole build.
    """
    with search_index.exclusive(wait) as held:
        if not held:
            raise IndexBusy(f"another process is updating the search index at {search_index.path}")
        if not commit_before_build:
            return _rebuild_locked(session, search_index, progress)
        checkpoint = _newest_change(session)
        documents = list(published_documents(session))
        session.commit()
        return search_index.rebuild(documents, progress=progress, checkpoint=checkpoint)


def ensure_index(session: Session, search_index: SearchIndex, *, wait: float = REBUILD_WAIT,
                 rebuild_stale: bool = True) -> bool:
    """Make sure a readable (and, unless ``rebuild_stale`` is False, up-to-date) index exists;
    rebuild from the database if not. True if rebuilt."""
    with search_index.exclusive(wait) as held:
        if not held:
            raise IndexUnavailable(f"the search index at {search_index.path} is being rebuilt")
        if not _usable(search_index):
            _rebuild_locked(session, search_index)
            return True
        return _catch_up(session, search_index, rebuild_stale=rebuild_stale).rebuilt


def prune_index_changes(session: Session, *, now: datetime, keep: timedelta) -> int:
    """Delete logged changes older than ``keep`` (never the newest); returns how many.

    Deletes by id, a prefix of the log, so a server either finds every change
    after its checkpoint or knows it fell behind and rebuilds.
    """
    newest = _newest_change(session)
    cutoff = session.scalar(select(func.max(IndexChange.id)).where(IndexChange.changed_at < now - keep))
    if cutoff is None:
        return 0
    result = session.execute(delete(IndexChange).where(IndexChange.id <= min(cutoff, newest - 1)))
    return result.rowcount or 0


def index_drift(session: Session, search_index: SearchIndex) -> IndexDrift:
    """Compare the index with the published articles; raises IndexUnavailable if it cannot be read."""
    indexed = search_index.versions()
    expected = {doc.id: document_version(doc) for doc in published_documents(session)}
    return IndexDrift(
        missing=frozenset(expected.keys() - indexed.keys()),
        extra=frozenset(indexed.keys() - expected.keys()),
        stale=frozenset(i for i in expected.keys() & indexed.keys() if expected[i] != indexed[i]),
    )


def search_articles(session: Session, query: str, *, language: str | None, category: str | None,
                    page: int, per_page: int) -> SearchResults:
    """Search, catching up with the change log when due and rebuilding a missing or corrupt index once."""
    search_index = index()
    sync_if_due(session, search_index)
    try:
        return search_index.search(query, language=language, category=category, page=page, per_page=per_page)
    except IndexUnavailable:
        ensure_index(session, search_index, wait=0, rebuild_stale=False)
        return search_index.search(query, language=language, category=category, page=page, per_page=per_page)


def _newest_change(session: Session) -> int:
    return session.scalar(select(func.max(IndexChange.id))) or 0


def _catch_up(session: Session, search_index: SearchIndex, *, rebuild_stale: bool) -> SyncResult:
    """Apply the changes after the checkpoint, or rebuild; the caller holds the update lock."""
    checkpoint = search_index.checkpoint()
    if checkpoint is None:
        if search_index.exists() and not rebuild_stale:
            log.warning("search index at %s has no checkpoint: serving it until it is rebuilt", search_index.path)
            return SyncResult(needs_rebuild=True)
        return SyncResult(_rebuild_locked(session, search_index), rebuilt=True)
    rows = session.execute(select(IndexChange.id, IndexChange.article_id)
                           .where(IndexChange.id > checkpoint).order_by(IndexChange.id)).all()
    oldest, newest = session.execute(select(func.min(IndexChange.id), func.max(IndexChange.id))).one()
    if checkpoint > (newest or 0) or (oldest is not None and checkpoint < oldest - 1):
        # Ahead of the log (the database was restored) or behind its pruned start.
        log.warning("search index checkpoint %s outside the change log (%s..%s)%s", checkpoint, oldest, newest,
                    "; rebuilding" if rebuild_stale else ": serving it until it is rebuilt")
        if not rebuild_stale:
            return SyncResult(needs_rebuild=True)
        return SyncResult(_rebuild_locked(session, search_index), rebuilt=True)
    if not rows:
        return SyncResult()
    ids = {row.article_id for row in rows}
    live = [a for chunk in batched(sorted(ids))
            for a in session.scalars(select(Article).where(Article.id.in_(chunk))
                                     .options(selectinload(Article.category))) if a.is_published]
    try:
        search_index.apply(upserts=[to_document(a) for a in live], deletes=ids - {a.id for a in live},
                           checkpoint=rows[-1].id)
    except IndexBusy as error:  # a Whoosh writer outside this lock: the next sync applies them
        log.warning("index update postponed: %s", error)
        return SyncResult()
    except IndexUnavailable as error:
        if _usable(search_index):  # e.g. a full disk: a rebuild would need more space; the next sync tries again
            log.warning("index update postponed: %s", error)
            return SyncResult()
        log.warning("search index at %s unusable (%s); rebuilding", search_index.path, error)
        return SyncResult(_rebuild_locked(session, search_index), rebuilt=True)
    return SyncResult(applied=len(ids))


def _rebuild_locked(session: Session, search_index: SearchIndex,
                    progress: Callable[[int], None] | None = None) -> int:
    # The checkpoint is read before the articles: a change committed in between
    # is in the new generation and applied once more by the next sync.
    checkpoint = _newest_change(session)
    return search_index.rebuild(published_documents(session), progress=progress, checkpoint=checkpoint)


def _usable(search_index: SearchIndex) -> bool:
    if not search_index.exists():
        return False
    try:
        search_index.doc_ids()
        return True
    except IndexUnavailable:
        log.warning("search index at %s is corrupt; rebuilding", search_index.path)
        return False
