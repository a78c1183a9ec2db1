"""Grouping inquiries into topics of the same question.

Contract: :func:`cluster_texts` takes unit TF-IDF rows and returns one integer
label per row (labels are 0..n-1 in order of first appearance, so equal inputs give
equal outputs).  Rows closer than ``distance`` in average-linkage cosine distance end
up together; the number of topics is not fixed in advance.

Two paths with the same meaning:

- up to ``max_exact`` rows: average-linkage agglomerative clustering on the exact
  cosine distance matrix (``n²`` floats: 5,000 rows is 200 MB);
- above: MiniBatchKMeans (fixed ``random_state``) on a TruncatedSVD projection cuts
  the rows into at most ``n_fine`` small groups; their centroids, taken back in the
  TF-IDF space, are then merged by the same average-linkage rule.  This keeps time
  and memory linear in the rows (MEASURED.md: Ward on 20k rows needed 3.2 GB).
"""
from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.cluster import AgglomerativeClustering, MiniBatchKMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.preprocessing import normalize


def _relabel(labels: np.ndarray) -> np.ndarray:
    _, first = np.unique(labels, return_index=True)
    order = np.argsort(first)
    mapping = np.empty(order.size, dtype=np.int64)
    mapping[np.unique(labels)[order]] = np.arange(order.size)
    return mapping[np.searchsorted(np.unique(labels), labels)]


def _agglomerate(X: sparse.csr_matrix, distance: float) -> np.ndarray:
    if X.shape[0] < 2:
        return np.zeros(X.shape[0], dtype=np.int64)
    D = 1.0 - (X @ X.T).toarray().astype(np.float64)
    np.clip(D, 0.0, 2.0, out=D)
    np.fill_diagonal(D, 0.0)
    model = AgglomerativeClustering(n_clusters=None, metric="precomputed", linkage="average",
                                    distance_threshold=distance)
    return model.fit_predict(D)


def merge_close(X: sparse.csr_matrix, labels: np.ndarray, similarity: float) -> np.ndarray:
    """Merge clusters whose centroid directions have cosine >= ``similarity`` (average linkage).

    The cosine of two centroids is the mean cross similarity of their members divided by the
    geometric mean of their internal cohesion: two fragments of one question asked in different
    words are as close to each other as to themselves, two different questions are not.
    """
    k = int(labels.max()) + 1 if labels.size else 0
    if k < 2 or similarity >= 1.0:
        return labels
    member = sparse.csr_matrix((np.ones(labels.size, dtype=np.float32), (labels, np.arange(labels.size))),
                               shape=(k, labels.size))
    merged = _agglomerate(normalize(member @ X).tocsr(), 1.0 - similarity)
    return _relabel(merged[labels])


def cluster_texts(X: sparse.csr_matrix, *, distance: float, max_exact: int = 5000, n_fine: int = 1000,
                  random_state: int = 0, merge_similarity: float = 1.0) -> np.ndarray:
    """Cluster unit rows by average-linkage cosine distance; returns labels.

    Parameters
    ----------
    X : sparse matrix, (n, n_features)
        L2-normalised rows.
    distance : float
        Merge threshold on average cosine distance (0 = identical, 1 = unrelated).
    max_exact : int, default=5000
        Largest ``n`` clustered exactly.
    n_fine : int, default=1000
        Fine groups made by k-means on the large path.
    random_state : int, default=0
        Seed of the SVD and k-means on the large path.
    merge_similarity : float, default=1.0
        Then merge topics whose centroids are at least this similar (:func:`merge_close`);
        1.0 merges nothing.

    Returns
    -------
    numpy.ndarray of int, (n,)
    """
    n = X.shape[0]
    if n <= max_exact:
        labels = _relabel(_agglomerate(X, distance)) if n else np.zeros(0, dtype=np.int64)
        return merge_close(X, labels, merge_similarity)
    n_components = max(2, min(100, X.shape[1] - 1, n - 1))
    Z = TruncatedSVD(n_components=n_components, random_state=random_state).fit_transform(X)
    Z = normalize(Z)
    k = min(n_fine, max(2, n // 5))
    # k-means++ seeding is O(n * k) per centre: 43 s of 54 at 10k rows; random seeding is enough
    # for fine groups that are merged afterwards.
    fine = MiniBatchKMeans(n_clusters=k, init="random", random_state=random_state, batch_size=4096, n_init=1,
                           max_iter=50).fit_predict(Z)
    member = sparse.csr_matrix((np.ones(n, dtype=np.float32), (fine, np.arange(n))), shape=(k, n))
    centroids = normalize(member @ X)
    used = np.asarray(member.sum(axis=1)).ravel() > 0
    merged = np.zeros(k, dtype=np.int64)
    merged[used] = _agglomerate(centroids[used], distance)
    return merge_close(X, _relabel(merged[fine]), merge_similarity)
