"""Seeded self-training: article centroids pulled towards the inquiries they answer.

Contract: :func:`expand_centroids` takes the article vectors (unit rows), the stored
inquiries (unit rows) with their languages and the agents' linked answers, and
returns one unit centroid row per article plus, per stored inquiry, the article it
was confidently assigned to (``-1`` when none).  Cost is linear in the inquiries:
each round is one chunked product of the inquiries with the centroids
(``n_inquiries x n_articles``) and one sparse sum; nothing is quadratic in the
inquiries.  Deterministic (ties by article index).

Method (seeded k-means with anchored centres, a form of self-training)::

    C_0 = A
    repeat n_rounds:
        assign each unlabelled inquiry i to j = argmax_j <h_i, C_j>
            if the best score and its lead over the runner-up pass the rule of
            :func:`suggest.calibration.confident_mask` (relative to the median
            best score of all inquiries: no labels, no per-shop constants)
        C_j = normalise(A_j + beta * s(n_j) * mean_dir(assigned to j)
                             + gamma * s(l_j) * mean_dir(linked to j))

``mean_dir`` is the unit direction of the mean of the rows and ``s(n) = n / (n +
shrink)`` damps articles with few members: one stray inquiry cannot drag an article
away.  The article vector stays in every round (the anchor), so a centroid can
move at most ``arccos(1 / sqrt(1 + (beta + gamma)^2))`` away from its article.
Few-shot articles (a title and a few example questions) gain the shop's own
paraphrases; long articles written in another register than the customers' (an
LLM answer against a chat question) gain the customers' vocabulary.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.preprocessing import normalize

from .calibration import confident_mask, score_scale
from .passages import segment_max

# (PT, starts, weight): transposed passage rows, first passage of each article, share of the score.
Passages = tuple
# (Z, ZCT, weight): unit sentence-encoder rows of the texts, semantic centroids transposed (scaled to
# the TF-IDF scores' level), share of the score.
Semantic = tuple


def mix_semantic(block: np.ndarray, Z: np.ndarray, ZCT: np.ndarray, weight: float) -> np.ndarray:
    """``(1 - weight) * block + weight * max(Z @ ZCT, 0)``, in place on ``block``."""
    if weight <= 0:
        return block
    return mix_product(block, np.asarray(Z, dtype=np.float32) @ ZCT, weight)


def mix_product(block: np.ndarray, product: np.ndarray, weight: float) -> np.ndarray:
    """``(1 - weight) * block + weight * max(product, 0)``, in place on ``block`` (``product``: ``Z @ ZCT``)."""
    if weight <= 0:
        return block
    block *= (1.0 - weight)
    block += weight * np.maximum(product, 0.0)
    return block


class BatchProduct:
    """``X @ MT`` for many rows at once, ``MT`` held dense on the features it uses when that is small.

    A sparse-by-sparse product with a dense result spends most of its time on bookkeeping:
    on the features any centroid uses, a dense block multiplies twice as fast (measured:
    20,000 inquiries x 1,000 centroids, 1.35 s sparse, 0.65 s dense).  Only for batches:
    one text against the sparse matrix is cheaper.
    """

    def __init__(self, MT: sparse.csr_matrix, max_bytes: int = 256 * 2 ** 20) -> None:
        MT = sparse.csr_matrix(MT)
        used = np.flatnonzero(np.diff(MT.indptr))
        self.sparse = MT
        self.used = used if used.size * MT.shape[1] * 4 <= max_bytes else None
        self.dense = MT[used].toarray().astype(np.float32) if self.used is not None else None

    def __call__(self, X: sparse.csr_matrix) -> np.ndarray:
        if self.used is None or X.shape[0] < 64:
            return (X @ self.sparse).toarray()
        return np.asarray(X[:, self.used] @ self.dense)


def _times(X: sparse.csr_matrix, M: "sparse.csr_matrix | BatchProduct") -> np.ndarray:
    return M(X) if isinstance(M, BatchProduct) else (X @ M).toarray()


def score_block(X: sparse.csr_matrix, CT: "sparse.csr_matrix | BatchProduct",
                passages: Passages | None = None) -> np.ndarray:
    """Dense article scores of unit rows ``X``: ``(1 - w) * cos(centroid) + w * max cos(passage)``."""
    block = _times(X, CT)
    if passages is not None and passages[2] > 0:
        PT, starts, w = passages
        block *= (1.0 - w)
        block += w * segment_max(_times(X, PT), starts)
    return block



def passage_maxima(X: sparse.csr_matrix, passages: Passages | None, n_articles: int, chunk: int = 2048,
                   max_bytes: int = 512 * 2 ** 20) -> np.ndarray | None:
    """Best passage cosine per (row, article) as float16, or None when absent or larger than ``max_bytes``.

    The passages do not move during self-training, so their part of the score is computed once.
    """
    n = X.shape[0]
    if passages is None or not passages[2] or n * n_articles * 2 > max_bytes:
        return None
    out = np.empty((n, n_articles), dtype=np.float16)
    PT = BatchProduct(passages[0])
    for start in range(0, n, chunk):
        out[start:start + chunk] = segment_max(PT(X[start:start + chunk]), passages[1])
    return out


class LanguageCodes:
    """Small integers for the articles' languages, and for texts' languages against them (-1: none of them).

    "Another language than the article's" is then an integer comparison over a block of rows
    by articles, not one between Python strings (measured: about a quarter of a
    100,000-inquiry fit went to comparing object arrays). Built once per fitted matcher or fit.
    """

    def __init__(self, article_languages: Sequence[str]) -> None:
        self.names = {lang: i for i, lang in enumerate(dict.fromkeys(article_languages))}
        self.articles = np.fromiter((self.names[lang] for lang in article_languages), dtype=np.int32,
                                    count=len(article_languages))

    def of(self, languages: Sequence[str | None]) -> np.ndarray:
        return np.fromiter((self.names.get(lang, -1) for lang in languages), dtype=np.int32, count=len(languages))

    def other(self, languages: Sequence[str | None]) -> np.ndarray:
        """(texts, articles) mask: True where the article is in another language than the text."""
        return self.of(languages)[:, None] != self.articles[None, :]


def top2_scores(X: sparse.csr_matrix, CT: sparse.csr_matrix, languages: Sequence[str],
                article_languages: "np.ndarray | LanguageCodes", other_language_weight: float,
                chunk: int = 2048, passages: Passages | None = None, passage_max: np.ndarray | None = None,
                semantic: Semantic | None = None, first_out: np.ndarray | None = None,
                groups: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best article, best score and runner-up score per row of ``X @ CT`` (chunked).

    Parameters
    ----------
    X : sparse matrix, (n, n_features)
        Unit rows.
    CT : sparse matrix, (n_features, n_articles)
        Centroids, transposed.
    languages : sequence of str
        Language per row of ``X``.
    article_languages : numpy.ndarray of str, or LanguageCodes
        Language per article (or their codes, built once).
    other_language_weight : float
        Factor on the scores of articles in another language.
    chunk : int, default=2048
        Rows per product.
    passages : (PT, starts, weight) or None
        Passage rows (transposed) mixed in by :func:`score_block`.
    passage_max : numpy.ndarray, (n, n_articles), optional
        The passage part already computed (:func:`passage_maxima`); used instead of ``passages``.
    semantic : (Z, ZCT, weight), optional
        Sentence-encoder rows aligned with ``X`` and the semantic centroids (transposed, already
        on the TF-IDF scale), mixed in by :func:`mix_product`.
    first_out : numpy.ndarray of int, (n,), optional
        Filled with the article the encoder alone puts first for each row (other languages
        down-weighted; -2 for a row without a vector), from the same product as the mix.
    groups : numpy.ndarray of int, (n_articles,), optional
        Translation group per article (:func:`group_codes`): the runner-up is the best article
        outside the best one's group, since a translation says the same. None: every article
        is its own group.

    Returns
    -------
    best_index, best, second : numpy.ndarray
    """
    n, m = X.shape[0], CT.shape[1]
    best_idx = np.full(n, -1, dtype=np.int64)
    best, second = np.zeros(n, dtype=np.float32), np.zeros(n, dtype=np.float32)
    if m == 0:
        return best_idx, best, second
    codes = article_languages if isinstance(article_languages, LanguageCodes) else LanguageCodes(list(article_languages))
    langs, article_codes = codes.of(list(languages)), codes.articles
    together = group_members(groups) if groups is not None else None
    if n > chunk // 4:
        CT = BatchProduct(CT)
        if passages is not None and passage_max is None and passages[2]:
            passages = (BatchProduct(passages[0]), passages[1], passages[2])
    for start in range(0, n, chunk):
        if passage_max is not None and passages is not None:
            block = _times(X[start:start + chunk], CT)
            block *= (1.0 - passages[2])
            block += passages[2] * passage_max[start:start + chunk].astype(np.float32)
        else:
            block = score_block(X[start:start + chunk], CT, passages)
        other = langs[start:start + chunk, None] != article_codes[None, :] if other_language_weight != 1.0 else None
        if semantic is not None:
            rows_z = np.asarray(semantic[0][start:start + chunk], dtype=np.float32)
            sem = rows_z @ semantic[1]
            if first_out is not None:
                weighted = np.where(other, sem * other_language_weight, sem) if other is not None else sem
                first_out[start:start + chunk] = np.where(np.any(rows_z != 0, axis=1), weighted.argmax(axis=1), -2)
            block = mix_product(block, sem, semantic[2])
        if other is not None:
            block[other] *= other_language_weight
        rows = np.arange(block.shape[0])
        j = block.argmax(axis=1)
        b = block[rows, j]
        if together is None:
            block[rows, j] = -np.inf
        else:
            block[rows[:, None], together[j]] = -np.inf
        s = block.max(axis=1) if m > 1 else np.zeros_like(b)
        best_idx[start:start + chunk], best[start:start + chunk] = j, b
        second[start:start + chunk] = np.maximum(s, 0.0)
    return best_idx, best, second


