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
3. **History as a graph** (:mod:`.propagation`).  Stored inquiries are linked to
   their ``n_neighbors`` most similar inquiries above ``edge_threshold``.  Scores
   start from each inquiry's direct article similarity; agents' linked answers
   (``article_slugs``) clamp their inquiries towards those articles with weight
   ``label_weight``; then scores spread along the edges (label propagation, Zhou et
   al. 2004), so a cluster of inquiries agrees on the article that most of its
   members match well.  This is transductive: unlabelled inquiries help too.
4. **Ranking.**  A new text's score for an article is its direct similarity plus
   the propagated scores of its nearest stored inquiries (kNN over history), mixed
   the same way.  Articles in another language than the text's are down-weighted.
5. **Confidence** (:mod:`.calibration`): a fixed rule on the best score, relative
   to the median best score of the shop's stored inquiries, and on its margin over
   the runner-up; not tuned per data set.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.preprocessing import normalize
from sklearn.utils.validation import check_is_fitted

from . import persist
from .calibration import is_confident, score_scale
from .features import TextFeatures
from .language import detect_language
from .normalise import analyse
from .propagation import build_graph, neighbour_scores, propagate
from .sparse_ops import top_k_rows
from .types import ArticleText, InquiryText, Ranking, Suggestion

_PARAMS = ("title_weight", "char_weights", "n_neighbors", "edge_threshold", "propagation", "label_weight",
           "n_iter", "top_scores", "other_language_weight", "min_score", "min_margin")


def prepare(text: str, language: str | None, *, email: bool = True, chars: bool = True) -> tuple[str, str, str]:
    """Analyse one text into the (stems, words, language) triple that the features read."""
    lang = language or detect_language(text)
    stems, words = analyse(text, lang, email=email)
    return stems, words if chars else "", lang


