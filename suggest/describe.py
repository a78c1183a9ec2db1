"""Describing a topic of inquiries for an editor: title, examples, key terms.

Contract: pure functions of their arguments.  The title is a real sentence of the
topic's most central inquiry (the one closest to the topic centroid), cleaned of
quoting, signatures, addresses and order numbers; examples are the next most
central distinct inquiries; terms are the highest-weighted stems of the centroid,
each shown as the word form the customers used most often.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
from scipy import sparse

from .normalise import clean_text

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
MAX_TITLE = 160


def one_line(text: str, limit: int = MAX_TITLE) -> str:
    """Clean a text for display on one line, cut at a word boundary near ``limit``."""
    line = " ".join(clean_text(text).split())
    if len(line) <= limit:
        return line
    return line[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def central_order(X: sparse.csr_matrix, centroid: np.ndarray) -> np.ndarray:
    """Row indices of ``X`` from most to least similar to ``centroid`` (ties by index)."""
    sims = np.asarray(X @ centroid).ravel()
    return np.lexsort((np.arange(len(sims)), -sims))


def best_sentence(text: str, centroid: np.ndarray, vectorise: Callable[[list[str]], sparse.csr_matrix]) -> str:
    """The sentence of ``text`` closest to ``centroid``, cleaned; the whole text if it has one."""
    cleaned = clean_text(text)
    sentences = [s.strip() for s in _SENTENCE.split(cleaned) if len(s.split()) >= 2]
    if len(sentences) <= 1:
        return one_line(cleaned)
    sims = np.asarray(vectorise(sentences) @ centroid).ravel()
    return one_line(sentences[int(np.argmax(sims))])


def examples(texts: Sequence[str], order: Sequence[int], n: int, skip: str) -> list[str]:
    """Up to ``n`` distinct cleaned texts in ``order``, other than ``skip``."""
    out, seen = [], {skip.lower()}
    for i in order:
        line = one_line(texts[i])
        if line and line.lower() not in seen:
            seen.add(line.lower())
            out.append(line)
            if len(out) == n:
                break
    return out


def key_terms(prepared: Sequence[tuple[str, str, str]], idf: dict[str, float], n: int) -> list[str]:
    """The ``n`` stems with the highest summed IDF weight in the topic, as surface words."""
    weight: Counter = Counter()
    surface: dict[str, Counter] = {}
    for stems, words, _ in prepared:
        stem_list, word_list = stems.split(), words.split()
        for s, w in zip(stem_list, word_list):
            if len(s) < 2 or s.isdigit():
                continue
            surface.setdefault(s, Counter())[w] += 1
        for s in set(stem_list):
            if s in surface:
                weight[s] += idf.get(s, 0.0)
    ranked = sorted(weight.items(), key=lambda kv: (-kv[1], kv[0]))
    out = []
    for stem, _ in ranked[:n]:
        words = surface[stem]
        out.append(sorted(words.items(), key=lambda kv: (-kv[1], kv[0]))[0][0])
    return out
