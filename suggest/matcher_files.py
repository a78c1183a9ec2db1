"""Writing a fitted :class:`~suggest.matcher.ArticleMatcher` to disk and reading it back.

A mixin of the matcher: :meth:`save` writes its parameters (``get_params``) and fitted
attributes with :mod:`.persist` (JSON + ``.npz``, never pickle); :meth:`load` rebuilds a
matcher that ranks as the saved one (semantic centroids are kept as float16, so mixed scores
agree to about 1e-3).
Attributes added after a model was saved get the value that means "absent", so older
models still load.
"""
from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

from . import persist
from .features import TextFeatures


class MatcherFiles:
    """``save`` and ``load`` for the matcher (reads and sets its fitted attributes)."""

    def save(self, directory) -> None:
        """Write the fitted matcher to ``directory`` as JSON + ``.npz`` (no pickle)."""
        check_is_fitted(self, "article_matrix_")
        meta, arrays = self.features_.to_arrays()
        meta.update(params=self.get_params(deep=False), slugs=self.slugs_,
                    article_languages=self.article_languages_, history_ids=self.history_ids_,
                    history_languages=self.history_languages_,
                    score_scale=self.score_scale_, tfidf_scale=self.tfidf_scale_,
                    encoder_name=self.encoder_name_, semantic_ratio=self.semantic_ratio_)
        for name in ("article_matrix_", "history_matrix_", "passage_matrix_"):
            persist.pack_sparse(name, getattr(self, name), arrays)
        arrays["passage_starts_"] = np.asarray(self.passage_starts_, dtype=np.int64)
        arrays["history_assigned_"] = np.asarray(self.history_assigned_, dtype=np.int64)
        arrays["history_confident_"] = np.asarray(self.history_confident_, dtype=bool)
        arrays["article_groups_"] = np.asarray(self.article_groups_, dtype=np.int64)
        if self.uses_semantic:  # float16 is plenty for cosines (derived data, like the rest)
            arrays["semantic_centroids_"] = self.semantic_centroids_.astype(np.float16)
            arrays["semantic_mean_"] = self.semantic_mean_.astype(np.float32)
            for lang, mean in self.semantic_language_means_.items():
                arrays[f"semantic_mean_.{lang}"] = mean
            arrays["history_semantic_"] = self.history_semantic_.astype(np.float16)
        persist.write_model(directory, meta, arrays)

    @classmethod
    def load(cls, directory):
        """Read a matcher written by :meth:`save`."""
        meta, arrays = persist.read_model(directory)
        matcher = cls(**meta["params"])
        matcher.features_ = TextFeatures(char_weights=matcher.char_weights,
                                         prefix_length=matcher.prefix_length).from_arrays(meta, arrays)
        matcher.slugs_ = list(meta["slugs"])
        matcher.article_languages_ = list(meta["article_languages"])
        matcher.history_ids_ = list(meta["history_ids"])
        matcher.history_languages_ = list(meta.get("history_languages", ()))
        matcher.score_scale_ = float(meta["score_scale"])
        matcher.tfidf_scale_ = float(meta.get("tfidf_scale", matcher.score_scale_))
        matcher.encoder_name_ = meta.get("encoder_name")
        matcher.semantic_ratio_ = float(meta.get("semantic_ratio", 1.0))
        matcher.semantic_centroids_ = matcher.semantic_mean_ = matcher.history_semantic_ = None
        matcher.semantic_language_means_ = {}
        if "semantic_centroids_" in arrays:
            matcher.semantic_centroids_ = arrays["semantic_centroids_"].astype(np.float32)
            matcher.semantic_mean_ = arrays["semantic_mean_"].astype(np.float32)
            matcher.semantic_language_means_ = {key.split(".", 1)[1]: arrays[key].astype(np.float32)
                                                for key in arrays if key.startswith("semantic_mean_.")}
            matcher.history_semantic_ = arrays["history_semantic_"]
        for name in ("article_matrix_", "history_matrix_", "passage_matrix_"):
            setattr(matcher, name, persist.unpack_sparse(name, arrays))
        matcher.passage_starts_ = np.asarray(arrays["passage_starts_"], dtype=np.int64)
        matcher.history_assigned_ = np.asarray(arrays["history_assigned_"], dtype=np.int64)
        matcher.set_translation_groups(arrays["article_groups_"] if "article_groups_" in arrays
                                       else np.arange(len(matcher.slugs_)))
        matcher._prepare_serving()
        if "history_confident_" in arrays:
            matcher.history_confident_ = np.asarray(arrays["history_confident_"], dtype=bool)
        return matcher
