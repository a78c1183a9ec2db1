"""Logging what visitors search for and which result they open."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb.models import Article, SearchLog


def log_search(session: Session, query: str, *, language: str, category: str | None, result_count: int,
               visitor: str, now: datetime) -> int | None:
    """Store one search; returns its id (used to attribute the click), None for empty queries."""
    query = query.strip()[:256]
    if not query:
        return None
    entry = SearchLog(query=query, language=language, category=category, result_count=result_count,
                      visitor=visitor, created_at=now)
    session.add(entry)
    session.flush()
    return entry.id


def record_click(session: Session, log_id: int, article: Article, *, visitor: str) -> None:
    """Remember which article a search led to; only the visitor who searched can set it."""
    entry = session.get(SearchLog, log_id)
    if entry is not None and entry.visitor == visitor and entry.clicked_article_id is None:
        entry.clicked_article_id = article.id


def zero_result_searches(session: Session, *, since: datetime, until: datetime) -> list[SearchLog]:
    """Searches that found nothing in the period: evidence of a missing article."""
    return list(session.scalars(
        select(SearchLog).where(SearchLog.result_count == 0, SearchLog.created_at >= since,
                                SearchLog.created_at <= until).order_by(SearchLog.created_at)
    ))


def top_failed_queries(session: Session, *, now: datetime, days: int = 14, limit: int = 20) -> list[tuple[str, int]]:
    """Most frequent zero-result queries of the last ``days`` days."""
    rows = session.execute(
        select(func.lower(SearchLog.query), func.count()).where(
            SearchLog.result_count == 0, SearchLog.created_at >= now - timedelta(days=days))
        .group_by(func.lower(SearchLog.query)).order_by(func.count().desc()).limit(limit)
    ).all()
    return [(q, n) for q, n in rows]
