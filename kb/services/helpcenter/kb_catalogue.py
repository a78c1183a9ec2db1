"""Lists derived from the published articles, computed when they change instead of per request.

The most-read list and each article's related articles are read on every page
view but change only when an article is saved (or, for their order, when view
counts move). Each process keeps them in a :class:`Catalogue` whose entries are
valid for one position of the ``index_changes`` log, the ordered record of every
article change that already carries saves to every worker and every app server:
a save anywhere moves the log on, and the next page in any process computes the
lists afresh from the database (one ``SELECT max(id)`` per request tells). View
counts reorder them without a save, so entries also expire after ``ttl`` seconds
(``CATALOGUE_SECONDS``).

Entries are plain tuples (:class:`ArticleLink`), never ORM rows, so they can be
shared between requests and threads.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb.models import Article, ArticleStatus, IndexChange

T = TypeVar("T")


@dataclass(frozen=True)
class ArticleLink:
    """What a list of articles shows of each: its address and title (and what ranks it)."""

    id: int
    slug: str
    title: str
    language: str
    category_id: int
    tags: tuple[str, ...]
    view_count: int


class Catalogue:
    """Values keyed by the change log's position; all dropped when it moves on or ``ttl`` seconds pass."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._version: int | None = None
        self._born = float("-inf")
        self._values: dict[Hashable, object] = {}

    def get(self, session: Session, key: Hashable, compute: Callable[[], T]) -> T:
        """The value for ``key`` at the database's current state, computed once per state and process."""
        version = log_position(session)
        now = time.monotonic()
        with self._lock:
            if version != self._version or now - self._born >= self.ttl:
                self._version, self._born, self._values = version, now, {}
            if key in self._values:
                return self._values[key]  # type: ignore[return-value]
        value = compute()
        with self._lock:
            if self._version == version:
                self._values[key] = value
        return value

    def clear(self) -> None:
        with self._lock:
            self._version, self._values = None, {}


def log_position(session: Session) -> int:
    """The newest article change (``index_changes`` id), read once per transaction."""
    return log_state(session)[0]


def log_state(session: Session, *, reuse: bool = False) -> tuple[int, datetime | None]:
    """The id and time of the newest article change, read once per transaction.

    ``reuse``: what this session read in an earlier transaction will do (a response's
    Last-Modified, written after the page ended its transaction).
    """
    transaction = session.get_transaction()
    memo = session.info.get("kb_log_state")
    if memo is not None and (memo[0] is transaction or reuse):
        return memo[1]
    newest = session.execute(select(func.max(IndexChange.id), func.max(IndexChange.changed_at))).one()
    state = (newest[0] or 0, newest[1])
    session.info["kb_log_state"] = (transaction, state)
    return state


def _links(session: Session, language: str) -> list[ArticleLink]:
    rows = session.execute(
        select(Article.id, Article.slug, Article.title, Article.language, Article.category_id, Article.tags,
               Article.view_count)
        .where(Article.language == language, Article.status == ArticleStatus.PUBLISHED)
    ).all()
    return [ArticleLink(r.id, r.slug, r.title, r.language, r.category_id, tuple(r.tags or ()), r.view_count)
            for r in rows]


def published_links(catalogue: Catalogue, session: Session, language: str) -> list[ArticleLink]:
    """Every published article in ``language``, as links."""
    return catalogue.get(session, ("links", language), lambda: _links(session, language))


def most_viewed(catalogue: Catalogue, session: Session, language: str, limit: int = 6) -> list[ArticleLink]:
    """The most-read published articles in ``language`` (ties by title)."""
    def compute() -> list[ArticleLink]:
        links = published_links(catalogue, session, language)
        return sorted(links, key=lambda a: (-a.view_count, a.title))[:limit]
    return catalogue.get(session, ("most_viewed", language, limit), compute)


def related(catalogue: Catalogue, session: Session, article: Article, limit: int = 5) -> list[ArticleLink]:
    """Articles in the same language sharing the category or tags, most related first."""
    tags, category_id, own_id = set(article.tags or ()), article.category_id, article.id

    def closeness(other: ArticleLink) -> tuple[int, int, int]:
        shared = len(tags & set(other.tags))
        return (shared + 2 * (other.category_id == category_id), other.view_count, -other.id)

    def compute() -> list[ArticleLink]:
        candidates = [c for c in published_links(catalogue, session, article.language) if c.id != own_id]
        return sorted((c for c in candidates if closeness(c)[0] > 0), key=closeness, reverse=True)[:limit]
    # the article's own tags and category are part of the key: they change with its save, which moves the log
    return catalogue.get(session, ("related", own_id, limit), compute)
