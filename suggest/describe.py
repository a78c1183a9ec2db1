"""Describing a topic of inquiries for an editor: title, examples, key terms.

Contract: pure functions of their arguments.  The title is the topic's most central
question: among its most central inquiries (closest to the topic centroid), the first
that asks one, its question sentence closest to the centroid, with the sentence before it
when that one carries the topic better ("Our cottage is in Åland. Can you deliver
there?"); a topic whose central inquiries ask nothing gets the best sentence of the most
central one.  Everything shown is cleaned of quoting, signatures, addresses and order
numbers; examples are the next most central distinct inquiries; terms are the
highest-weighted stems of the centroid, each shown as the word form the customers used
most often.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
from scipy import sparse

from .normalise import HIDDEN, clean_text

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
# A greeting that opens a title says nothing about the question: "Hei, voinko ..." → "Voinko ...".
_GREETING = re.compile(r"^(?:hei|moi|moikka|terve|hyvää (?:päivää|huomenta|iltaa)|hej|hejsan|god (?:morgon|dag)"
                       r"|hi|hello|hey|good (?:morning|afternoon|evening|day))(?:\s+(?:there|all|kaikki))?[\s,.!:;-]+",
                       re.IGNORECASE)
MAX_TITLE = 160


def one_line(text: str, limit: int = MAX_TITLE) -> str:
    """Clean a text for display on one line, cut at a word boundary near ``limit``."""
    line = " ".join(clean_text(text, mask=HIDDEN).split()).replace(f"{HIDDEN} .", f"{HIDDEN}.").replace(f"{HIDDEN} ,", f"{HIDDEN},")
    if len(line) <= limit:
        return line
    return line[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def central_order(X: sparse.csr_matrix, centroid: np.ndarray) -> np.ndarray:
    """Row indices of ``X`` from most to least similar to ``centroid`` (ties by index)."""
    sims = np.asarray(X @ centroid).ravel()
    return np.lexsort((np.arange(len(sims)), -sims))


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(clean_text(text)) if len(s.split()) >= 2]


def central_question(texts: Sequence[str], order: Sequence[int], centroid: np.ndarray,
                     vectorise: Callable[[list[str]], sparse.csr_matrix], candidates: int = 5) -> str:
    """The topic's title: the most central question (see the module docstring), without an opening greeting."""
    title = _central_question(texts, order, centroid, vectorise, candidates)
    bare = _GREETING.sub("", title, count=1)
    return bare[:1].upper() + bare[1:] if bare else title


def _central_question(texts: Sequence[str], order: Sequence[int], centroid: np.ndarray,
                      vectorise: Callable[[list[str]], sparse.csr_matrix], candidates: int) -> str:
    for i in order[:candidates]:
        sentences = _sentences(texts[i])
        asks = [j for j, s in enumerate(sentences) if s.endswith("?")]
        if not asks:
            continue
        sims = np.asarray(vectorise(sentences) @ centroid).ravel()
        question = max(asks, key=lambda j: (sims[j], -j))
        before = int(np.argmax(sims[:question])) if question else -1
        if before >= 0 and sims[before] > sims[question]:
            return one_line(f"{sentences[before]} {sentences[question]}")
        return one_line(sentences[question])
    return best_sentence(texts[order[0]], centroid, vectorise) if len(order) else ""


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
