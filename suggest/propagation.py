"""Label propagation over the inquiry history, and kNN scoring against it.

Contract: scores are sparse ``(texts, articles)`` matrices that keep the top ``k``
articles per row.  :func:`build_graph` links each stored inquiry to its nearest
stored inquiries; :func:`propagate` spreads article scores along those links;
:func:`neighbour_scores` scores new texts from their own similarity plus their
nearest stored inquiries' propagated scores.  All are deterministic.

The update is the normalised form of Zhou et al. (2004), "Learning with local and
global consistency", with per-node degrees so that an isolated inquiry keeps its
own scores::

    F_i = (S_i + λ Y_i + α Σ_j w_ij F_j) / (1 + λ [i labelled] + α Σ_j w_ij)

``S`` are direct article similarities, ``Y`` agents' linked answers, ``w_ij`` edge
weights ``(cos_ij - τ) / (1 - τ)`` for neighbours above the threshold ``τ``.  An
edge below ``τ`` carries nothing: inquiries about unrelated things do not vote for
each other, however few words they have.
"""
from __future__ import annotations

import numpy as np
from scipy import sparse

from .sparse_ops import prune_rows, top_k_product


def _edge_weights(G: sparse.csr_matrix, threshold: float) -> sparse.csr_matrix:
    G = G.copy()
    G.data = np.maximum(G.data - threshold, 0.0) / max(1.0 - threshold, 1e-6)
    G.eliminate_zeros()
    return G


def build_graph(H: sparse.csr_matrix, n_neighbors: int, threshold: float) -> sparse.csr_matrix:
    """Weighted kNN graph of the stored inquiries (no self loops), as CSR."""
    if H.shape[0] < 2 or n_neighbors < 1:
        return sparse.csr_matrix((H.shape[0], H.shape[0]), dtype=np.float32)
    G = top_k_product(H, H, n_neighbors, exclude_diagonal=True, min_value=threshold)
    return _edge_weights(G, threshold)


def propagate(direct: sparse.csr_matrix, labels: sparse.csr_matrix, graph: sparse.csr_matrix, *,
              alpha: float, label_weight: float, n_iter: int, k: int) -> sparse.csr_matrix:
    """Spread article scores over the history graph; returns the top ``k`` per row."""
    labelled = np.asarray(labels.sum(axis=1)).ravel() > 0
    seed = (direct + label_weight * labels).tocsr()
    denom = 1.0 + label_weight * labelled + alpha * np.asarray(graph.sum(axis=1)).ravel()
    inv = sparse.diags((1.0 / denom).astype(np.float32))
    F = prune_rows(inv @ seed, k)
    if graph.nnz == 0:
        return F
    for _ in range(n_iter):
        F = prune_rows(inv @ (seed + alpha * (graph @ F)), k)
    return F.astype(np.float32)


def neighbour_scores(X: sparse.csr_matrix, direct: sparse.csr_matrix, H: sparse.csr_matrix,
                     history_scores: sparse.csr_matrix, n_neighbors: int, threshold: float,
                     alpha: float, k: int) -> sparse.csr_matrix:
    """Scores of new texts: own similarity mixed with their stored neighbours' scores."""
    if H.shape[0] == 0 or n_neighbors < 1:
        return prune_rows(direct, k)
    W = _edge_weights(top_k_product(X, H, n_neighbors, min_value=threshold), threshold)
    denom = 1.0 + alpha * np.asarray(W.sum(axis=1)).ravel()
    inv = sparse.diags((1.0 / denom).astype(np.float32))
    return prune_rows(inv @ (direct + alpha * (W @ history_scores)), k).astype(np.float32)
