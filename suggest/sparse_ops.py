"""Chunked sparse products that keep only the top entries of each row.

Contract: every function takes L2-normalised CSR matrices (rows are texts) and
returns CSR matrices with at most ``k`` stored entries per row, so memory stays
``O(rows * k)`` however many columns there are.  Products run in row chunks so
that the dense intermediate never exceeds about ``chunk * columns`` floats.
Ties are broken by column index, which keeps every result deterministic.
"""
from __future__ import annotations

import numpy as np
from scipy import sparse


def top_k_rows(M: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (indices, values) of the ``k`` largest entries of each row, best first."""
    k = min(k, M.shape[1])
    if k <= 0:
        empty = np.zeros((M.shape[0], 0))
        return empty.astype(np.int64), empty.astype(M.dtype)
    if k < M.shape[1]:
        part = np.argpartition(-M, k - 1, axis=1)[:, :k]
    else:
        part = np.tile(np.arange(M.shape[1]), (M.shape[0], 1))
    vals = np.take_along_axis(M, part, axis=1)
    # Sort by value, then by column index for ties: stable and reproducible.
    order = np.lexsort((part, -vals), axis=1)
    idx = np.take_along_axis(part, order, axis=1)
    return idx, np.take_along_axis(vals, order, axis=1)


def to_csr(idx: np.ndarray, vals: np.ndarray, n_cols: int, min_value: float = 0.0) -> sparse.csr_matrix:
    """Build a CSR matrix from per-row (indices, values), dropping values <= ``min_value``."""
    n, k = idx.shape
    keep = vals > min_value
    rows = np.repeat(np.arange(n), k)[keep.ravel()]
    return sparse.csr_matrix((vals[keep].astype(np.float32), (rows, idx[keep])), shape=(n, n_cols))


def top_k_product(X: sparse.csr_matrix, Y: sparse.csr_matrix, k: int, *, chunk: int = 2048,
                  exclude_diagonal: bool = False, min_value: float = 0.0) -> sparse.csr_matrix:
    """Top ``k`` of each row of ``X @ Y.T`` as CSR (cosine similarities for normalised rows).

    Parameters
    ----------
    X, Y : sparse matrix
        Row-normalised; same number of columns.
    k : int
        Entries kept per row.
    chunk : int, default=2048
        Rows of ``X`` per product.
    exclude_diagonal : bool, default=False
        Ignore ``(i, i)``: used when ``X`` is ``Y`` (a text is not its own neighbour).
    min_value : float, default=0.0
        Entries at or below this are not stored.

    Returns
    -------
    scipy.sparse.csr_matrix
        Shape ``(X.shape[0], Y.shape[0])``.
    """
    X, YT = sparse.csr_matrix(X), sparse.csr_matrix(Y).T.tocsr()
    parts = []
    for start in range(0, X.shape[0], chunk):
        block = (X[start:start + chunk] @ YT).toarray()
        if exclude_diagonal:
            rows = np.arange(block.shape[0])
            cols = rows + start
            ok = cols < block.shape[1]
            block[rows[ok], cols[ok]] = 0.0
        idx, vals = top_k_rows(block, k)
        parts.append(to_csr(idx, vals, Y.shape[0], min_value))
    if not parts:
        return sparse.csr_matrix((0, Y.shape[0]), dtype=np.float32)
    return sparse.vstack(parts, format="csr")


def prune_rows(M: sparse.csr_matrix, k: int) -> sparse.csr_matrix:
    """Keep the ``k`` largest stored entries of each row of a CSR matrix."""
    M = sparse.csr_matrix(M)
    M.sum_duplicates()
    counts = np.diff(M.indptr)
    if counts.size == 0 or counts.max() <= k:
        return M
    rows, cols, vals = [], [], []
    for i in np.nonzero(counts)[0]:
        s, e = M.indptr[i], M.indptr[i + 1]
        d, c = M.data[s:e], M.indices[s:e]
        if e - s > k:
            order = np.lexsort((c, -d))[:k]
            d, c = d[order], c[order]
        rows.append(np.full(len(c), i))
        cols.append(c)
        vals.append(d)
    return sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                             shape=M.shape, dtype=np.float32)