def _mean_directions(member: sparse.csr_matrix, H: sparse.csr_matrix, shrink: float,
                     max_terms: int | None = None) -> sparse.csr_matrix:
    """Per article (row of ``member``): unit direction of its rows' mean, times ``n / (n + shrink)``.

    With ``max_terms``, only the mean's heaviest features are kept (see :func:`expand_centroids`).

    (Measured and rejected: subtracting the mean of all inquiries first, Rocchio's
    negative feedback, cost bitext 2 points of acc1.)
    """
    counts = np.asarray(member.sum(axis=1)).ravel()
    direction = normalize(prune_rows(member @ H, max_terms))
    damp = (counts / (counts + shrink)).astype(np.float32)
    return sparse.diags(damp) @ direction


def expand_centroids(A: sparse.csr_matrix, H: sparse.csr_matrix, languages: Sequence[str],
                     article_languages: Sequence[str], labels: sparse.csr_matrix, *, beta: float, gamma: float,
                     shrink: float, n_rounds: int, min_score: float, min_margin: float,
                     other_language_weight: float, passages: Passages | None = None,
                     passage_max: np.ndarray | None = None, max_rows: int | None = None,
                     max_terms: int | None = None, semantic: SemanticFit | None = None,
                     groups: np.ndarray | None = None) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Self-train article centroids on the stored inquiries.

    Parameters
    ----------
    A : sparse matrix, (n_articles, n_features)
        Unit article vectors (the anchors).
    H : sparse matrix, (n_inquiries, n_features)
        Unit inquiry vectors.
    languages : sequence of str
        Language per inquiry.
    article_languages : sequence of str
        Language per article.
    labels : sparse matrix, (n_inquiries, n_articles)
        Agents' linked answers (any positive entry); labelled inquiries are never
        re-assigned by the rule.
    beta, gamma : float
        Weight of the assigned and of the linked inquiries' mean direction.
    shrink : float
        Members needed for half of ``beta`` (``gamma``).
    n_rounds : int
        Assignment / update rounds.
    min_score, min_margin : float
        Assignment rule, as in :func:`suggest.calibration.confident_mask`.
    other_language_weight : float
        Factor on scores of articles in another language than the inquiry's.
    passages, passage_max : optional
        Passage rows and their precomputed part of the score, as in :func:`top2_scores`.
    max_rows : int or None, default=None
        Self-train on at most this many unlabelled inquiries, evenly spaced over ``H``
        (plus every labelled one).  A centroid's mean direction is settled long before
        100,000 rows, while each round's product grows with them.
    max_terms : int or None, default=None
        Keep only the ``max_terms`` heaviest features of each members' mean (Rocchio's
        usual pruning); the article's own vector is never cut.  A mean's support grows
        with its members and, with it, the size of the model and the cost of every
        product; the tail carries little weight.
    semantic : SemanticFit, optional
        Sentence-encoder anchors and rows: the semantic centroids are self-trained with the
        same assignments (same rule, same damping) and their cosine is mixed into every
        round's scores; the result is left in ``semantic.centroids``.
    groups : numpy.ndarray of int, optional
        Translation groups for the margin of the assignment rule (see :func:`top2_scores`).

    Returns
    -------
    centroids : scipy.sparse.csr_matrix, (n_articles, n_features)
    assigned : numpy.ndarray of int, (n_inquiries,)
        Article index per inquiry, ``-1`` when not assigned or outside the sample
        (linked inquiries count as assigned to their first linked article).
    """
    n_all = H.shape[0]
    labelled = np.asarray(labels.getnnz(axis=1) > 0).ravel() if n_all else np.zeros(0, dtype=bool)
    sample = _sample_rows(labelled, max_rows)
    Z = semantic.rows if semantic is not None else None
    if sample is not None:
        languages = [languages[i] for i in sample]
        H, labels, labelled = H[sample], sparse.csr_matrix(labels)[sample], labelled[sample]
        passage_max = passage_max[sample] if passage_max is not None else None
        Z = Z[sample] if Z is not None else None
    n, m = H.shape[0], A.shape[0]
    art_lang = LanguageCodes(list(article_languages))
    base = A.tocsr().astype(np.float32)
    if gamma > 0 and labels.nnz:
        base = base + gamma * _mean_directions(sparse.csr_matrix(labels.T, dtype=np.float32), H, shrink, max_terms)
    C = normalize(base).tocsr()
    if semantic is not None:
        zbase = _unit(semantic.pooled(semantic.anchors.astype(np.float32)))  # one unit anchor per group
        if gamma > 0 and labels.nnz:
            zbase = zbase + gamma * _dense_directions(semantic.pooled(sparse.csr_matrix(labels.T, dtype=np.float32)),
                                                      Z, shrink)
        semantic.centroids = _unit(zbase)
    assigned = np.full(n, -1, dtype=np.int64)
    pmax = passage_max
    if pmax is None and n_rounds and n and m:
        pmax = passage_maxima(H, passages, m)
    for _ in range(n_rounds if n and m else 0):
        mixed = None if semantic is None else (Z, semantic.ratio * semantic.centroids.T, semantic.weight)
        first = np.full(n, -2, dtype=np.int64) if semantic is not None and semantic.agree else None
        idx, best, second = top2_scores(H, C.T.tocsr(), languages, art_lang, other_language_weight,
                                        passages=passages, passage_max=pmax, semantic=mixed, first_out=first,
                                        groups=groups)
        ok = confident_mask(best, second, score_scale(best), min_score, min_margin) & ~labelled
        if first is not None:  # rows without a vector (-2): the TF-IDF rule alone
            ok &= (first == -2) | (semantic.groups[np.maximum(first, 0)] == semantic.groups[np.maximum(idx, 0)])
        assigned = np.where(ok, idx, -1)
        rows = np.nonzero(ok)[0]
        member = sparse.csr_matrix((np.ones(rows.size, dtype=np.float32), (idx[rows], rows)), shape=(m, n))
        C = normalize(base + beta * _mean_directions(member, H, shrink, max_terms)).tocsr()
        if semantic is not None:
            semantic.centroids = _unit(zbase + beta * _dense_directions(semantic.pooled(member), Z, shrink))
    if labels.nnz:
        first = np.asarray(sparse.csr_matrix(labels).argmax(axis=1)).ravel()
        assigned = np.where(labelled, first, assigned)
    if sample is not None:
        full = np.full(n_all, -1, dtype=np.int64)
        full[sample] = assigned
        assigned = full
    return C.astype(np.float32), assigned


class SemanticFit:
    """Sentence-encoder inputs of :func:`expand_centroids` and, afterwards, its semantic centroids.

    ``anchors`` (n_articles, d) and ``rows`` (n_inquiries, d) are unit rows (centred, see
    :func:`suggest.semantic.centre`); ``ratio`` brings their cosines to the TF-IDF scores' level;
    ``weight`` is their share of the score. ``groups`` (n_articles,) numbers the articles'
    translation groups (:func:`group_codes`): the encoder is multilingual, so the translations of
    one article share one semantic centroid, made of all their anchors and all their members.
    """

    def __init__(self, anchors: np.ndarray, rows: np.ndarray, *, weight: float, ratio: float,
                 agree: bool = False, groups: np.ndarray | None = None) -> None:
        self.anchors = anchors
        self.agree = agree
        self.rows = rows
        self.weight = weight
        self.ratio = ratio
        self.centroids = anchors
        self.groups = np.arange(len(anchors)) if groups is None else np.asarray(groups)
        self._pool = group_pooling(self.groups)

    def pooled(self, M):
        """Per article, the sum of its translation group's rows of ``M`` (``M`` itself without translations)."""
        return M if self._pool is None else self._pool @ M


