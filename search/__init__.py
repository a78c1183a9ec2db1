"""Full-text search over knowledge-base articles in Finnish, Swedish and English.

Contract: a plain library (no Flask, SQLAlchemy or ``kb`` imports). Callers pass
:class:`IndexedArticle` values in and get :class:`SearchResults` / :class:`Hit`
values out; :class:`SearchIndex` owns the on-disk Whoosh index, which is a cache
of the database that :meth:`SearchIndex.rebuild` recreates at any time.
"""

from search.index import SearchIndex
from search.schema import document_version
from search.text import normalise_query
from search.types import Hit, IndexBusy, IndexedArticle, IndexUnavailable, SearchResults

__all__ = [
    "Hit",
    "IndexBusy",
    "IndexUnavailable",
    "IndexedArticle",
    "SearchIndex",
    "SearchResults",
    "document_version",
    "normalise_query",
]
