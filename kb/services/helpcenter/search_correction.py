"""Showing the corrected results at once when a query finds nothing (like "Showing results for …").

A search that finds nothing and whose "did you mean" correction finds something is
answered with the correction's results; the page says so and links to the query as
typed. The correction is confident by construction (:mod:`search.execute`): only
words that occur nowhere in the index are changed, each to a close spelling (one edit,
two for words over five letters) that does occur, and the corrected query must find
articles. A query that finds something is never replaced; its "did you mean" stays an
offer.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from kb.services.helpcenter.search_index import search_articles
from search import SearchResults


@dataclass(frozen=True)
class CorrectedSearch:
    """The results shown, and the query as typed when they are for its correction (else None)."""

    results: SearchResults
    typed: str | None = None


def search_or_correct(session: Session, query: str, *, language: str | None, category: str | None, page: int,
                      per_page: int, as_typed: bool = False) -> CorrectedSearch:
    """Search; when nothing is found and a correction finds something, that correction's results.

    ``as_typed`` keeps the query as it was written (the "search instead for" link).
    """
    results = search_articles(session, query, language=language, category=category, page=page, per_page=per_page)
    if as_typed or results.total or not results.suggestion:
        return CorrectedSearch(results)
    corrected = search_articles(session, results.suggestion, language=language, category=category, page=page,
                                per_page=per_page)
    if not corrected.total:
        return CorrectedSearch(results)
    return CorrectedSearch(corrected, typed=results.query)