class ArticleMatcher(BaseEstimator):
    """TF-IDF article ranking with label propagation over the inquiry history.

    Parameters
    ----------
    title_weight : float, default=0.6
        Share of the title in an article's vector (the body has the rest).
    char_weights : dict or None, default=None
        Character n-gram share per language (see :class:`~suggest.features.TextFeatures`).
    n_neighbors : int, default=10
        Stored inquiries linked to each inquiry (graph) and consulted per query (kNN).
    edge_threshold : float, default=0.3
        Cosine below which two inquiries are not neighbours; edge weight is
        ``(cos - edge_threshold) / (1 - edge_threshold)``.
    propagation : float, default=3.0
        Weight of the neighbours' scores against a text's own similarity.
    label_weight : float, default=5.0
        Weight of an agent's linked answer in its inquiry's score.
    n_iter : int, default=10
        Propagation sweeps.
    top_scores : int, default=10
        Article scores kept per stored inquiry.
    other_language_weight : float, default=0.5
        Factor on scores of articles in another language than the text's.
    min_score : float, default=0.75
        Confidence floor, relative to ``score_scale_``.
    min_margin : float, default=0.15
        Lead over the runner-up needed for confidence, relative to the best score
        (see :func:`suggest.calibration.is_confident`).

    Attributes
    ----------
    features_ : TextFeatures
    slugs_ : list of str
    article_languages_ : list of str
    article_matrix_ : scipy.sparse.csr_matrix, (n_articles, n_features)
    history_ids_ : list of str
    history_matrix_ : scipy.sparse.csr_matrix, (n_history, n_features)
    history_scores_ : scipy.sparse.csr_matrix, (n_history, n_articles)
        Propagated article scores of the stored inquiries, top ``top_scores`` per row.
    score_scale_ : float
        Median best score of the stored inquiries (see :func:`suggest.calibration.score_scale`).
    """

    def __init__(self, title_weight: float = 0.6, char_weights: dict[str, float] | None = None,
                 n_neighbors: int = 10, edge_threshold: float = 0.3, propagation: float = 3.0,
                 label_weight: float = 5.0, n_iter: int = 10, top_scores: int = 10,
                 other_language_weight: float = 0.5, min_score: float = 0.75, min_margin: float = 0.15) -> None:
        self.title_weight = title_weight
        self.char_weights = char_weights
        self.n_neighbors = n_neighbors
        self.edge_threshold = edge_threshold
        self.propagation = propagation
        self.label_weight = label_weight
        self.n_iter = n_iter
        self.top_scores = top_scores
        self.other_language_weight = other_language_weight
        self.min_score = min_score
        self.min_margin = min_margin

    # ------------------------------------------------------------------ fitting
    def fit(self, articles: Sequence[ArticleText], history: Sequence[InquiryText] = ()) -> "ArticleMatcher":
        """Learn the vocabulary, article vectors and the history graph.

        Parameters
        ----------
        articles : sequence of ArticleText
            Published articles.
        history : sequence of InquiryText, default=()
            Stored inquiries; those with ``article_slugs`` are agent-labelled, the
            others are used transductively (IDF, graph).

        Returns
        -------
        self : ArticleMatcher
        """
        titles = [prepare(a.title, a.language, email=False) for a in articles]
        bodies = [prepare(a.body, a.language, email=False, chars=False) for a in articles]
        hist = [prepare(q.text, q.language) for q in history]
        self.features_ = TextFeatures(char_weights=self.char_weights).fit(titles + bodies + hist)
        self.slugs_ = [a.slug for a in articles]
        self.article_languages_ = [a.language for a in articles]
        w = float(self.title_weight)
        if articles:
            T = normalize(self.features_.transform(titles))
            B = normalize(self.features_.transform(bodies))
            self.article_matrix_ = normalize(w * T + (1.0 - w) * B).astype(np.float32).tocsr()
        else:
            self.article_matrix_ = sparse.csr_matrix((0, self.features_.n_features_out_), dtype=np.float32)
        self.history_ids_ = [str(q.id) for q in history]
        if hist:
            self.history_matrix_ = normalize(self.features_.transform(hist)).astype(np.float32).tocsr()
        else:
            self.history_matrix_ = sparse.csr_matrix((0, self.features_.n_features_out_), dtype=np.float32)
        index = {slug: j for j, slug in enumerate(self.slugs_)}
        rows, cols = [], []
        for i, q in enumerate(history):
            for slug in q.article_slugs:
                if slug in index:
                    rows.append(i)
                    cols.append(index[slug])
        labels = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                                   shape=(len(hist), len(self.slugs_)))
        if hist and self.slugs_:
            direct = self._direct_scores(self.history_matrix_, [h[2] for h in hist])
            graph = build_graph(self.history_matrix_, self.n_neighbors, self.edge_threshold)
            self.history_scores_ = propagate(direct, normalize(labels, norm="l1"), graph, alpha=self.propagation,
                                             label_weight=self.label_weight, n_iter=self.n_iter, k=self.top_scores)
        else:
            self.history_scores_ = sparse.csr_matrix(labels, dtype=np.float32)
        self.score_scale_ = score_scale(self.history_scores_)
        return self

    # ------------------------------------------------------------------ scoring
    def _direct_scores(self, X: sparse.csr_matrix, languages: Sequence[str]) -> sparse.csr_matrix:
        """Top ``top_scores`` direct similarities per row, other languages down-weighted."""
        from .sparse_ops import to_csr

        n_art = self.article_matrix_.shape[0]
        AT = self.article_matrix_.T.tocsr()
        art_lang = np.asarray(self.article_languages_, dtype=object)
        parts = []
        for start in range(0, X.shape[0], 1024):
            block = (X[start:start + 1024] @ AT).toarray()
            if n_art and self.other_language_weight != 1.0:
                langs = np.asarray(languages[start:start + 1024], dtype=object)
                other = langs[:, None] != art_lang[None, :]
                block[other] *= self.other_language_weight
            idx, vals = top_k_rows(block, self.top_scores)
            parts.append(to_csr(idx, vals, n_art))
        if not parts:
            return sparse.csr_matrix((0, n_art), dtype=np.float32)
        return sparse.vstack(parts, format="csr")

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
        return normalize(self.features_.transform(prepared)).astype(np.float32).tocsr()

    def score_matrix(self, X: sparse.csr_matrix, languages: Sequence[str]) -> sparse.csr_matrix:
        """Final article scores (top ``top_scores`` per row) for vectorised texts."""
        check_is_fitted(self, "article_matrix_")
        direct = self._direct_scores(X, languages)
        return neighbour_scores(X, direct, self.history_matrix_, self.history_scores_, self.n_neighbors,
                                self.edge_threshold, self.propagation, self.top_scores)

    def rank_many(self, texts: Sequence[str], *, k: int = 5,
                  languages: Sequence[str | None] | None = None) -> list[Ranking]:
        """Rank articles for many texts at once (one sparse product per chunk).

        Parameters
        ----------
        texts : sequence of str
        k : int, default=5
            Suggestions per text.
        languages : sequence of str or None, optional
            Language per text; detected where None.

        Returns
        -------
        list of Ranking
            In input order.
        """
        X, langs = self.transform_texts(texts, languages)
        S = self.score_matrix(X, langs)
        n_art = len(self.slugs_)
        out = []
        for i in range(S.shape[0]):
            s, e = S.indptr[i], S.indptr[i + 1]
            cols, vals = S.indices[s:e], S.data[s:e]
            order = np.lexsort((cols, -vals))
            cols, vals = list(cols[order]), [float(v) for v in vals[order]]
            if len(cols) < min(k, n_art):
                # Fill with the remaining articles so agents always have k to choose from.
                seen = set(cols)
                extra = [j for j in range(n_art) if j not in seen][: min(k, n_art) - len(cols)]
                cols += extra
                vals += [0.0] * len(extra)
            top = [Suggestion(self.slugs_[j], round(max(v, 0.0), 4)) for j, v in zip(cols[:k], vals[:k])]
            second = vals[1] if len(vals) > 1 else 0.0
            confident = bool(top) and self.is_confident(vals[0], second)
            out.append(Ranking(suggestions=top, confident=confident))
        return out

    def is_confident(self, best: float, second: float) -> bool:
        """The product's "this answers your question" rule for one ranking's two best scores."""
        check_is_fitted(self, "score_scale_")
        return is_confident(best, second, self.score_scale_, self.min_score, self.min_margin)

    def rank(self, text: str, *, k: int = 5, language: str | None = None) -> Ranking:
        """Rank articles for one text; see :meth:`rank_many`."""
        return self.rank_many([text], k=k, languages=[language])[0]

    # ------------------------------------------------------------------ persistence
    def save(self, directory) -> None:
        """Write the fitted matcher to ``directory`` as JSON + ``.npz`` (no pickle)."""
        check_is_fitted(self, "article_matrix_")
        meta, arrays = self.features_.to_arrays()
        meta.update(params={name: getattr(self, name) for name in _PARAMS}, slugs=self.slugs_,
                    article_languages=self.article_languages_, history_ids=self.history_ids_,
                    score_scale=self.score_scale_)
        for name in ("article_matrix_", "history_matrix_", "history_scores_"):
            persist.pack_sparse(name, getattr(self, name), arrays)
        persist.write_model(directory, meta, arrays)

    @classmethod
    def load(cls, directory) -> "ArticleMatcher":
        """Read a matcher written by :meth:`save`."""
        meta, arrays = persist.read_model(directory)
        matcher = cls(**meta["params"])
        matcher.features_ = TextFeatures(char_weights=matcher.char_weights).from_arrays(meta, arrays)
        matcher.slugs_ = list(meta["slugs"])
        matcher.article_languages_ = list(meta["article_languages"])
        matcher.history_ids_ = list(meta["history_ids"])
        matcher.score_scale_ = float(meta["score_scale"])
        for name in ("article_matrix_", "history_matrix_", "history_scores_"):
            setattr(matcher, name, persist.unpack_sparse(name, arrays))
        return matcher
