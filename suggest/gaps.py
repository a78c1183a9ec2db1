"""Mining the most-asked questions that no article answers.

Contract: ``GapMiner(days, top, ...).mine(inquiries, articles, as_of=...)`` returns a
:class:`~suggest.types.GapReport` for the window ``[as_of - days, as_of]`` (both ends
inclusive): ``inquiries`` is the number of inquiries in the window, ``topics`` at most
``top`` :class:`~suggest.types.GapTopic` ordered by size (then matching searches,
then first inquiry).  The same inputs always give the same report.

Method:

1. Score every inquiry of the window with the :class:`~suggest.matcher.ArticleMatcher`
   (the caller's, or one fitted here on the articles and all inquiries) and note
   whether it is ``confident``.
2. Cluster *all* inquiries of the window by average-linkage cosine distance
   (:mod:`.clustering`), so that each topic is one question asked many ways.
3. A topic is answered when at least ``coverage`` of its inquiries are confidently
   matched: a majority vote over the topic is far steadier than any one inquiry's
   score.  Answered topics, and topics smaller than ``min_size``, are dropped.
4. Zero-result help-center searches of the window are counted into the remaining
   topic they resemble most (cosine at least ``search_threshold``).  Searches never
   make a topic on their own: one search is no evidence of a recurring question.
5. Each remaining topic is described (:mod:`.describe`): title = the most central
   inquiry's most central sentence; examples; key terms; languages; channels; and
   the nearest article with its cosine, so an editor sees what comes closest.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.preprocessing import normalize

from . import describe
from .clustering import cluster_texts
from .matcher import ArticleMatcher, prepare
from .types import ArticleText, GapReport, GapTopic, InquiryText


def _check_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC)")


# Key terms are read from at most this many of a topic's most central inquiries: the
# core of a 10,000-inquiry topic says what it is about as well as all of it does.
TERM_MEMBERS = 2000


class GapMiner(BaseEstimator):
    """Find the most-asked unanswered questions of a time window.

    Parameters
    ----------
    days : int, default=14
        Window length; the window is ``[as_of - days, as_of]``.
    top : int, default=10
        Topics reported.
    distance : float, default=0.85
        Average-linkage cosine distance under which inquiries share a topic.
    coverage : float, default=0.4
        Share of confidently answered inquiries that makes a topic answered.
    min_size : int, default=2
        Smallest topic reported.
    search_threshold : float, default=0.35
        Cosine a zero-result search needs to count into a topic.
    n_examples, n_terms : int, default=3, 5
        Examples and key terms per topic.
    max_exact : int, default=5000
        Largest window clustered exactly (see :mod:`suggest.clustering`).
    random_state : int, default=0
        Seed for the approximate clustering of large windows.
    merge_similarity : float, default=1.0
        Topics whose centroids have at least this cosine are merged afterwards
        (:func:`suggest.clustering.merge_close`): one question asked in several wordings.
    """

    def __init__(self, days: int = 14, top: int = 10, distance: float = 0.85, coverage: float = 0.4,
                 min_size: int = 2, search_threshold: float = 0.35, n_examples: int = 3, n_terms: int = 5,
                 max_exact: int = 5000, random_state: int = 0, merge_similarity: float = 1.0) -> None:
        self.days = days
        self.top = top
        self.distance = distance
        self.coverage = coverage
        self.min_size = min_size
        self.search_threshold = search_threshold
        self.n_examples = n_examples
        self.n_terms = n_terms
        self.max_exact = max_exact
        self.random_state = random_state
        self.merge_similarity = merge_similarity

    def mine(self, inquiries: Sequence[InquiryText], articles: Sequence[ArticleText], *, as_of: datetime,
             matcher: ArticleMatcher | None = None,
             zero_result_searches: Sequence[tuple[str, datetime, str | None]] = (),
             progress: Callable[[str], None] | None = None) -> GapReport:
        """Return the top unanswered topics of the window ending at ``as_of``.

        Parameters
        ----------
        inquiries : sequence of InquiryText
            Any inquiries; those outside the window are ignored.
        articles : sequence of ArticleText
            Published articles (used to fit a matcher when none is given).
        as_of : datetime
            Timezone-aware end of the window (inclusive).
        matcher : ArticleMatcher, optional
            A fitted matcher; fitted here on ``articles`` and ``inquiries`` if None.
        zero_result_searches : sequence of (query, searched_at, language)
            Help-center searches that found nothing.
        progress : callable, optional
            Called with a short message at each stage.

        Returns
        -------
        GapReport
        """
        _check_aware(as_of, "as_of")
        say = progress or (lambda message: None)
        start = as_of - timedelta(days=self.days)
        window = [q for q in inquiries if start <= q.created_at <= as_of]
        report = GapReport(window_start=start, window_end=as_of, inquiries=len(window), topics=[])
        if not window:
            return report
        if matcher is None:
            say("fitting the article matcher")
            matcher = ArticleMatcher().fit(articles, inquiries)
        say(f"scoring {len(window)} inquiries against {len(matcher.slugs_)} articles")
        stored = self._stored_rows(window, matcher)
        saved = getattr(matcher, "history_confident_", None)
        if stored is not None:
            # Stored inquiries were analysed and scored by fit(): reuse rows, languages and confidence.
            X = matcher.history_matrix_[stored]
            languages = [matcher.history_languages_[r] for r in stored]
            prepared = _Prepared(window, languages)
        else:
            prepared = _Prepared(window, [q.language for q in window])
            prepared.compute_all()
            X, languages = matcher.vectorise(prepared.rows), prepared.languages
        if stored is not None and saved is not None and len(saved) == len(matcher.history_ids_):
            confident = np.asarray(saved)[stored]
        else:
            confident = matcher.confident(X, languages)
        keep = np.nonzero(X.getnnz(axis=1) > 0)[0]
        say(f"clustering {len(keep)} inquiries")
        labels = np.full(len(window), -1, dtype=np.int64)
        labels[keep] = cluster_texts(X[keep], distance=self.distance, max_exact=self.max_exact,
                                     random_state=self.random_state, merge_similarity=self.merge_similarity)
        groups = self._open_groups(labels, confident)
        say(f"{len(groups)} unanswered topics; describing the top {self.top}")
        if not groups:
            return report
        rows = np.repeat(np.arange(len(groups)), [len(g) for g in groups])
        cols = np.concatenate(groups) if groups else np.zeros(0, dtype=np.int64)
        member = sparse.csr_matrix((np.ones(len(cols), dtype=np.float32), (rows, cols)),
                                   shape=(len(groups), len(window)))
        centroids = normalize(member @ X).tocsr()
        searches = self._count_searches(zero_result_searches, start, as_of, matcher, centroids)
        order = sorted(range(len(groups)), key=lambda t: (-len(groups[t]), -searches[t], groups[t][0]))
        word_vec = matcher.features_.word_vectorizer_
        idf = {term: float(word_vec.idf_[j]) for term, j in word_vec.vocabulary_.items() if " " not in term}
        topics = [self._describe(rank, window, prepared, X, groups[t], np.asarray(centroids[t].todense()).ravel(),
                                 matcher, int(searches[t]), idf)
                  for rank, t in enumerate(order[: self.top], start=1)]
        return GapReport(window_start=start, window_end=as_of, inquiries=len(window), topics=topics)

    # ------------------------------------------------------------------ steps
    @staticmethod
    def _stored_rows(window: Sequence[InquiryText], matcher: ArticleMatcher) -> np.ndarray | None:
        """The matcher's history row of every window inquiry, or None when any is not stored there."""
        if len(getattr(matcher, "history_languages_", ())) != len(matcher.history_ids_):
            return None
        row_of = {qid: i for i, qid in enumerate(matcher.history_ids_)}
        stored = [row_of.get(str(q.id), -1) for q in window]
        if not stored or min(stored) < 0:
            return None
        return np.asarray(stored, dtype=np.int64)

    def _open_groups(self, labels: np.ndarray, confident: np.ndarray) -> list[list[int]]:
        """Member lists of the topics that are large enough and not answered."""
        members: dict[int, list[int]] = {}
        for i, label in enumerate(labels):
            if label >= 0:
                members.setdefault(int(label), []).append(i)
        return [m for m in members.values()
                if len(m) >= self.min_size and confident[m].mean() < self.coverage]

    def _count_searches(self, searches: Sequence[tuple[str, datetime, str | None]], start: datetime,
                        end: datetime, matcher: ArticleMatcher, centroids: sparse.csr_matrix) -> np.ndarray:
        counts = np.zeros(centroids.shape[0], dtype=np.int64)
        inside = [(text, lang) for text, at, lang in searches if start <= at <= end and text.strip()]
        if not inside or centroids.shape[0] == 0:
            return counts
        Q = matcher.vectorise([prepare(t, lang) for t, lang in inside])
        sims = (Q @ centroids.T).toarray()
        best = sims.argmax(axis=1)
        for row, col in enumerate(best):
            if sims[row, col] >= self.search_threshold:
                counts[col] += 1
        return counts

    def _describe(self, rank: int, window: Sequence[InquiryText], prepared: "_Prepared", X: sparse.csr_matrix,
                  members: list[int], centroid: np.ndarray, matcher: ArticleMatcher, searches: int,
                  idf: dict[str, float]) -> GapTopic:
        order = [members[i] for i in describe.central_order(X[members], centroid)]
        texts = [q.text for q in window]

        def vectorise(sentences: list[str]) -> sparse.csr_matrix:
            return matcher.vectorise([prepare(s, prepared.languages[order[0]]) for s in sentences])

        title = describe.central_question(texts, order, centroid, vectorise)
        nearest, similarity = None, 0.0
        if matcher.article_matrix_.shape[0]:
            sims = np.asarray(matcher.article_matrix_ @ centroid).ravel()
            j = int(np.argmax(sims))
            nearest, similarity = matcher.slugs_[j], round(float(sims[j]), 4)
        return GapTopic(
            rank=rank, title=title, size=len(members),
            inquiry_ids=[str(window[i].id) for i in sorted(members, key=lambda i: (window[i].created_at, i))],
            examples=describe.examples(texts, order[1:], self.n_examples, title),
            terms=describe.key_terms([prepared[i] for i in order[:TERM_MEMBERS]], idf, self.n_terms),
            languages=dict(sorted(Counter(prepared.languages[i] for i in members).items())),
            channels=dict(sorted(Counter(window[i].channel or "unknown" for i in members).items())),
            nearest_article=nearest, nearest_similarity=similarity, searches=searches)


class _Prepared:
    """The window's texts through :func:`~suggest.matcher.prepare`, analysed only when asked for.

    Mining reuses the fit's rows for stored inquiries; only the members of the described
    topics need their words again (key terms), not the whole window.
    """

    def __init__(self, window: Sequence[InquiryText], languages: Sequence[str | None]) -> None:
        self._window = window
        self._rows: dict[int, tuple[str, str, str]] = {}
        self.languages = list(languages)

    def __getitem__(self, i: int) -> tuple[str, str, str]:
        row = self._rows.get(i)
        if row is None:
            row = self._rows[i] = prepare(self._window[i].text, self.languages[i])
            self.languages[i] = row[2]
        return row

    def compute_all(self) -> None:
        """Analyse every text (and so detect every missing language)."""
        for i in range(len(self._window)):
            self[i]

    @property
    def rows(self) -> list[tuple[str, str, str]]:
        return [self[i] for i in range(len(self._window))]
