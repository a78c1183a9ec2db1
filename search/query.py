"""Turning typed text into Whoosh queries, without Whoosh's query parser.

Contract: :func:`plan` never raises for any string. The text is normalised
(:func:`search.text.normalise_query`), split into words and balanced
``"quoted phrases"``; every other character (``*``, ``?``, ``:``, ``^``,
brackets, AND/OR/NOT spelled in capitals) is just punctuation or a word. No
field, wildcard, range, boost or fuzzy syntax exists, so a query can neither
address internal fields nor expand to the whole lexicon.

Each word becomes, per language, an OR of the stemmed word in the title
(boosted) and the body; for Finnish and Swedish also a prefix of the stem
trimmed by up to three letters ("tilau" -> "tilauks", "returner" -> "retur",
"palautusoikeud" -> "palautusoikeus") and the compound-part field ("aika" -> "toimitusaika"), all with low boosts.
The AND of the words is tried first; :class:`~search.index.SearchIndex` falls
back to the OR when the AND finds too little. Plans are cached per
(text, language).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from whoosh.query import And, Or, Phrase, Prefix, Query, Term

from search.schema import COMPOUND_LANGUAGES, MIN_WORD
from search.text import WORD_RE, fold, normalise_query, stem, stoplist
from search.types import LANGUAGES

TITLE_BOOST = 3.0
PREFIX_BOOST = 0.5
PARTS_BOOST = 0.3
#: Stems at least this long are also matched as prefixes (Finnish/Swedish).
MIN_PREFIX = 5
#: How many letters a stem may lose when matched as a prefix (Finnish/Swedish).
MAX_TRIM = 3
#: Words beyond this many are ignored (the query is already capped at 256 chars).
MAX_WORDS = 32

_PHRASE_RE = re.compile(r'"([^"]*)"')


class TreeOr(Or):
    """An Or that always uses Whoosh's binary tree of union matchers.

    Whoosh's default picks a "preloaded" array matcher for indexes under 5,000
    documents, which allocates and fills a 2,048-slot array per Or node: with
    one Or per word and language that made small indexes slower than large ones.
    """

    matcher_type = Or.DEFAULT_MATCHER


@dataclass(frozen=True)
class QueryPlan:
    """Everything one search needs from the typed text, computed once and cached."""

    text: str
    words: tuple[str, ...]
    all_query: Query | None
    any_query: Query | None
    stems: tuple[tuple[str, frozenset[str]], ...]

    def stems_for(self, language: str) -> frozenset[str]:
        """Query stems in ``language`` (used to highlight snippets)."""
        for lang, stems in self.stems:
            if lang == language:
                return stems
        return frozenset()


def split_query(text: str) -> tuple[list[list[str]], list[str]]:
    """Folded words of balanced quoted phrases, and the remaining loose words."""
    phrases = [words for words in (_words(m) for m in _PHRASE_RE.findall(text)) if words]
    loose = _words(_PHRASE_RE.sub(" ", text))
    return phrases, loose


def _words(text: str) -> list[str]:
    found = []
    for m in WORD_RE.finditer(text):
        word = fold(m.group())
        if len(word) >= MIN_WORD:
            found.append(word)
    return found


def _content(language: str, words: list[str]) -> list[str]:
    stops = stoplist(language)
    return [stem(language, w) for w in words if w not in stops]


def trimmed_stem(s: str) -> str:
    """The stem prefix matched for Finnish/Swedish ("returner" -> "retur", "tilau" -> "tilau")."""
    return s[: max(MIN_PREFIX, len(s) - MAX_TRIM)]


def word_clause(language: str, word: str) -> Query | None:
    """Everything one word may match in one language's fields, or None for a stop word."""
    if word in stoplist(language) or len(word) < MIN_WORD:
        return None
    s = stem(language, word)
    title, body = f"title_{language}", f"body_{language}"
    subs: list[Query] = [Term(title, s, boost=TITLE_BOOST), Term(body, s)]
    if language in COMPOUND_LANGUAGES and len(s) >= MIN_PREFIX:
        head = trimmed_stem(s)
        subs.append(Prefix(title, head, boost=TITLE_BOOST * PREFIX_BOOST))
        subs.append(Prefix(body, head, boost=PREFIX_BOOST))
    if language in COMPOUND_LANGUAGES:
        if len(word) >= 4:
            subs.append(Term(f"parts_{language}", s, boost=PARTS_BOOST))
    return TreeOr(subs)