def group_codes(keys: Sequence[str]) -> np.ndarray:
    """One integer per distinct key (an empty key is a group of its own), in order of appearance."""
    seen: dict[str, int] = {}
    codes = np.empty(len(keys), dtype=np.int64)
    for i, key in enumerate(keys):
        codes[i] = seen.setdefault(key, len(seen)) if key else len(keys) + i
    return np.unique(codes, return_inverse=True)[1].astype(np.int64)


def nontrivial(groups: np.ndarray) -> np.ndarray | None:
    """``groups`` when some group has more than one article, else None (the cheaper path everywhere)."""
    groups = np.asarray(groups)
    return None if groups.size == np.unique(groups).size else groups


def group_members(groups: np.ndarray) -> np.ndarray:
    """(n, size of the largest group): row j lists the articles of j's group, padded with j itself."""
    groups = np.asarray(groups)
    order = np.argsort(groups, kind="stable")
    starts = np.flatnonzero(np.r_[True, groups[order][1:] != groups[order][:-1]])
    sizes = np.diff(np.r_[starts, groups.size])
    out = np.repeat(np.arange(groups.size)[:, None], sizes.max() if sizes.size else 1, axis=1)
    for start, size in zip(starts[sizes > 1], sizes[sizes > 1]):
        members = order[start:start + size]
        out[members, :size] = members
    return out


