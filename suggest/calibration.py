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
- An absolute floor (``ABSOLUTE_FLOOR``, a cosine of 0.03) holds under any scale:
  it protects a young shop whose few stored inquiries are mostly unanswered.
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
# Below this cosine two texts share only a function word or a few letters: never an answer,
# however low the shop's scale is.
ABSOLUTE_FLOOR = 0.03


def score_scale(scores: sparse.csr_matrix) -> float:
    """Median best score over the rows of ``scores`` (stored inquiries); a default without rows."""
    best = scores.max(axis=1).toarray().ravel() if scores.shape[0] and scores.shape[1] else np.zeros(0)
    best = best[best > 0]
    return float(np.median(best)) if best.size >= 10 else DEFAULT_SCALE


def is_confident(best: float, second: float, scale: float, min_score: float, min_margin: float) -> bool:
    """Return True when ``best >= min_score * scale`` and it leads ``second`` by ``min_margin * best``."""
    floor = max(min_score * scale, ABSOLUTE_FLOOR)
    return best >= floor and (best - second) >= min_margin * best