def phrase_clause(language: str, words: list[str]) -> Query | None:
    """A quoted phrase in one language: consecutive stems in title or body."""
    stems = _content(language, words)
    if not stems:
        return None
    if len(stems) == 1:
        return word_clause(language, words[0]) if len(words) == 1 else TreeOr(
            [Term(f"title_{language}", stems[0], boost=TITLE_BOOST),
             Term(f"body_{language}", stems[0])]
        )
    return TreeOr(
        [
            Phrase(f"title_{language}", stems, boost=TITLE_BOOST),
            Phrase(f"body_{language}", stems),
        ]
    )


@lru_cache(maxsize=2048)
def plan(text: str, language: str | None = None) -> QueryPlan:
    """The cached query plan for raw typed ``text`` restricted to ``language`` (None: all)."""
    text = normalise_query(text)
    phrases, loose = split_query(text)
    loose = list(dict.fromkeys(loose))[:MAX_WORDS]
    phrases = phrases[:MAX_WORDS]
    languages = (language,) if language in LANGUAGES else LANGUAGES
    branches_all: list[Query] = []
    clauses_any: list[Query] = []
    stems: list[tuple[str, frozenset[str]]] = []
    for lang in languages:
        clauses = [c for c in (phrase_clause(lang, p) for p in phrases) if c is not None]
        clauses += [c for c in (word_clause(lang, w) for w in loose) if c is not None]
        if not clauses:
            continue
        branches_all.append(clauses[0] if len(clauses) == 1 else And(clauses))
        clauses_any.extend(clauses)
        every = loose + [w for p in phrases for w in p]
        stems.append((lang, frozenset(_content(lang, every))))
    all_query = _or(branches_all)
    # A single clause per language: AND and OR are the same query.
    any_query = _or(clauses_any) if len(clauses_any) > len(branches_all) else None
    words = tuple(dict.fromkeys(loose + [w for p in phrases for w in p]))
    return QueryPlan(text, words, all_query, any_query, tuple(stems))


def _or(queries: list[Query]) -> Query | None:
    if not queries:
        return None
    return queries[0] if len(queries) == 1 else TreeOr(queries)


def prune(q: Query | None, reader) -> Query | None:
    """``q`` without clauses that cannot match in ``reader`` (None if nothing can).

    Whoosh builds a matcher for every clause, even for terms absent from the
    index; with one branch per language that overhead dominated short queries.
    """
    if q is None:
        return None
    if isinstance(q, Term):
        return q if reader.doc_frequency(q.fieldname, q.text) else None
    if isinstance(q, Prefix):
        return q if next(iter(reader.expand_prefix(q.fieldname, q.text)), None) is not None else None
    if isinstance(q, Phrase):
        return q if all(reader.doc_frequency(q.fieldname, w) for w in q.words) else None
    if isinstance(q, And):
        kept = [prune(sub, reader) for sub in q.subqueries]
        if any(sub is None for sub in kept):
            return None
        return kept[0] if len(kept) == 1 else And(kept, boost=q.boost)
    if isinstance(q, Or):
        kept = [sub for sub in (prune(sub, reader) for sub in q.subqueries) if sub is not None]
        if not kept:
            return None
        return kept[0] if len(kept) == 1 and q.boost == 1.0 else TreeOr(kept, boost=q.boost)
    return q
