"""Query execution: scoring a planned query and turning matches into hits.

Contract: :class:`QueryExecution` is mixed into :class:`search.index.SearchIndex`
and reads its tuning attributes (``array_scoring``, ``min_and_hits``,
``optimize``). :meth:`QueryExecution._run` returns ``(total, [(docnum, score)])``
for one page: the AND of the words, or their OR if the AND finds fewer than
``min_and_hits`` articles. Word queries are scored with NumPy by
:class:`search.ranking.ArrayScorer`; quoted phrases go through Whoosh's matchers.
"""

from __future__ import annotations

import numpy as np
from whoosh.query import Query, Term
from whoosh.searching import Searcher

from search.query import QueryPlan, plan, prune
from search.ranking import ArrayScorer, Unsupported
from search.snippets import snippet_html
from search.types import Hit

#: Deepest result position served; deeper pages are empty (total still exact).
MAX_DEPTH = 5000


class QueryExecution:
    """Runs planned queries against a searcher; mixed into ``SearchIndex``."""

    array_scoring: bool
    min_and_hits: int
    optimize: bool
    _arrays: ArrayScorer | None

    def _run(
        self, searcher: Searcher, qp: QueryPlan, restrict: Query | None, page: int, per_page: int
    ) -> tuple[int, list[tuple[int, float]]]:
        """(total, [(docnum, score)] of the page): AND of the words, OR if it finds too little."""
        if self.array_scoring:
            try:
                return self._run_arrays(searcher, qp, restrict, page, per_page)
            except Unsupported:
                pass  # a phrase: Whoosh's matchers check the positions
        return self._run_whoosh(searcher, qp, restrict, page, per_page)

    def _run_arrays(
        self, searcher: Searcher, qp: QueryPlan, restrict: Query | None, page: int, per_page: int
    ) -> tuple[int, list[tuple[int, float]]]:
        depth = page * per_page
        reader = searcher.reader()
        scorer = self._array_scorer(searcher)
        allow = scorer.matches(restrict) if restrict is not None else None
        mask = scores = None
        total = 0
        narrow = prune(qp.all_query, reader)
        if narrow is not None:
            mask, scores = scorer.evaluate(narrow)
            if allow is not None:
                mask &= allow
            total = int(np.count_nonzero(mask))
        if total < self.min_and_hits and qp.any_query is not None:
            wide = prune(qp.any_query, reader)
            if wide is not None:
                wide_mask, wide_scores = scorer.evaluate(wide)
                if allow is not None:
                    wide_mask &= allow
                wide_total = int(np.count_nonzero(wide_mask))
                if wide_total > total:
                    total, mask, scores = wide_total, wide_mask, wide_scores
        if depth > MAX_DEPTH or not total:
            return total, []
        return total, _top(mask, scores, depth - per_page, depth)

    def _array_scorer(self, searcher: Searcher) -> ArrayScorer:
        if self._arrays is None or self._arrays.searcher is not searcher:
            self._arrays = ArrayScorer(searcher)
        return self._arrays

    def _run_whoosh(
        self, searcher: Searcher, qp: QueryPlan, restrict: Query | None, page: int, per_page: int
    ) -> tuple[int, list[tuple[int, float]]]:
        depth = page * per_page
        limit = depth if depth <= MAX_DEPTH else 1
        reader = searcher.reader()
        total, results = 0, []
        narrow = prune(qp.all_query, reader)
        if narrow is not None:
            found = searcher.search(narrow, limit=limit, filter=restrict, optimize=self.optimize)
            total, results = len(found), found
        if total < self.min_and_hits and qp.any_query is not None:
            wide = prune(qp.any_query, reader)
            if wide is not None:
                # Block-quality skipping pays off on long OR posting lists; the
                # exact count is then an unscored pass over the matches.
                found = searcher.search(wide, limit=limit, filter=restrict, optimize=True)
                if len(found) > total:
                    total, results = len(found), found
        if depth > MAX_DEPTH or not total:
            return total, []
        return total, [(hit.docnum, hit.score) for hit in results[depth - per_page : depth]]

    def _did_you_mean(
        self,
        searcher: Searcher,
        qp: QueryPlan,
        language: str | None,
        restrict: Query | None,
        total: int,
    ) -> str | None:
        reader = searcher.reader()
        corrector = searcher.corrector("spell")
        corrected, changed = [], False
        for word in qp.words:
            if word.isdigit() or reader.doc_frequency("spell", word) > 0:
                corrected.append(word)
                continue
            maxdist = 2 if len(word) > 5 else 1
            options = corrector.suggest(word, limit=1, maxdist=maxdist, prefix=1)
            if options and options[0] != word:
                corrected.append(options[0])
                changed = True
            else:
                corrected.append(word)
        if not changed:
            return None
        candidate = " ".join(corrected)
        candidate_plan = plan(candidate, language)
        if candidate_plan.all_query is None:
            return None
        found, _ = self._run(searcher, candidate_plan, restrict, 1, 1)
        # Only unknown words were changed, so an equal count is still worth offering.
        return candidate if found >= max(total, 1) else None


def _restriction(category: str | None) -> Query | None:
    return Term("category", category) if category else None


def _top(mask: np.ndarray, scores: np.ndarray, start: int, end: int) -> list[tuple[int, float]]:
    """(docnum, score) of ranks ``start:end`` among ``mask``: best score first, then docnum."""
    ids = np.flatnonzero(mask)
    found = scores[ids]
    if len(ids) > 4 * end:
        # Keep everything scoring at least the end-th best (ties included), then sort.
        threshold = np.partition(found, len(found) - end)[len(found) - end]
        keep = found >= threshold
        ids, found = ids[keep], found[keep]
    order = np.lexsort((ids, -found))[start:end]
    return [(int(ids[i]), float(found[i])) for i in order]


def _hit(searcher: Searcher, docnum: int, score: float, qp: QueryPlan) -> Hit:
    fields = searcher.stored_fields(docnum)
    language = fields.get("language", "en")
    snippet = snippet_html(fields.get("text", ""), language, qp.stems_for(language))
    return _hit_from(fields, snippet, score)


def _hit_from(fields: dict, snippet: str, score: float | None) -> Hit:
    return Hit(
        id=int(fields["id"]),
        slug=fields.get("slug", ""),
        title=fields.get("title", ""),
        snippet_html=snippet,
        language=fields.get("language", ""),
        category=fields.get("category", ""),
        score=float(score or 0.0),
    )
