"""The suggester in the product: fitted models, attaching articles, finding gaps.

Fitted models are derived data kept under the instance's models folder. A
model is identified by a fingerprint of what it learned from (published
articles and agents' linked answers); it is refitted when that changes, after a
bulk import and by ``neuvo reindex``, and never required to exist.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from kb.models import Article, ArticleStatus, Ticket, TicketArticleLink, TicketSuggestion
from kb.services.search_index import rebuild
from kb.services.search_log import zero_result_searches
from search import SearchIndex
from suggest import ArticleMatcher, ArticleText, GapMiner, GapReport, InquiryText, Ranking

log = logging.getLogger(__name__)
POINTER = "current.json"
ATTACH_K = 5


def article_texts(session: Session) -> list[ArticleText]:
    rows = session.scalars(select(Article).where(Article.status == ArticleStatus.PUBLISHED)
                           .options(selectinload(Article.category)).order_by(Article.id))
    return [ArticleText(slug=a.slug, title=a.title, body=a.body, language=a.language,
                        category=a.category.slug, tags=tuple(a.tags or ())) for a in rows]


def inquiry_texts(session: Session, *, since: datetime | None = None) -> list[InquiryText]:
    """Stored inquiries with the slugs agents linked to them, oldest first.

    Reads plain columns rather than ORM objects: gap mining may read 100,000 rows.
    """
    links: dict[int, list[str]] = {}
    for ticket_id, slug in session.execute(select(TicketArticleLink.ticket_id, Article.slug)
                                           .join(Article, Article.id == TicketArticleLink.article_id)):
        links.setdefault(ticket_id, []).append(slug)
    query = select(Ticket.id, Ticket.external_id, Ticket.subject, Ticket.body, Ticket.created_at,
                   Ticket.language, Ticket.channel)
    if since is not None:
        query = query.where(Ticket.created_at >= since)
    return [InquiryText(id=row.external_id, text=f"{row.subject}\n{row.body}".strip(), created_at=row.created_at,
                        language=row.language, channel=row.channel.value,
                        article_slugs=tuple(links.get(row.id, ())))
            for row in session.execute(query.order_by(Ticket.created_at, Ticket.id))]


def fingerprint(session: Session) -> str:
    """What a fitted matcher depends on: published articles and linked answers."""
    digest = hashlib.sha256()
    for row in session.execute(select(Article.id, Article.slug, Article.updated_at)
                               .where(Article.status == ArticleStatus.PUBLISHED).order_by(Article.id)):
        digest.update(f"{row.id}|{row.slug}|{row.updated_at.isoformat()}\n".encode())
    links = session.execute(select(func.count(TicketArticleLink.id), func.max(TicketArticleLink.id))).one()
    digest.update(f"links|{links[0]}|{links[1]}".encode())
    return digest.hexdigest()[:24]


class MatcherStore:
    """Fitted matchers on disk (one folder per fingerprint, a pointer to the current one)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._cached: tuple[str, ArticleMatcher] | None = None

    def current(self, session: Session, *, refit: bool = False,
                progress: Callable[[str], None] | None = None) -> ArticleMatcher | None:
        """The matcher for the database as it is now; None when there are no articles."""
        key = fingerprint(session)
        if not refit:
            if self._cached and self._cached[0] == key:
                return self._cached[1]
            loaded = self._load(key)
            if loaded is not None:
                self._cached = (key, loaded)
                return loaded
        articles = article_texts(session)
        if not articles:
            return None
        if progress:
            progress(f"fitting the suggester on {len(articles)} articles")
        matcher = ArticleMatcher().fit(articles, history=inquiry_texts(session))
        self._save(key, matcher)
        self._cached = (key, matcher)
        return matcher

    def _load(self, key: str) -> ArticleMatcher | None:
        try:
            pointer = json.loads((self.path / POINTER).read_text(encoding="utf-8"))
            if pointer.get("fingerprint") != key:
                return None
            return ArticleMatcher.load(self.path / pointer["folder"])
        except (OSError, ValueError, KeyError) as error:
            if not isinstance(error, FileNotFoundError):
                log.warning("fitted suggester unreadable, refitting: %s", error)
            return None

    def _save(self, key: str, matcher: ArticleMatcher) -> None:
        """Write a new model folder, then swap the pointer; old folders are removed."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            folder = Path(tempfile.mkdtemp(prefix=f"matcher-{key}-", dir=self.path))
            matcher.save(folder)
            fd, tmp = tempfile.mkstemp(prefix=".current.", dir=self.path)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"fingerprint": key, "folder": folder.name}, handle)
            os.replace(tmp, self.path / POINTER)
            for old in self.path.glob("matcher-*"):
                if old != folder:
                    shutil.rmtree(old, ignore_errors=True)
        except OSError as error:  # a cache: serving goes on without it
            log.warning("could not save the fitted suggester: %s", error)


def attach_suggestions(session: Session, tickets: Sequence[Ticket], matcher: ArticleMatcher | None, *,
                       now: datetime, k: int = ATTACH_K) -> None:
    """Store the top-``k`` suggested articles (with scores) for each ticket."""
    if not tickets:
        return
    session.execute(delete(TicketSuggestion).where(TicketSuggestion.ticket_id.in_([t.id for t in tickets])))
    if matcher is None:
        return
    ids = dict(session.execute(select(Article.slug, Article.id).where(Article.status == ArticleStatus.PUBLISHED)).all())
    rankings = matcher.rank_many([t.text for t in tickets], k=k, languages=[t.language for t in tickets])
    for ticket, ranking in zip(tickets, rankings):
        ticket.suggestion_confident = ranking.confident
        session.add_all(TicketSuggestion(ticket_id=ticket.id, article_id=ids[s.slug], rank=rank, score=s.score,
                                         created_at=now)
                        for rank, s in enumerate(ranking.suggestions, 1) if s.slug in ids)


def rank_texts(matcher: ArticleMatcher | None, texts: Sequence[str], languages: Sequence[str | None],
               *, k: int) -> list[Ranking]:
    if matcher is None:
        return [Ranking(suggestions=[], confident=False) for _ in texts]
    return matcher.rank_many(list(texts), k=k, languages=list(languages))


def find_gaps(session: Session, matcher: ArticleMatcher | None, *, as_of: datetime, days: int, top: int,
              progress: Callable[[str], None] | None = None) -> GapReport:
    """The ``top`` most-asked questions of the window that no published article answers."""
    start = as_of - timedelta(days=days)
    searches = [(s.query, s.created_at, s.language or None)
                for s in zero_result_searches(session, since=start, until=as_of)]
    inquiries = inquiry_texts(session, since=start - timedelta(days=1))
    return GapMiner(days=days, top=top).mine(inquiries, article_texts(session), as_of=as_of, matcher=matcher,
                                             zero_result_searches=searches, progress=progress)


def refresh_derived(session: Session, search_index: SearchIndex, store: MatcherStore, *, now: datetime,
                    progress: Callable[[str], None] | None = None) -> None:
    """After a bulk load: rebuild the index, refit the suggester, re-attach every ticket's suggestions."""
    rebuild(session, search_index)
    matcher = store.current(session, refit=True, progress=progress)
    attach_suggestions(session, session.scalars(select(Ticket)).all(), matcher, now=now)
