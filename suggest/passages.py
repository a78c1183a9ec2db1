"""Passages: an article scored by its best-matching part, not only as a whole.

Contract: :func:`split_passages` cuts an article body into short passages (Markdown
list items, lines, sentences; fragments under ``min_words`` words are merged into
their neighbour), at most ``max_passages`` per article (the rest is merged into the
last one).  :func:`segment_max` reduces a dense ``(n_texts, n_passages)`` score block
to ``(n_texts, n_articles)`` by the maximum over each article's passages, given the
index of each article's first passage (passages are stored sorted by article and
every article has at least one: its title).

Why: FAQ articles often list the questions they answer ("Questions this answers:
- ..."), and a long answer mentions the asked thing in one sentence.  A short query
matches one such passage far better than the whole body's TF-IDF vector, in which
that sentence is diluted by everything else.
"""
from __future__ import annotations

import re

import numpy as np

_LIST_MARK = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")
_HEADING = re.compile(r"^\s*#+\s*")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-ZÄÖÅ0-9\"'(])")


def split_passages(body: str, *, min_words: int = 4, max_passages: int = 40) -> list[str]:
    """Cut ``body`` into passages: list items / lines, then sentences; short ones merged."""
    pieces: list[str] = []
    for line in (body or "").splitlines():
        line = _HEADING.sub("", _LIST_MARK.sub("", line)).strip()
        if not line:
            continue
        pieces.extend(s.strip() for s in _SENTENCE.split(line) if s.strip())
    out: list[str] = []
    carry = ""
    for piece in pieces:
        text = f"{carry} {piece}".strip() if carry else piece
        if len(text.split()) < min_words:
            carry = text
            continue
        out.append(text)
        carry = ""
    if carry:
        if out:
            out[-1] = f"{out[-1]} {carry}"
        else:
            out.append(carry)
    if len(out) > max_passages:
        out = out[: max_passages - 1] + [" ".join(out[max_passages - 1:])]
    return out


def segment_max(block: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Row-wise maximum over each article's passages: ``(n, n_passages)`` → ``(n, n_articles)``."""
    if block.shape[1] == 0 or starts.size == 0:
        return np.zeros((block.shape[0], starts.size), dtype=np.float32)
    return np.maximum.reduceat(block, starts, axis=1)