def group_pooling(groups: np.ndarray) -> sparse.csr_matrix | None:
    """(n, n) 0/1 matrix with a 1 where two articles share a group; None when every group has one article."""
    groups = nontrivial(groups)
    if groups is None:
        return None
    member = sparse.csr_matrix((np.ones(groups.size, dtype=np.float32), (np.arange(groups.size), groups)))
    return (member @ member.T).tocsr()


def _unit(M: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(M, axis=1, keepdims=True)
    return (M / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def _dense_directions(member: sparse.csr_matrix, Z: np.ndarray, shrink: float) -> np.ndarray:
    """Dense counterpart of :func:`_mean_directions` for sentence-encoder rows."""
    counts = np.asarray(member.sum(axis=1)).ravel()
    direction = _unit(np.asarray(member @ Z, dtype=np.float32))
    return direction * (counts / (counts + shrink)).astype(np.float32)[:, None]


def prune_rows(X: sparse.spmatrix, max_terms: int | None) -> sparse.csr_matrix:
    """Keep the ``max_terms`` largest entries of each row (ties by feature index); None keeps all."""
    X = sparse.csr_matrix(X)
    if max_terms is None or X.shape[0] == 0 or np.diff(X.indptr).max() <= max_terms:
        return X
    X.sort_indices()
    data, indices, indptr = [], [], [0]
    for i in range(X.shape[0]):
        d, ix = X.data[X.indptr[i]:X.indptr[i + 1]], X.indices[X.indptr[i]:X.indptr[i + 1]]
        if d.size > max_terms:
            keep = np.sort(np.argsort(-d, kind="stable")[:max_terms])
            d, ix = d[keep], ix[keep]
        data.append(d)
        indices.append(ix)
        indptr.append(indptr[-1] + d.size)
    return sparse.csr_matrix((np.concatenate(data), np.concatenate(indices), np.asarray(indptr)), shape=X.shape)


def _sample_rows(labelled: np.ndarray, max_rows: int | None) -> np.ndarray | None:
    """Sorted rows to self-train on: every labelled row and ``max_rows`` evenly spaced others; None for all."""
    free = np.nonzero(~labelled)[0]
    if max_rows is None or free.size <= max_rows:
        return None
    picked = free[np.linspace(0, free.size - 1, max(max_rows, 1)).round().astype(np.int64)]
    return np.union1d(np.nonzero(labelled)[0], picked)
