"""Vectorised BM25F scoring of word queries, equal to Whoosh's own scores.

Contract: :class:`ArrayScorer` evaluates a (pruned) query tree made of
``Term``, ``Prefix``, ``And`` and ``Or`` nodes for one open Whoosh searcher and
returns, for every document, whether it matches and its score, as NumPy arrays.
The scores are Whoosh's: ``BM25F`` per term (same idf, average field length and
byte-encoded field lengths) times the term's boost, summed by ``And``/``Or``
and multiplied by their boosts. A ``Prefix`` scores the sum of its expanded
terms times its boost (Whoosh's own prefix scoring varies with the index size
and the number of expansions: one expansion unboosted, three or more in an
index under 5,000 documents a constant). Deleted documents never match.
Anything else (phrases, another weighting model) raises :class:`Unsupported`
and the caller uses the Whoosh matcher instead.

Why: Whoosh walks OR posting lists one document at a time in Python; on 10k
articles a query of common words ("I need help with my account") visited ~10k
documents per term and cost 60-130 ms. Reading the posting blocks whole and
adding them as arrays is the same arithmetic at 1-3 ms.

Posting blocks are read through Whoosh 2.7's ``W3LeafMatcher`` internals when
present (the codec whoosh-reloaded writes); any other matcher is walked through
its public interface.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.matching.wrappers import FilterMatcher
from whoosh.query import And, Or, Prefix, Query, Term
from whoosh.scoring import BM25F
from whoosh.util.numeric import byte_to_length

_BYTE_TO_LENGTH = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)

#: Decoded posting lists kept per searcher (dropped with it on every refresh):
#: at most this many postings in all (16 bytes each, so ~16 MB per worker) ...
POSTINGS_CACHE_IDS = 1_000_000
#: ... and this many terms.
POSTINGS_CACHE_TERMS = 4096


class Unsupported(Exception):
    """A query node the array scorer does not evaluate (the caller falls back)."""


class ArrayScorer:
    """Scores word queries against one open searcher; discard it with the searcher."""

    def __init__(self, searcher) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.size = self.reader.doc_count_all()
        self.leaves = list(self.reader.leaf_readers())
        weighting = searcher.weighting
        self.supported = type(weighting) is BM25F and not weighting._field_B
        self.B, self.K1 = (weighting.B, weighting.K1) if self.supported else (0.75, 1.2)
        self._lengths: dict[str, np.ndarray] = {}
        self._postings: OrderedDict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._held = 0

    # -- public --------------------------------------------------------------

    def evaluate(self, q: Query) -> tuple[np.ndarray, np.ndarray]:
        """(matches: bool[doc], scores: float[doc]) for ``q``; raises Unsupported."""
        if not self.supported:
            raise Unsupported("weighting")
        return self._node(q)

    def matches(self, q: Query) -> np.ndarray:
        """bool[doc] of documents matching a Term/Prefix/And/Or tree (a filter; no scores)."""
        if type(q) is Term:
            mask = np.zeros(self.size, bool)
            mask[self._postings_of(q.fieldname, q.text)[0]] = True
            return mask
        return self._node(q)[0]

    # -- evaluation ----------------------------------------------------------

    def _node(self, q: Query) -> tuple[np.ndarray, np.ndarray]:
        kind = type(q)
        if kind is Term:
            mask, scores = self._term(q.fieldname, q.text)
            return mask, scores * q.boost if q.boost != 1.0 else scores
        if kind is Prefix:
            return self._prefix(q)
        if isinstance(q, (And, Or)) and type(q).__name__ in ("And", "Or", "TreeOr"):
            subs = [self._node(s) for s in q.subqueries]
            if not subs:
                return np.zeros(self.size, bool), np.zeros(self.size)
            mask = subs[0][0].copy()
            scores = subs[0][1].copy()
            combine = np.logical_and if isinstance(q, And) else np.logical_or
            for m, s in subs[1:]:
                combine(mask, m, out=mask)
                scores += s
            if q.boost != 1.0:
                scores *= q.boost
            return mask, scores
        raise Unsupported(type(q).__name__)

    def _prefix(self, q: Prefix) -> tuple[np.ndarray, np.ndarray]:
        # Sum of the expanded terms' BM25F times the boost. (Whoosh itself scores
        # a prefix inconsistently: one expansion unboosted, three or more in an
        # index under 5,000 documents as a constant.)
        mask = np.zeros(self.size, bool)
        scores = np.zeros(self.size)
        for raw in self.reader.expand_prefix(q.fieldname, q.text):
            text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
            if text:
                m, s = self._term(q.fieldname, text)
                mask |= m
                scores += s
        if q.boost != 1.0:
            scores *= q.boost
        return mask, scores

    def _term(self, field: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        mask = np.zeros(self.size, bool)
        scores = np.zeros(self.size)
        ids, weights = self._postings_of(field, text)
        if not len(ids):
            return mask, scores
        searcher = self.searcher
        idf = searcher.idf(field, text)
        avgfl = searcher.avg_field_length(field) or 1
        lengths = self._field_lengths(field)[ids]
        B, K1 = self.B, self.K1
        mask[ids] = True
        scores[ids] = idf * ((weights * (K1 + 1)) / (weights + K1 * ((1 - B) + B * lengths / avgfl)))
        return mask, scores

    # -- index data ----------------------------------------------------------

    def _field_lengths(self, field: str) -> np.ndarray:
        found = self._lengths.get(field)
        if found is None:
            parts = []
            for leaf, _ in self.leaves:
                count = leaf.doc_count_all()
                raw = None
                perdoc = getattr(leaf, "_perdoc", None)
                cached = getattr(perdoc, "_cached_reader", None)
                if cached is not None:
                    column = cached(_lenfield(field), LENGTHS_COLUMN)
                    if column is not None:
                        raw = np.fromiter(column, dtype=np.uint8, count=count)
                if raw is None:
                    parts.append(np.array(
                        [leaf.doc_field_length(d, field, 1) or 1 for d in range(count)], dtype=np.float64))
                else:
                    parts.append(_BYTE_TO_LENGTH[raw])
            found = np.concatenate(parts) if parts else np.zeros(0)
            # Whoosh reads a zero length byte as the default 1 (it never scores those docs).
            found[found == 0] = 1
            self._lengths[field] = found
        return found

    def _postings_of(self, field: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        key = (field, text)
        cached = self._postings.get(key)
        if cached is not None:
            self._postings.move_to_end(key)
            return cached
        id_parts, weight_parts = [], []
        for leaf, offset in self.leaves:
            if (field, text) not in leaf:
                continue
            matcher = leaf.postings(field, text)
            if isinstance(matcher, FilterMatcher):
                matcher = matcher.child  # deletions are removed below
            ids, weights = _read_postings(matcher)
            if leaf.has_deletions():
                deleted = leaf.deleted_docs_set
                keep = np.fromiter((d not in deleted for d in ids), dtype=bool, count=len(ids))
                ids, weights = ids[keep], weights[keep]
            id_parts.append(ids + offset)
            weight_parts.append(weights)
        if id_parts:
            result = (np.concatenate(id_parts), np.concatenate(weight_parts))
        else:
            result = (np.zeros(0, np.int64), np.zeros(0))
        self._postings[key] = result
        self._held += len(result[0])
        while self._postings and (
            self._held > POSTINGS_CACHE_IDS or len(self._postings) > POSTINGS_CACHE_TERMS
        ):
            _, (old, _) = self._postings.popitem(last=False)
            self._held -= len(old)
        return result


def _read_postings(matcher) -> tuple[np.ndarray, np.ndarray]:
    """All (doc ids, weights) of one segment's posting list, block by block."""
    ids: list = []
    weights: list = []
    if type(matcher) is W3LeafMatcher:
        while not matcher._atend:
            if matcher._ids is None:
                matcher._read_ids()
            if matcher._weights is None:
                matcher._read_weights()
            ids.extend(matcher._ids)
            weights.extend(matcher._weights)
            matcher._next_block()
    else:
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
    return np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float64)
