"""The product's confidence rule: does the best article answer the text?

Contract: :func:`is_confident` is a pure function of the best and second-best
scores of one ranking, the shop's score scale and two fixed constants.  The rule
is the same for every shop and data set; nothing in it is fitted to labels.

Rule: confident when the best score is at least ``min_score * scale`` *and* leads
the runner-up by at least ``min_margin`` of its own value.

- ``scale`` (:func:`score_scale`) is the median best score of the shop's own stored
  inquiries.  Cosines depend on how long and wordy texts are (chatty e-mails against
  long articles score 0.05 where short chat questions against FAQ titles score 0.3),
  so a fixed absolute floor cannot hold across shops; a floor relative to the typical
  best score of the shop's real traffic can (measured: the same two constants give
  the same answered/silent trade-off on three unrelated data sets).  It needs no
  labels: it is a property of the unlabelled inquiry corpus.
- An absolute floor (``ABSOLUTE_FLOOR``, a cosine of 0.1) holds under any scale:
  it protects a young shop whose few stored inquiries are mostly unanswered.  Scores
  are against self-trained centroids (:mod:`suggest.selftrain`), i.e. in the space of
  the customers' own wording, so the shops' scales are far closer than raw
  article cosines (measured 0.23-0.32 on three unrelated data sets; raw: 0.05-0.3).
- The score floor rejects texts that resemble nothing (off-topic, out of scope);
  the relative margin rejects texts that sit between two articles (a neighbouring
  question the knowledge base does not have resembles two or more about equally).
"""
from __future__ import annotations


import numpy as np
from scipy import sparse

# Typical best cosine of a short question against FAQ titles: the scale used when a
# shop has no stored inquiries yet.
DEFAULT_SCALE = 0.25
# Below this cosine a text shares only function words or a few letters with a centroid
# (which holds the customers' "how can I"): never an answer, however low the shop's scale is.
ABSOLUTE_FLOOR = 0.1


def score_scale(best: np.ndarray | sparse.spmatrix) -> float:
    """Median positive best score of the stored inquiries; a default with fewer than 10.

    Parameters
    ----------
    best : numpy.ndarray of float, (n,), or sparse matrix (n, n_articles)
        Each stored inquiry's best article score (or all its scores: the row maxima are used).

    Returns
    -------
    float
    """
    if sparse.issparse(best):
        best = best.max(axis=1).toarray().ravel() if best.shape[0] and best.shape[1] else np.zeros(0)
    best = np.asarray(best, dtype=np.float64)
    best = best[best > 0]
    return float(np.median(best)) if best.size >= 10 else DEFAULT_SCALE


def confident_mask(best: np.ndarray, second: np.ndarray, scale: float, min_score: float,
                   min_margin: float) -> np.ndarray:
    """Vectorised :func:`is_confident` over arrays of best and second scores."""
    floor = max(min_score * scale, ABSOLUTE_FLOOR)
    best, second = np.asarray(best), np.asarray(second)
    return (best >= floor) & ((best - second) >= min_margin * best)


def is_confident(best: float, second: float, scale: float, min_score: float, min_margin: float) -> bool:
    """Return True when ``best >= min_score * scale`` and it leads ``second`` by ``min_margin * best``."""
    return bool(confident_mask(np.asarray([best]), np.asarray([second]), scale, min_score, min_margin)[0])
