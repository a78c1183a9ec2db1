"""Plain data passed into and out of the suggester.

Contract: every input and output of :mod:`suggest` is one of these frozen
dataclasses (or a list of them, or plain ids).  They carry no behaviour and no
database objects, so the app, the benchmarks and the tests build them alike.
Datetimes are timezone-aware UTC.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class ArticleText:
    """A published knowledge-base article as the suggester sees it."""

    slug: str
    title: str
    body: str
    language: str
    category: str = ""
    tags: tuple[str, ...] = ()
    #: Translation group: articles with the same non-empty key say the same thing in different
    #: languages (an original and its translations); empty means an article of its own.
    group: str = ""


@dataclass(frozen=True)
class InquiryText:
    """A customer inquiry; ``article_slugs`` are the articles an agent linked in the answer."""

    id: str
    text: str
    created_at: datetime
    language: str | None = None
    channel: str = ""
    article_slugs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Suggestion:
    """One suggested article and its relevance score in [0, 1]."""

    slug: str
    score: float


@dataclass(frozen=True)
class Ranking:
    """The top-k articles for one text, best first, and whether the first one answers it."""

    suggestions: list[Suggestion]
    confident: bool


@dataclass(frozen=True)
class GapTopic:
    """One question that no article answers, described for an editor."""

    rank: int
    title: str
    size: int
    inquiry_ids: list[str]
    examples: list[str]
    terms: list[str]
    languages: dict[str, int]
    channels: dict[str, int]
    nearest_article: str | None
    nearest_similarity: float
    #: Zero-result help-center searches joined to the topic: (words, count), most first.
    searches: tuple[tuple[str, int], ...] = ()

    @property
    def search_count(self) -> int:
        """How many zero-result searches of the window ask this topic's question."""
        return sum(count for _, count in self.searches)


@dataclass(frozen=True)
class GapReport:
    """The most-asked unanswered questions of the window [window_start, window_end]."""

    window_start: datetime
    window_end: datetime
    inquiries: int
    topics: list[GapTopic] = field(default_factory=list)
    #: Zero-result searches joined to no topic: (words, count), most first.
    searches: list[tuple[str, int]] = field(default_factory=list)
