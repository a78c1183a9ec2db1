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
3. Zero-result help-center searches of the window, grouped by their words, are joined to
   the topic they resemble most (cosine at least ``search_threshold``).  They are asks
   that the help center left unanswered, so they count in the next step.
4. A topic is answered when at least ``coverage`` of its asks (inquiries plus joined
   searches) are confidently matched inquiries: a majority vote over the topic is far
   steadier than any one inquiry's score, and a question whose words the help center
   cannot find is not answered because the suggester is sure of a neighbouring article
   (measured on the demo: gift-wrapping questions confidently matched to gift cards, while
   "lahjapaketointi" found nothing five times).  Answered topics, and topics smaller than
   ``min_size``, are dropped; the searches joined to them are returned apart.  The open
   topics' searches are evidence for them (``GapTopic.searches``; topics rank by
   inquiries plus joined searches); searches joined to no open topic are returned apart
   (``GapReport.searches``), for the editor's one ranked list: one search is no evidence
   of a recurring question asked by mail.

With the semantic signal (the matcher was fitted with encoder vectors, see
:mod:`suggest.semantic`), steps 2 and 4 compare texts by ``(1 - semantic_share) *
TF-IDF cosine + semantic_share * encoder cosine`` (one row per text: the two unit
rows side by side, scaled by the square roots): the encoder is multilingual, so one
question asked in Finnish and in Swedish becomes one topic.
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
    semantic_share : float, default=0.0
        Share of the encoder cosine in the similarity used to cluster (measured: 0.25 and 0.5
        merged neighbouring intents of the English sets, bitext gap recall 0.625 -> 0.5).
    search_share : float, default=0.5
        Share of the encoder cosine in the similarity that joins a search to a topic.
    language_merge : float, default=0.3
        Open topics of different languages whose encoder centroids are each other's nearest
        across languages with at least this cosine are one topic (1.0: never merged).
    """

    def __init__(self, days: int = 14, top: int = 10, distance: float = 0.85, coverage: float = 0.4,
                 min_size: int = 2, search_threshold: float = 0.35, n_examples: int = 3, n_terms: int = 5,
                 max_exact: int = 5000, random_state: int = 0, merge_similarity: float = 1.0,
                 semantic_share: float = 0.0, search_share: float = 0.5, language_merge: float = 0.3) -> None:
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
        self.semantic_share = semantic_share
        self.search_share = search_share
        self.language_merge = language_merge

    def mine(self, inquiries: Sequence[InquiryText], articles: Sequence[ArticleText], *, as_of: datetime,
             matcher: ArticleMatcher | None = None,
             zero_result_searches: Sequence[tuple[str, datetime, str | None]] = (),
             progress: Callable[[str], None] | None = None, vectors: np.ndarray | None = None,
             search_vectors: Callable[[list[str]], np.ndarray | None] | None = None) -> GapReport:
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
        vectors : numpy.ndarray, (len(inquiries), d), optional
            Encoder rows of ``inquiries`` not stored in the matcher (stored ones use the fit's).
        search_vectors : callable, optional
            Encoder rows for a list of distinct search texts (None: searches on TF-IDF alone).

        Returns
        -------
        GapReport
        """
        _check_aware(as_of, "as_of")
        say = progress or (lambda message: None)
        start = as_of - timedelta(days=self.days)
        window = [q for q in inquiries if start <= q.created_at <= as_of]
        if not window:
            return GapReport(window_start=start, window_end=as_of, inquiries=0, topics=[],
                             searches=_distinct(zero_result_searches, start, as_of))
        if matcher is None:
            say("fitting the article matcher")
            matcher = ArticleMatcher().fit(articles, inquiries)
        say(f"scoring {len(window)} inquiries against {len(matcher.slugs_)} articles")
        stored = self._stored_rows(window, matcher)
        saved = getattr(matcher, "history_confident_", None)
        Z = None
        if stored is not None:
            # Stored inquiries were analysed and scored by fit(): reuse rows, languages and confidence.
            X = matcher.history_matrix_[stored]
            languages = [matcher.history_languages_[r] for r in stored]
            prepared = _Prepared(window, languages)
            if getattr(matcher, "uses_semantic", False):
                Z = np.asarray(matcher.history_semantic_[stored], dtype=np.float32)
        else:
            prepared = _Prepared(window, [q.language for q in window])
            prepared.compute_all()
            X, languages = matcher.vectorise(prepared.rows), prepared.languages
            if vectors is not None and getattr(matcher, "uses_semantic", False):
                in_window = [i for i, q in enumerate(inquiries) if start <= q.created_at <= as_of]
                Z = matcher.centre_vectors(np.asarray(vectors)[in_window], languages)
        if stored is not None and saved is not None and len(saved) == len(matcher.history_ids_):
            confident = np.asarray(saved)[stored]
        else:
            confident = matcher.confident(X, languages, Z)
        joint_rows = self._joint_rows(X, Z)
        keep = np.nonzero(X.getnnz(axis=1) > 0)[0]
        say(f"clustering {len(keep)} inquiries")
        labels = np.full(len(window), -1, dtype=np.int64)
        labels[keep] = cluster_texts(joint_rows[keep], distance=self.distance, max_exact=self.max_exact,
                                     random_state=self.random_state, merge_similarity=self.merge_similarity)
        searches = _SearchRows(self, zero_result_searches, start, as_of, matcher,
                               search_vectors if Z is not None else None)
        groups, answered = self._open_topics(self._clusters(labels), confident, X, Z, searches)
        if Z is not None and self.language_merge < 1.0:
            groups = merge_across_languages(groups, Z, languages, self.language_merge)
        say(f"{len(groups)} unanswered topics; describing the top {self.top}")
        if not groups:
            return GapReport(window_start=start, window_end=as_of, inquiries=len(window), topics=[],
                             searches=_distinct(zero_result_searches, start, as_of))
        centroids, joint = self._centres(groups, X, Z, len(window))
        # a search asking an answered topic's question stays apart; the others join the open topics
        joined, unmatched = searches.join(joint, self.search_threshold, apart=answered)
        counts = [sum(n for _, n in found) for found in joined]
        order = sorted(range(len(groups)), key=lambda t: (-(len(groups[t]) + counts[t]), -counts[t], groups[t][0]))
        word_vec = matcher.features_.word_vectorizer_
        idf = {term: float(word_vec.idf_[j]) for term, j in word_vec.vocabulary_.items() if " " not in term}
        topics = [self._describe(rank, window, prepared, X, groups[t], np.asarray(centroids[t].todense()).ravel(),
                                 matcher, tuple(joined[t]), idf)
                  for rank, t in enumerate(order[: self.top], start=1)]
        return GapReport(window_start=start, window_end=as_of, inquiries=len(window), topics=topics,
                         searches=unmatched)

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

    def _open_topics(self, clusters: list[list[int]], confident: np.ndarray, X: sparse.csr_matrix,
                     Z: np.ndarray | None, searches: "_SearchRows") -> tuple[list[list[int]], set[int]]:
        """The clusters not answered, counting the zero-result searches joined to each as unanswered asks;
        and the searches joined to the answered ones (their indices in ``searches.distinct``)."""
        joined: list[list[int]] = [[] for _ in clusters]
        if searches.distinct and clusters:
            joined = searches.nearest(self._centres(clusters, X, Z, confident.shape[0])[1], self.search_threshold)
        is_open = [confident[g].sum() / (len(g) + sum(searches.distinct[i][1] for i in found)) < self.coverage
                   for g, found in zip(clusters, joined)]
        answered = {i for found, keep in zip(joined, is_open) if not keep for i in found}
        return [g for g, keep in zip(clusters, is_open) if keep], answered

    def _clusters(self, labels: np.ndarray) -> list[list[int]]:
        """Member lists of the clusters large enough to be a topic."""
        members: dict[int, list[int]] = {}
        for i, label in enumerate(labels):
            if label >= 0:
                members.setdefault(int(label), []).append(i)
        return [m for m in members.values() if len(m) >= self.min_size]

    def _centres(self, groups: list[list[int]], X: sparse.csr_matrix, Z: np.ndarray | None,
                 n: int) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
        """Each group's TF-IDF centroid, and its rows for joining searches.

        Each part of a topic's centre is a unit vector of its own, so a search's similarity is the
        documented mix of the two cosines, whichever part its members agree on more.
        """
        rows = np.repeat(np.arange(len(groups)), [len(g) for g in groups])
        cols = np.concatenate(groups) if groups else np.zeros(0, dtype=np.int64)
        member = sparse.csr_matrix((np.ones(len(cols), dtype=np.float32), (rows, cols)), shape=(len(groups), n))
        centroids = normalize(member @ X).tocsr()
        return centroids, self._joint_rows(centroids, None if Z is None else normalize(member @ Z), self.search_share)

    def _joint_rows(self, X: sparse.csr_matrix, Z: np.ndarray | None, share: float | None = None) -> sparse.csr_matrix:
        """Rows whose dot product is ``(1 - s) * TF-IDF cosine + s * encoder cosine`` (X alone without Z).

        Not renormalised: a text none of whose words the shop has used (a zero TF-IDF row) keeps only
        the encoder's share, instead of being joined on the encoder alone (measured on the demo: the
        one-word search "presentinslagning" was joined to a topic about furniture assembly).
        """
        s = float(self.semantic_share if share is None else share)
        if Z is None or not s:
            return X
        return sparse.hstack([np.sqrt(1.0 - s) * X, sparse.csr_matrix(np.sqrt(s) * Z.astype(np.float32))],
                             format="csr", dtype=np.float32)

    def _describe(self, rank: int, window: Sequence[InquiryText], prepared: "_Prepared", X: sparse.csr_matrix,
                  members: list[int], centroid: np.ndarray, matcher: ArticleMatcher,
                  searches: tuple[tuple[str, int], ...], idf: dict[str, float]) -> GapTopic:
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


