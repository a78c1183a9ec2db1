"""Safe HTML snippets with highlighted query words.

Contract: :func:`snippet_html` returns the article's plain text escaped with
:func:`html.escape`; the only markup it adds is ``<mark>`` around words that
match the query. Nothing from the article reaches the output unescaped, so
``<script>`` or ``javascript:`` in a body stays inert text.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

from search.query import MIN_PREFIX, trimmed_stem
from search.schema import COMPOUND_LANGUAGES
from search.text import fold, stem

SNIPPET_CHARS = 220
_MAX_MARKS = 200


@lru_cache(maxsize=4096)
def _candidate_re(language: str, stems: frozenset[str]) -> re.Pattern[str] | None:
    """A regex finding words that may match one of ``stems`` (verified afterwards)."""
    heads = sorted({s[:3] for s in stems if s}, key=len, reverse=True)
    if not heads:
        return None
    alternatives = "|".join(re.escape(h) for h in heads)
    if language in COMPOUND_LANGUAGES:
        # Compound members may sit inside a word ("toimitus|aika").
        return re.compile(rf"\b\w*?(?:{alternatives})\w*", re.I)
    return re.compile(rf"\b(?:{alternatives})\w*", re.I)


def _matches(language: str, word: str, stems: frozenset[str]) -> bool:
    folded = fold(word)
    if stem(language, folded) in stems:
        return True
    if language in COMPOUND_LANGUAGES:
        # Mirrors the query: compound members inside words, and trimmed stem prefixes.
        return any(
            (len(s) >= 4 and s in folded)
            or (len(s) >= MIN_PREFIX and folded.startswith(trimmed_stem(s)))
            for s in stems
        )
    return False


def _best_window(spans: list[tuple[int, int]], length: int) -> int:
    """Start offset of the SNIPPET_CHARS window holding the most matches."""
    best_start, best_count = 0, 0
    j = 0
    for i, (start, _) in enumerate(spans):
        while j < len(spans) and spans[j][1] <= start + SNIPPET_CHARS:
            j += 1
        if j - i > best_count:
            best_start, best_count = start, j - i
    # Show a little context before the first highlighted word.
    return max(0, min(best_start - 40, length - SNIPPET_CHARS))


def snippet_html(text: str, language: str, stems: frozenset[str]) -> str:
    """An escaped excerpt of ``text`` around the query words, matches in ``<mark>``."""
    spans: list[tuple[int, int]] = []
    pattern = _candidate_re(language, stems)
    if pattern is not None:
        for m in pattern.finditer(text):
            if _matches(language, m.group(), stems):
                spans.append(m.span())
                if len(spans) >= _MAX_MARKS:
                    break
    start = _best_window(spans, len(text)) if spans else 0
    if start > 0:
        space = text.find(" ", start, start + 30)
        start = space + 1 if space != -1 else start
    end = min(len(text), start + SNIPPET_CHARS)
    if end < len(text):
        space = text.rfind(" ", start + SNIPPET_CHARS // 2, end)
        end = space if space != -1 else end
    parts = ["… "] if start > 0 else []
    cursor = start
    for s, e in spans:
        if s < start or e > end:
            continue
        parts.append(html.escape(text[cursor:s]))
        parts.append(f"<mark>{html.escape(text[s:e])}</mark>")
        cursor = e
    parts.append(html.escape(text[cursor:end]))
    if end < len(text):
        parts.append(" …")
    return "".join(parts)
