"""Plain data exchanged with the search library.

Contract: every value going in or out of :mod:`search` is one of these frozen
dataclasses, a builtin, or one of the two exceptions below. Nothing here knows
about Whoosh, Flask or the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

LANGUAGES: tuple[str, ...] = ("fi", "sv", "en")


class IndexUnavailable(Exception):
    """The index is missing or unreadable; rebuild it from the database."""


class IndexBusy(Exception):
    """The index writer lock was not obtained in time; try again later."""


@dataclass(frozen=True)
class IndexedArticle:
    """One published article as the index sees it."""

    id: int
    slug: str
    language: str
    title: str
    body: str
    category: str
    tags: tuple[str, ...] = ()
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Hit:
    """One search result; ``snippet_html`` is escaped text plus ``<mark>`` tags only."""

    id: int
    slug: str
    title: str
    snippet_html: str
    language: str
    category: str
    score: float


@dataclass(frozen=True)
class SearchResults:
    """One page of results; ``suggestion`` is a 'did you mean' query or None."""

    query: str
    total: int
    page: int
    per_page: int
    results: list[Hit] = field(default_factory=list)
    suggestion: str | None = None
