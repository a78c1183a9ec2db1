"""The Whoosh schema and per-language analyzers.

Contract: one index holds all languages. An article fills only the fields of
its own language (``title_fi``/``body_fi``/``parts_fi`` for Finnish, and so on),
so a query analysed per language can target each language's fields. Besides
the stemmed fields there are:

* ``parts_fi``/``parts_sv``: stems of trailing compound members
  ("toimitusaika" -> "aika"), searched with a low boost;
* ``spell``: unstemmed folded words of title and body, for "did you mean";
* ``prefix``: unstemmed folded title words, for search-as-you-type;
* ``version``: a digest of the article as indexed (:func:`document_version`),
  so the index can be compared with its source.

Every analyzer component is a module-level class holding only plain data, so
the schema pickles and unpickles wherever the index is opened.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime

from whoosh.analysis import Analyzer, Filter, RegexTokenizer, StopFilter, Token
from whoosh.fields import ID, STORED, TEXT, Schema

from search.text import (
    WORD_PATTERN,
    compound_parts,
    fold,
    markdown_to_text,
    stem,
    stoplist,
)
from search.types import LANGUAGES, IndexedArticle

#: Languages whose compounds are indexed by their parts.
COMPOUND_LANGUAGES: tuple[str, ...] = ("fi", "sv")
#: Words shorter than this are not indexed (matches StopFilter's default).
MIN_WORD = 2
#: Cap on the stored plain text per article (snippets never need more).
MAX_STORED_TEXT = 20_000


class FoldFilter(Filter):
    """Lowercase and fold accents, keeping å/ä/ö (see :func:`search.text.fold`)."""

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for t in tokens:
            t.text = fold(t.text)
            yield t


class MinSizeFilter(Filter):
    """Drop tokens shorter than :data:`MIN_WORD` characters."""

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for t in tokens:
            if len(t.text) >= MIN_WORD:
                yield t


class SnowballFilter(Filter):
    """Replace each token by its PyStemmer Snowball stem for one language."""

    def __init__(self, language: str) -> None:
        self.language = language

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        language = self.language
        for t in tokens:
            t.text = stem(language, t.text)
            yield t


class PartsFilter(Filter):
    """Emit the stems of possible trailing compound members of each word."""

    def __init__(self, language: str) -> None:
        self.language = language

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        language = self.language
        for t in tokens:
            for part in compound_parts(t.text):
                t.text = stem(language, part)
                yield t


def _tokenizer() -> RegexTokenizer:
    return RegexTokenizer(WORD_PATTERN)


def language_analyzer(language: str) -> Analyzer:
    """Tokenise, fold, drop stop words, stem."""
    return (
        _tokenizer()
        | FoldFilter()
        | StopFilter(stoplist=stoplist(language), minsize=MIN_WORD)
        | SnowballFilter(language)
    )


def parts_analyzer(language: str) -> Analyzer:
    """Tokenise, fold, drop stop words, emit stemmed compound members."""
    return (
        _tokenizer()
        | FoldFilter()
        | StopFilter(stoplist=stoplist(language), minsize=MIN_WORD)
        | PartsFilter(language)
    )


def plain_analyzer() -> Analyzer:
    """Tokenise and fold only: the word forms people type."""
    return _tokenizer() | FoldFilter() | MinSizeFilter()


def build_schema() -> Schema:
    """The schema of a fresh index."""
    fields: dict = {
        "id": ID(stored=True, unique=True),
        "slug": STORED(),
        "language": ID(stored=True),
        "category": ID(stored=True),
        "title": STORED(),
        "text": STORED(),
        "spell": TEXT(analyzer=plain_analyzer(), phrase=False),
        "prefix": TEXT(analyzer=plain_analyzer(), phrase=False),
        "version": STORED(),
    }
    for language in LANGUAGES:
        analyzer = language_analyzer(language)
        fields[f"title_{language}"] = TEXT(analyzer=analyzer, phrase=True)
        fields[f"body_{language}"] = TEXT(analyzer=analyzer, phrase=True)
        if language in COMPOUND_LANGUAGES:
            fields[f"parts_{language}"] = TEXT(
                analyzer=parts_analyzer(language), phrase=False
            )
    return Schema(**fields)


def document_fields(article: IndexedArticle) -> dict[str, str]:
    """The Whoosh document for one article (only its own language's fields filled)."""
    language = article.language if article.language in LANGUAGES else "en"
    text = markdown_to_text(article.body or "")
    title = article.title or ""
    tags = " ".join(article.tags)
    body = f"{tags} {text}" if tags else text
    doc = {
        "id": str(int(article.id)),
        "slug": article.slug,
        "language": language,
        "category": article.category or "",
        "title": title,
        "text": text[:MAX_STORED_TEXT],
        "spell": f"{title} {body}",
        "prefix": title,
        "version": document_version(article),
        f"title_{language}": title,
        f"body_{language}": body,
    }
    if language in COMPOUND_LANGUAGES:
        doc[f"parts_{language}"] = f"{title} {body}"
    return doc


def document_version(article: IndexedArticle) -> str:
    """A digest of everything the index takes from ``article`` (equal digests: same entry)."""
    parts = [
        article.id, article.slug, article.language, article.title, article.body,
        article.category, list(article.tags),
        _utc_iso(article.updated_at),
    ]
    encoded = json.dumps(parts, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()[:32]


def _utc_iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment.astimezone(UTC) if moment.tzinfo else moment).isoformat()