def merge_across_languages(groups: list[list[int]], Z: np.ndarray, languages: Sequence[str],
                           similarity: float) -> list[list[int]]:
    """Join open topics asked in different languages: one question, one topic.

    Each topic's language is its members' most common one; a topic is joined to the topic of
    another language whose encoder centroid is nearest to its own, when that one's nearest in
    the first topic's language is the first topic (mutual nearest neighbours) and the cosine is at
    least ``similarity``.  Topics of one language are never joined here (TF-IDF clustering
    decides those).
    """
    if len(groups) < 2:
        return groups
    langs = [Counter(languages[i] for i in g).most_common(1)[0][0] for g in groups]
    if len(set(langs)) < 2:
        return groups
    C = normalize(np.vstack([Z[g].mean(axis=0) for g in groups]))
    S = C @ C.T
    parent = list(range(len(groups)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def nearest(i: int, language: str) -> int:
        cands = [j for j in range(len(groups)) if langs[j] == language]
        return max(cands, key=lambda j: (S[i, j], -j))

    for i in range(len(groups)):
        for language in sorted(set(langs) - {langs[i]}):
            j = nearest(i, language)
            if S[i, j] >= similarity and nearest(j, langs[i]) == i:
                parent[root(j)] = root(i)
    merged: dict[int, list[int]] = {}
    for i, g in enumerate(groups):
        merged.setdefault(root(i), []).extend(g)
    return [sorted(g) for g in merged.values()]


class _SearchRows:
    """The window's distinct zero-result searches, analysed and embedded once, and their joins to topics.

    A search's similarity to a topic is ``(1 - search_share) * TF-IDF cosine + search_share * encoder
    cosine`` (see :meth:`GapMiner._joint_rows`); it joins the most similar topic when that reaches the
    threshold.
    """

    def __init__(self, miner: GapMiner, searches: Sequence[tuple[str, datetime, str | None]], start: datetime,
                 end: datetime, matcher: ArticleMatcher,
                 search_vectors: Callable[[list[str]], np.ndarray | None] | None) -> None:
        self.distinct = _distinct(searches, start, end)
        self.rows: sparse.csr_matrix | None = None
        if not self.distinct:
            return
        language = {_key(text): lang for text, _, lang in searches if lang}
        prepared = [prepare(t, language.get(_key(t))) for t, _ in self.distinct]
        Z = None
        if search_vectors is not None:
            raw = search_vectors([t for t, _ in self.distinct])
            Z = matcher.centre_vectors(raw, [r[2] for r in prepared]) if raw is not None else None
        self.rows = miner._joint_rows(matcher.vectorise(prepared), Z, miner.search_share)

    def nearest(self, centres: sparse.csr_matrix, threshold: float) -> list[list[int]]:
        """Per topic (row of ``centres``), the indices of the searches joined to it."""
        joined: list[list[int]] = [[] for _ in range(centres.shape[0])]
        if self.rows is None or centres.shape[0] == 0:
            return joined
        sims = (self.rows @ centres.T).toarray()
        for i, row in enumerate(sims):
            col = int(row.argmax())
            if row[col] >= threshold:
                joined[col].append(i)
        return joined

    def join(self, centres: sparse.csr_matrix, threshold: float, apart: set[int]
             ) -> tuple[list[list[tuple[str, int]]], list[tuple[str, int]]]:
        """Per topic, the searches joined to it (words, count); and the others, most first.

        The searches in ``apart`` join no topic (they ask a question an article answers).
        """
        joined = [[i for i in found if i not in apart] for found in self.nearest(centres, threshold)]
        taken = {i for found in joined for i in found}
        return ([[self.distinct[i] for i in found] for found in joined],
                [pair for i, pair in enumerate(self.distinct) if i not in taken])


def _key(text: str) -> str:
    return " ".join(text.casefold().split())


def _distinct(searches: Sequence[tuple[str, datetime, str | None]], start: datetime,
              end: datetime) -> list[tuple[str, int]]:
    """The window's searches grouped by their words (case and spacing ignored): (first wording, count), most first."""
    counts: Counter[str] = Counter()
    wording: dict[str, str] = {}
    for text, at, _ in searches:
        if start <= at <= end and text.strip():
            key = _key(text)
            counts[key] += 1
            wording.setdefault(key, " ".join(text.split()))
    return [(wording[k], n) for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


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
