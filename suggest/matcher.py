"""Ranking knowledge-base articles for a customer inquiry.

Contract: ``ArticleMatcher(**params).fit(articles, history)`` returns the fitted
matcher; :meth:`ArticleMatcher.rank` / :meth:`ArticleMatcher.rank_many` return, for
each text, the top ``k`` articles best first (always ``k`` when that many articles
exist) and ``confident``, the decision shown to a customer as "this answers your
question".  Results depend only on the fitted data and the parameters.

Method (all TF-IDF, no learned weights):

1. **Features.**  Texts are cleaned and stemmed per language (:mod:`.normalise`);
   stems 1-2 grams plus, on short texts only, character n-grams (:mod:`.features`).
   IDF is fitted on titles, bodies *and* the stored inquiries, so rare words of the
   shop's real traffic weigh what they weigh there.
2. **Articles.**  An article's vector is ``title_weight * title + (1 - title_weight)
   * body`` (both unit vectors), renormalised: a short title gets as much weight as
   a long body, i.e. far more per word.
3. **Self-trained centroids** (:mod:`.selftrain`).  Each article vector is the
   anchor of a centroid; the stored inquiries that a centroid confidently wins pull
   it towards their mean, agents' linked answers (``article_slugs``) pull it towards
   theirs; a few rounds.  Transductive and linear in the inquiries: unlabelled
   paraphrases teach the article the customers' words.
4. **Ranking** mixes the cosine with the self-trained centroid and the best cosine
   with one of the article's passages (:mod:`.passages`: title, list items, sentences),
   ``(1 - passage_weight) * centroid + passage_weight * max passage``: two sparse
   products and a segment max (no history consulted at query time); articles in
   another language than the text's are down-weighted.  The same score drives the
   self-training assignment.
5. **Confidence** (:mod:`.calibration`): the same rule as the assignment in step 3,
   on the best score relative to the median best score of the shop's stored
   inquiries and on its lead over the runner-up; not tuned per data set.
6. **Translations** (:attr:`ArticleText.group`) are one article where meaning counts: they share
   the semantic centroid, and the runner-up of the margin rule is the best article outside the
   best one's group.  TF-IDF centroids stay per language.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.preprocessing import normalize
from sklearn.utils.validation import check_is_fitted

from .calibration import confident_mask, is_confident, score_scale
from .features import NO_CHARS, TextFeatures
from .language import detect_language
from .matcher_files import MatcherFiles
from .normalise import analyse, article_heading
from .passages import split_passages
from .selftrain import (LanguageCodes, expand_centroids, group_codes, mix_semantic, nontrivial, passage_maxima,
                        score_block, top2_scores)
from .semantic_signal import SemanticSignal
from .types import ArticleText, InquiryText, Ranking, Suggestion


def prepare(text: str, language: str | None, *, email: bool = True, chars: bool = True) -> tuple[str, str, str]:
    """Analyse one text into the (stems, words, language) triple that the features read.

    With ``chars=False`` the words feed only the truncation tokens, not character n-grams.
    """
    lang = language or detect_language(text)
    stems, words = analyse(text, lang, email=email)
    return stems, words if chars else NO_CHARS + words, lang


class ArticleMatcher(SemanticSignal, MatcherFiles, BaseEstimator):
    """TF-IDF article ranking against article centroids self-trained on the inquiry history.

    Parameters
    ----------
    title_weight : float, default=0.4
        Share of the title in an article's vector (the body has the rest).
    passage_weight : float, default=0.2
        Share of the best passage's cosine in an article's score (0 disables passages).
    passage_chars : bool, default=False
        Character n-grams on body passages too (costly on long bodies; measured: no gain).
    prefix_length : int, default=6
        Finnish words of ``prefix_length + 3`` letters or more also yield a truncation token
        of their first ``prefix_length`` letters (see :mod:`suggest.features`); 0 disables.
    char_weights : dict or None, default=None
        Character n-gram share per language (see :class:`~suggest.features.TextFeatures`).
    expansion : float, default=1.0
        Weight of the mean direction of the inquiries a centroid confidently wins
        (``beta`` in :mod:`suggest.selftrain`); the article vector has weight 1.
    label_weight : float, default=1.0
        Weight of the mean direction of the inquiries agents linked to the article.
    shrink : float, default=3.0
        Members an article needs for half of ``expansion`` / ``label_weight``.
    n_rounds : int, default=3
        Self-training rounds.
    max_selftrain_rows : int or None, default=None
        Unlabelled stored inquiries the rounds use at most (an even sample; every
        agent-linked one is kept); None uses all.  A knob for very large shops: centroids
        need their members (measured: half of the eval sets' inquiries cost clinc150 two
        of its nine found gaps).
    max_centroid_terms : int or None, default=1000
        Features kept of the mean of an article's members (:func:`suggest.selftrain.expand_centroids`);
        the article's own vector is never cut.
    assign_score, assign_margin : float, default=1.25, 0.3
        The confidence rule used to assign a stored inquiry to a centroid while
        self-training (stricter than the customer-facing one: a wrong member moves
        the centroid for every later text).
    other_language_weight : float, default=0.5
        Factor on scores of articles in another language than the text's.
    min_score : float, default=0.75
        Confidence floor, relative to ``score_scale_``.
    min_margin : float, default=0.15
        Lead over the runner-up needed for confidence, relative to the best score
        (see :func:`suggest.calibration.is_confident`).
    semantic_weight : float, default=0.5
        Share of the sentence-encoder cosine in the score when vectors are given to
        :meth:`fit` (see :mod:`suggest.semantic`); 0 ignores them.
    semantic_agree : bool, default=True
        With the semantic signal, ``confident`` also needs the encoder alone to put the same
        article first: two independent signals agreeing (a confident wrong answer reaches a
        customer; a missed one reaches an agent).
    selftrain_agree : bool, default=True
        With the semantic signal, self-training assigns a stored inquiry to an article only when
        the encoder alone also puts that article first: a new question worded near an article
        (gift wrapping near gift cards) is not absorbed into it.

    Attributes
    ----------
    features_ : TextFeatures
    slugs_ : list of str
    article_languages_ : list of str
    article_groups_ : numpy.ndarray of int, (n_articles,)
        Translation group of each article (:attr:`ArticleText.group`); translations share the
        semantic centroid, and the encoder's agreement is on the group.
    article_matrix_ : scipy.sparse.csr_matrix, (n_articles, n_features)
        Self-trained article centroids (unit rows).
    history_ids_ : list of str
    history_languages_ : list of str
        Language of each stored inquiry (given or detected).
    history_matrix_ : scipy.sparse.csr_matrix, (n_history, n_features)
        Unit rows of the stored inquiries.
    history_assigned_ : numpy.ndarray of int, (n_history,)
        Article each stored inquiry was confidently assigned to, -1 when none.
    score_scale_ : float
        Median best score of the stored inquiries (see :func:`suggest.calibration.score_scale`).
    passage_matrix_ : scipy.sparse.csr_matrix, (n_passages, n_features)
        Unit passage rows sorted by article; ``passage_starts_`` holds each article's first row.
    history_confident_ : numpy.ndarray of bool, (n_history,)
        The confidence decision for each stored inquiry, reused by :class:`~suggest.gaps.GapMiner`.
    """

    def __init__(self, title_weight: float = 0.4, passage_weight: float = 0.2, passage_chars: bool = False,
                 prefix_length: int = 6, char_weights: dict[str, float] | None = None,
                 expansion: float = 1.0, label_weight: float = 1.0, shrink: float = 3.0, n_rounds: int = 3,
                 max_selftrain_rows: int | None = None, max_centroid_terms: int | None = 1000,
                 assign_score: float = 1.25, assign_margin: float = 0.3,
                 other_language_weight: float = 0.5, min_score: float = 0.75, min_margin: float = 0.15,
                 semantic_weight: float = 0.5, semantic_agree: bool = True, selftrain_agree: bool = True) -> None:
        self.title_weight = title_weight
        self.passage_weight = passage_weight
        self.passage_chars = passage_chars
        self.prefix_length = prefix_length
        self.char_weights = char_weights
        self.expansion = expansion
        self.label_weight = label_weight
        self.shrink = shrink
        self.n_rounds = n_rounds
        self.max_selftrain_rows = max_selftrain_rows
        self.max_centroid_terms = max_centroid_terms
        self.assign_score = assign_score
        self.assign_margin = assign_margin
        self.other_language_weight = other_language_weight
        self.min_score = min_score
        self.min_margin = min_margin
        self.semantic_weight = semantic_weight
        self.semantic_agree = semantic_agree
        self.selftrain_agree = selftrain_agree

    # ------------------------------------------------------------------ fitting
    def fit(self, articles: Sequence[ArticleText], history: Sequence[InquiryText] = (), *,
            article_vectors: np.ndarray | None = None, history_vectors: np.ndarray | None = None,
            encoder_name: str | None = None) -> "ArticleMatcher":
        """Learn the vocabulary, the article centroids and the score scale.

        Parameters
        ----------
        articles : sequence of ArticleText
            Published articles.
        history : sequence of InquiryText, default=()
            Stored inquiries; those with ``article_slugs`` are agent-labelled, the
            others are used transductively (IDF, self-training).
        article_vectors, history_vectors : numpy.ndarray, optional
            Sentence-encoder rows, one per article (:func:`suggest.semantic.article_input`)
            and per stored inquiry; with both (and ``semantic_weight > 0``) the semantic
            signal is mixed into every score.
        encoder_name : str, optional
            The encoder that made them (kept with the model, see :attr:`encoder_name_`).

        Returns
        -------
        self : ArticleMatcher
        """
        titles = [prepare(article_heading(a.title, a.tags), a.language, email=False) for a in articles]
        bodies = [prepare(a.body, a.language, email=False, chars=False) for a in articles]
        hist = [prepare(q.text, q.language) for q in history]
        self.features_ = TextFeatures(char_weights=self.char_weights, prefix_length=self.prefix_length)
        matrix = self.features_.fit_transform(titles + bodies + hist)
        self.slugs_ = [a.slug for a in articles]
        self.article_languages_ = [a.language for a in articles]
        self.set_translation_groups(group_codes([a.group for a in articles]))
        self._language_codes = LanguageCodes(self.article_languages_)
        width = self.features_.n_features_out_
        w = float(self.title_weight)
        if articles:
            T = normalize(matrix[: len(titles)])
            B = normalize(matrix[len(titles): len(titles) + len(bodies)])
            anchors = normalize(w * T + (1.0 - w) * B).astype(np.float32).tocsr()
        else:
            anchors = sparse.csr_matrix((0, width), dtype=np.float32)
        self._fit_passages(articles, titles)
        self.history_ids_ = [str(q.id) for q in history]
        self.history_matrix_ = _unit_rows(matrix[len(titles) + len(bodies):])
        index = {slug: j for j, slug in enumerate(self.slugs_)}
        pairs = [(i, index[slug]) for i, q in enumerate(history) for slug in q.article_slugs if slug in index]
        rows, cols = (list(x) for x in zip(*pairs)) if pairs else ([], [])
        labels = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                                   shape=(len(hist), len(self.slugs_)))
        hist_langs = [h[2] for h in hist]
        self.history_languages_ = hist_langs
        pmax = passage_maxima(self.history_matrix_, self._passages(), len(self.slugs_))
        semantic = self._fit_semantic(anchors, hist_langs, pmax, article_vectors, history_vectors, encoder_name)
        self.article_matrix_, self.history_assigned_ = expand_centroids(
            anchors, self.history_matrix_, hist_langs, self.article_languages_, labels,
            beta=self.expansion, gamma=self.label_weight, shrink=self.shrink, n_rounds=self.n_rounds,
            min_score=self.assign_score, min_margin=self.assign_margin, other_language_weight=self.other_language_weight,
            passages=self._passages(), passage_max=pmax, max_rows=self.max_selftrain_rows,
            max_terms=self.max_centroid_terms, semantic=semantic, groups=self.translation_groups())
        self.semantic_centroids_ = semantic.centroids if semantic is not None else None
        self._prepare_serving()
        _, best, second = top2_scores(self.history_matrix_, self.centroids_t_, hist_langs, self.language_codes(),
                                      self.other_language_weight, passages=self._passages(), passage_max=pmax,
                                      groups=self.translation_groups())
        # Texts without a vector yet (the contact form while typing) are ranked on TF-IDF alone,
        # against this scale; texts with one against the mixed score's scale.
        self.tfidf_scale_ = score_scale(best)
        idx = None
        if semantic is not None:
            idx, best, second = top2_scores(self.history_matrix_, self.centroids_t_, hist_langs,
                                            self.language_codes(), self.other_language_weight,
                                            passages=self._passages(), passage_max=pmax,
                                            semantic=self._semantic_part(self.history_semantic_),
                                            groups=self.translation_groups())
        self.score_scale_ = score_scale(best)
        # Kept for GapMiner: the stored inquiries' confidence without a second product.
        self.history_confident_ = confident_mask(best, second, self.score_scale_, self.min_score, self.min_margin)
        if idx is not None:
            self.history_confident_ &= self.semantic_agrees(self.history_semantic_, hist_langs, idx)
        return self

    def _fit_passages(self, articles: Sequence[ArticleText], titles: list) -> None:
        """Passage rows sorted by article (title first, then the body's passages) and each article's first row."""
        prepared, starts = [], []
        for article, title in zip(articles, titles):
            starts.append(len(prepared))
            prepared.append(title)
            prepared += [prepare(p, article.language, email=False, chars=self.passage_chars)
                         for p in split_passages(article.body)]
        self.passage_matrix_ = self.vectorise(prepared)
        self.passage_starts_ = np.asarray(starts, dtype=np.int64)

    def _passages(self):
        if not self.passage_weight or not self.slugs_:
            return None
        if getattr(self, "passages_t_", None) is None or self.passages_t_.shape[1] != self.passage_matrix_.shape[0]:
            self.passages_t_ = self.passage_matrix_.T.tocsr()
        return (self.passages_t_, self.passage_starts_, float(self.passage_weight))

    def language_codes(self) -> LanguageCodes:
        """The articles' languages as codes, built once per fit (or load)."""
        return self._language_codes

    def set_translation_groups(self, groups: np.ndarray) -> None:
        """Set :attr:`article_groups_` (and whether any group has more than one article)."""
        self.article_groups_ = np.asarray(groups, dtype=np.int64)
        self._translation_groups = nontrivial(self.article_groups_)
        self._largest_group = int(np.bincount(self.article_groups_).max()) if self.article_groups_.size else 1

    def translation_groups(self) -> np.ndarray | None:
        """The articles' translation groups, or None when no article has a translation (found once per fit or load)."""
        return self._translation_groups

    def _prepare_serving(self) -> None:
        if getattr(self, "_language_codes", None) is None:  # a loaded matcher
            self._language_codes = LanguageCodes(self.article_languages_)
        self.passages_t_ = None
        self._semantic_t = None
        self._passages()
        self.centroids_t_ = self.article_matrix_.T.tocsr()

    # ------------------------------------------------------------------ scoring
    def top2(self, X: sparse.csr_matrix, languages: Sequence[str], Z: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Best article index, best score and runner-up score for vectorised texts (``Z``: centred encoder rows)."""
        check_is_fitted(self, "centroids_t_")
        return top2_scores(X, self.centroids_t_, languages, self.language_codes(),
                           self.other_language_weight, passages=self._passages(), semantic=self._semantic_part(Z),
                           groups=self.translation_groups())

    def scores(self, X: sparse.csr_matrix, languages: Sequence[str], Z: np.ndarray | None = None) -> np.ndarray:
        """Dense article scores ``(n_texts, n_articles)``, other languages down-weighted.

        ``Z`` (centred encoder rows, :meth:`centre_vectors`) mixes in the semantic signal.
        """
        check_is_fitted(self, "centroids_t_")
        S = np.asarray(score_block(X, self.centroids_t_, self._passages()), dtype=np.float32)
        part = self._semantic_part(Z)
        if part is not None:
            S = mix_semantic(S, *part)
        if self.other_language_weight != 1.0 and S.size:
            other = self.language_codes().other(list(languages))
            S[other] *= self.other_language_weight
        return S

    def confident(self, X: sparse.csr_matrix, languages: Sequence[str], Z: np.ndarray | None = None) -> np.ndarray:
        """The confidence decision for vectorised texts (see :meth:`is_confident`)."""
        idx, best, second = self.top2(X, languages, Z)
        if self._semantic_part(Z) is None:
            return confident_mask(best, second, self.tfidf_scale_, self.min_score, self.min_margin)
        return (confident_mask(best, second, self.score_scale_, self.min_score, self.min_margin)
                & self.semantic_agrees(Z, languages, idx))

    def transform_texts(self, texts: Sequence[str], languages: Sequence[str | None] | None = None
                        ) -> tuple[sparse.csr_matrix, list[str]]:
        """Vectorise inquiry texts; returns (unit rows, languages used)."""
        check_is_fitted(self, "article_matrix_")
        langs = list(languages) if languages is not None else [None] * len(texts)
        prepared = [prepare(t, lang) for t, lang in zip(texts, langs)]
        return self.vectorise(prepared), [p[2] for p in prepared]

    def vectorise(self, prepared: Sequence[tuple[str, str, str]]) -> sparse.csr_matrix:
        """Unit feature rows for texts already passed through :func:`prepare`."""
        check_is_fitted(self, "features_")
        if not prepared:
            return sparse.csr_matrix((0, self.features_.n_features_out_), dtype=np.float32)
        return _unit_rows(self.features_.transform(prepared))

    def rank_many(self, texts: Sequence[str], *, k: int = 5,
                  languages: Sequence[str | None] | None = None, vectors: np.ndarray | None = None) -> list[Ranking]:
        """Rank articles for many texts at once (one sparse product per chunk).

        Parameters
        ----------
        texts : sequence of str
        k : int, default=5
            Suggestions per text.
        languages : sequence of str or None, optional
            Language per text; detected where None.
        vectors : numpy.ndarray, (n_texts, d), optional
            The texts' sentence-encoder rows (as stored); without them, or when the model was
            fitted without the encoder, the texts are ranked on TF-IDF alone (and judged
            against the TF-IDF scale).

        Returns
        -------
        list of Ranking
            In input order.
        """
        X, langs = self.transform_texts(texts, languages)
        Z = self.centre_vectors(vectors, langs)
        scale = self.score_scale_ if Z is not None else self.tfidf_scale_
        n_art = len(self.slugs_)
        groups = self.translation_groups()
        # one suggestion per translation group: enough candidates that k groups are among them
        kk = min(max(k, 2) * (self._largest_group if groups is not None else 1), n_art)
        out = []
        for start in range(0, X.shape[0], 256):
            Zc = None if Z is None else Z[start:start + 256]
            S = self.scores(X[start:start + 256], langs[start:start + 256], Zc)
            agree = self.semantic_agrees(Zc, langs[start:start + 256], S.argmax(axis=1)) if S.size else []
            for row, agreed in zip(S, agree):
                if kk < n_art:
                    part = np.argpartition(-row, kk - 1)[:kk]
                else:
                    part = np.arange(n_art)
                order = part[np.lexsort((part, -row[part]))]
                if groups is not None:  # the best-scored text of each group: mostly the text's own language
                    order = _first_of_each_group(order, groups)
                vals = [max(float(row[j]), 0.0) for j in order]
                top = [Suggestion(self.slugs_[j], round(v, 4)) for j, v in zip(order[:k], vals[:k])]
                second = vals[1] if len(vals) > 1 else 0.0
                if groups is not None and len(vals) < 2:  # a translation of the best is not a rival
                    second = _runner_up(row, order, vals, groups)
                confident = bool(top) and bool(agreed) and is_confident(vals[0], second, scale, self.min_score,
                                                                        self.min_margin)
                out.append(Ranking(suggestions=top, confident=confident))
        return out

    def is_confident(self, best: float, second: float) -> bool:
        """The product's "this answers your question" rule for one ranking's two best scores."""
        check_is_fitted(self, "score_scale_")
        return is_confident(best, second, self.score_scale_, self.min_score, self.min_margin)

    def rank(self, text: str, *, k: int = 5, language: str | None = None, vector: np.ndarray | None = None) -> Ranking:
        """Rank articles for one text; see :meth:`rank_many`."""
        return self.rank_many([text], k=k, languages=[language],
                              vectors=None if vector is None else np.asarray(vector)[None, :])[0]


def _first_of_each_group(order: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """``order`` (best first) keeping only the first article of each translation group."""
    _, first = np.unique(groups[order], return_index=True)
    return order[np.sort(first)]


def _runner_up(row: np.ndarray, order: np.ndarray, vals: list[float], groups: np.ndarray) -> float:
    """The best score outside the first article's translation group (from the top ``order`` when it is there)."""
    first = groups[order[0]]
    for j, value in zip(order[1:], vals[1:]):
        if groups[j] != first:
            return value
    rivals = row[groups != first]
    return max(float(rivals.max()), 0.0) if rivals.size else 0.0


def _unit_rows(X: sparse.spmatrix) -> sparse.csr_matrix:
    """L2-normalised float32 CSR rows (an empty matrix stays empty)."""
    if X.shape[0] == 0:
        return sparse.csr_matrix(X.shape, dtype=np.float32)
    return normalize(X).astype(np.float32).tocsr()
