"""The sentence encoder's part of :class:`suggest.matcher.ArticleMatcher`.

Kept apart from the TF-IDF method it joins: centring the encoder's rows per language,
putting its cosines on the TF-IDF scores' level, and the agreement rule (the encoder
alone must rank the chosen article first). A mixin: it reads the host's fitted
``slugs_``, ``article_languages_``, ``article_groups_``, ``history_matrix_``, ``other_language_weight``,
``semantic_weight``, ``semantic_agree`` and ``selftrain_agree``, and its ``_passages()`` and
``language_codes()``.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse

from .calibration import score_scale
from .selftrain import SemanticFit, top2_scores
from .semantic import centre

#: Texts of a language needed before it gets its own mean (fewer: the shop-wide mean is steadier).
MIN_LANGUAGE_TEXTS = 10


class SemanticSignal:
    """Fitting and applying the encoder's signal; every method is a no-op without vectors."""

    def _fit_semantic(self, anchors: sparse.csr_matrix, hist_langs: list[str], pmax: np.ndarray | None,
                      article_vectors: np.ndarray | None, history_vectors: np.ndarray | None,
                      encoder_name: str | None) -> SemanticFit | None:
        """Centre the encoder's rows and find the factor that puts their cosines on the TF-IDF level.

        The factor is the ratio of the median best TF-IDF anchor score to the median best semantic
        anchor score over (a sample of) the stored inquiries: no labels, a property of the shop's texts.
        """
        self.encoder_name_ = None
        self.semantic_mean_ = self.history_semantic_ = None
        self.semantic_language_means_ = {}
        self.semantic_ratio_ = 1.0
        n_art, n_hist = len(self.slugs_), self.history_matrix_.shape[0]
        if (article_vectors is None or history_vectors is None or not self.semantic_weight or not n_art
                or len(article_vectors) != n_art or len(history_vectors) != n_hist):
            return None
        A = np.asarray(article_vectors, dtype=np.float32)
        H = np.asarray(history_vectors, dtype=np.float32)
        # Centred per language: e5 places each language in its own region (measured on the demo: the
        # Finnish and Swedish Åland questions' centroids had cosine 0.17 after one global mean, 0.34
        # after per-language means); what remains is what a text says, not which language it says it in.
        present = np.linalg.norm(H, axis=1) > 0  # inquiries the worker has not embedded yet take no part
        rows = np.vstack([A, H[present]])
        langs = list(self.article_languages_) + [l for l, p in zip(hist_langs, present) if p]
        self.semantic_mean_ = rows.mean(axis=0).astype(np.float32)
        self.semantic_language_means_ = {
            lang: rows[[i for i, l in enumerate(langs) if l == lang]].mean(axis=0).astype(np.float32)
            for lang in sorted(set(langs)) if sum(l == lang for l in langs) >= MIN_LANGUAGE_TEXTS}
        As = self._centre(A, self.article_languages_)
        Hs = self._centre(H, hist_langs)
        sample = np.linspace(0, n_hist - 1, min(n_hist, 5000)).round().astype(np.int64) if n_hist else np.zeros(0, int)
        langs = [hist_langs[i] for i in sample]
        _, tf_best, _ = top2_scores(self.history_matrix_[sample], anchors.T.tocsr(), langs,
                                    self.language_codes(), self.other_language_weight,
                                    passages=self._passages(), passage_max=None if pmax is None else pmax[sample])
        sem_best = (Hs[sample] @ As.T).max(axis=1) if sample.size else np.zeros(0)
        tf_scale, sem_scale = score_scale(tf_best), score_scale(np.maximum(sem_best, 0))
        self.semantic_ratio_ = float(tf_scale / sem_scale) if sem_scale > 0 else 1.0
        self.encoder_name_ = encoder_name
        self.history_semantic_ = Hs
        return SemanticFit(As, Hs, weight=float(self.semantic_weight), ratio=self.semantic_ratio_,
                           agree=bool(self.selftrain_agree), groups=self.article_groups_)

    @property
    def uses_semantic(self) -> bool:
        """Whether the fitted model mixes in the sentence encoder (vectors were given to :meth:`fit`)."""
        return getattr(self, "semantic_centroids_", None) is not None

    def _semantic_part(self, Z: np.ndarray | None):
        if Z is None or not self.uses_semantic:
            return None
        if getattr(self, "_semantic_t", None) is None:
            self._semantic_t = np.ascontiguousarray((self.semantic_ratio_ * self.semantic_centroids_.T)
                                                    .astype(np.float32))
        return (Z, self._semantic_t, float(self.semantic_weight))

    def semantic_agrees(self, Z: np.ndarray | None, languages: Sequence[str], chosen: np.ndarray,
                        chunk: int = 4096) -> np.ndarray:
        """Per text, whether the encoder alone ranks ``chosen`` first (all True without the rule or vectors).

        "First" is by translation group: translations share one semantic centroid, so a text in a
        language the article is not written in agrees with whichever translation ranks first.
        Rows without a vector (zero rows) are not held back by the rule.
        """
        chosen = np.asarray(chosen)
        agree = np.ones(chosen.shape[0], dtype=bool)
        if Z is None or not self.semantic_agree or not self.uses_semantic or not len(self.slugs_):
            return agree
        codes = self.language_codes()
        langs = codes.of(list(languages))
        for start in range(0, chosen.shape[0], chunk):
            block = np.asarray(Z[start:start + chunk], dtype=np.float32) @ self.semantic_centroids_.T
            if self.other_language_weight != 1.0:
                other = langs[start:start + chunk, None] != codes.articles[None, :]
                block = np.where(other, block * self.other_language_weight, block)
            empty = ~np.any(np.asarray(Z[start:start + chunk]) != 0, axis=1)
            groups = self.article_groups_
            agree[start:start + chunk] = (groups[block.argmax(axis=1)] == groups[chosen[start:start + chunk]]) | empty
        return agree

    def _centre(self, M: np.ndarray, languages: Sequence[str | None]) -> np.ndarray:
        """Rows minus their language's mean (the global mean for a language seldom seen), unit; zero rows stay zero."""
        M = np.asarray(M, dtype=np.float32)
        means = np.vstack([self.semantic_language_means_.get(l, self.semantic_mean_) for l in languages]) \
            if len(languages) else np.zeros((0, M.shape[1]), dtype=np.float32)
        out = centre(M - means + self.semantic_mean_[None, :], self.semantic_mean_)
        out[np.linalg.norm(M, axis=1) == 0] = 0.0
        return out

    def centre_vectors(self, vectors: np.ndarray | None, languages: Sequence[str | None] | None = None
                       ) -> np.ndarray | None:
        """Encoder rows of new texts, centred like the fit's (None when the model has no semantic part)."""
        if vectors is None or not self.uses_semantic:
            return None
        vectors = np.asarray(vectors, dtype=np.float32)
        return self._centre(vectors, list(languages) if languages is not None else [None] * len(vectors))
