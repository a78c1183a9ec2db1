"""TF-IDF features over stems and character n-grams, in one cosine space.

Contract: :class:`TextFeatures` is a scikit-learn transformer whose input is a
sequence of ``(stems, words, language)`` triples (the first two made by
:func:`suggest.normalise.analyse`).  Each output row is the concatenation of

- word 1-2 grams over Snowball stems (weight ``1 - w``), and
- ``char_wb`` n-grams over the folded, unstemmed words (weight ``w``),

where ``w = char_weights[language]``: Finnish and Swedish inflect and compound, so
character n-grams earn a larger share there than in English

each block L2-normalised and scaled by the square root of its weight, so that the
dot product of two rows is ``(1 - w) * cos_words + w * cos_chars``.  Character
n-grams catch the inflections the Finnish and Swedish stemmers miss ("tilauksen" /
"tilaukseni"); they are costly on long texts, so callers pass ``words=""`` for
article bodies and get a word-only row (norm ``sqrt(1 - w)``).

For Finnish, words of ``prefix_length + 3`` letters or more also yield a truncation token
(``~tilauk`` for "tilaukseni" and "tilaukset", ``~toimit`` for "toimitetaan" and
"toimitamme") in the word block, also on article bodies (where character n-grams are off).

Fitted state is two vocabularies and two IDF vectors: :meth:`to_arrays` /
:meth:`from_arrays` move it in and out of plain lists and numpy arrays (no pickle).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

Triple = tuple[str, str, str]
DEFAULT_CHAR_WEIGHTS = {"fi": 0.7, "sv": 0.4, "en": 0.2}
# Languages whose words also yield a truncation token (the first ``prefix_length`` letters):
# the Finnish Snowball stemmer is uneven ("tilaukseni" -> "tilau", "tilaukset" -> "tilauks",
# "toimitetaan" -> "toimit", "toimitamme" -> "toim"), truncation joins such forms.
PREFIX_LANGUAGES = ("fi",)
_SEP = " \x1f "
# A ``words`` string starting with this marker feeds the truncation tokens only, no character
# n-grams (long article bodies: character n-grams are costly there).
NO_CHARS = "\x00"


def char_doc(words: str) -> str:
    """The text the character n-grams read: nothing for a ``NO_CHARS`` row."""
    return "" if words.startswith(NO_CHARS) else words


def word_analyzer(doc: str) -> list[str]:
    """Stem 1-2 grams, plus the truncation tokens after the separator as unigrams."""
    stems, _, prefixes = doc.partition(_SEP)
    tokens = stems.split()
    grams = tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]
    return grams + prefixes.split()


class TextFeatures(TransformerMixin, BaseEstimator):
    """Stem 1-2 grams plus character n-grams, TF-IDF weighted.

    Parameters
    ----------
    word_ngram_range : tuple of int, default=(1, 2)
        N-gram range over stems.
    char_ngram_range : tuple of int, default=(3, 5)
        ``char_wb`` n-gram range over folded words.
    char_weights : dict or None, default=None
        Share of the cosine given to character n-grams, per language; None means
        ``{"fi": 0.5, "sv": 0.4, "en": 0.2}``.  Other languages use the English share.
    sublinear_tf : bool, default=True
        Use ``1 + log(tf)``: a word repeated in a long article body counts less.

    Attributes
    ----------
    word_vectorizer_ : TfidfVectorizer
        Fitted on the stems.
    char_vectorizer_ : TfidfVectorizer
        Fitted on the words of the texts that have any.
    n_features_out_ : int
        Width of the output rows.
    """

    def __init__(self, word_ngram_range: tuple[int, int] = (1, 2), char_ngram_range: tuple[int, int] = (3, 5),
                 char_weights: dict[str, float] | None = None, sublinear_tf: bool = True,
                 prefix_length: int = 5) -> None:
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.char_weights = char_weights
        self.sublinear_tf = sublinear_tf
        self.prefix_length = prefix_length

    def _word_docs(self, X: Sequence[Triple]) -> list[str]:
        n = int(self.prefix_length or 0)
        if not n:
            return [t[0] for t in X]
        return [t[0] + _SEP + " ".join("~" + w[:n] for w in t[1].lstrip(NO_CHARS).split() if len(w) >= n + 3)
                if t[2] in PREFIX_LANGUAGES and t[1] else t[0] for t in X]

    def _vectorizers(self, word_vocab: dict[str, int] | None = None,
                     char_vocab: dict[str, int] | None = None) -> tuple[TfidfVectorizer, TfidfVectorizer]:
        common = dict(lowercase=False, sublinear_tf=self.sublinear_tf, dtype=np.float32)
        if tuple(self.word_ngram_range) == (1, 2):
            word = TfidfVectorizer(analyzer=word_analyzer, vocabulary=word_vocab, **common)
        else:
            word = TfidfVectorizer(analyzer="word", token_pattern=r"\S+",  # nosec B106 # a regex, not a password
                                   ngram_range=tuple(self.word_ngram_range), vocabulary=word_vocab, **common)
        char = TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(self.char_ngram_range),
                               vocabulary=char_vocab, **common)
        return word, char

    def fit(self, X: Sequence[Triple], y: None = None) -> "TextFeatures":
        """Learn both vocabularies and IDF weights.

        Parameters
        ----------
        X : sequence of (stems, words, language)
            Texts as made by :func:`suggest.normalise.analyse`.
        y : None
            Ignored.

        Returns
        -------
        self : TextFeatures
        """
        stems = self._word_docs(X)
        words = [char_doc(t[1]) for t in X if char_doc(t[1])]
        word, char = self._vectorizers()
        # An empty corpus still yields a usable (if useless) vectoriser.
        word.fit(stems if any(stems) else ["_"])
        char.fit(words if words else ["_"])
        self.word_vectorizer_, self.char_vectorizer_ = word, char
        self.n_features_out_ = len(word.vocabulary_) + len(char.vocabulary_)
        return self

    def fit_transform(self, X: Sequence[Triple], y: None = None, **fit_params) -> sparse.csr_matrix:
        """Fit and return the rows of ``X``, analysing each text once (what ``fit`` then ``transform`` give)."""
        stems = self._word_docs(X)
        docs = [char_doc(t[1]) for t in X]
        has_chars = [i for i, d in enumerate(docs) if d]
        word, char = self._vectorizers()
        if any(stems):
            W = word.fit_transform(stems)
        else:
            word.fit(["_"])
            W = word.transform(stems)
        if has_chars:
            rows = char.fit_transform([docs[i] for i in has_chars])
            # Rows of the texts without words stay empty, as transform() leaves them.
            place = sparse.csr_matrix((np.ones(len(has_chars), dtype=np.float32), (has_chars, np.arange(len(has_chars)))),
                                      shape=(len(docs), len(has_chars)))
            C = place @ rows
        else:
            char.fit(["_"])
            C = char.transform(docs)
        self.word_vectorizer_, self.char_vectorizer_ = word, char
        self.n_features_out_ = len(word.vocabulary_) + len(char.vocabulary_)
        return self._combine(X, W, C)

    def transform(self, X: Sequence[Triple]) -> sparse.csr_matrix:
        """Return the weighted, concatenated TF-IDF rows (float32 CSR)."""
        check_is_fitted(self, "word_vectorizer_")
        W = self.word_vectorizer_.transform(self._word_docs(X))
        return self._combine(X, W, self.char_vectorizer_.transform([char_doc(t[1]) for t in X]))

    def _combine(self, X: Sequence[Triple], W: sparse.spmatrix, C: sparse.spmatrix) -> sparse.csr_matrix:
        weights = self.char_weights or DEFAULT_CHAR_WEIGHTS
        w = np.array([weights.get(t[2], weights.get("en", 0.2)) for t in X], dtype=np.float32)
        word = sparse.diags(np.sqrt(1.0 - w)) @ W
        char = sparse.diags(np.sqrt(w)) @ C
        return sparse.hstack([word, char], format="csr", dtype=np.float32)

    def to_arrays(self) -> tuple[dict, dict[str, np.ndarray]]:
        """Return the fitted state as (JSON-able dict, numpy arrays)."""
        check_is_fitted(self, "word_vectorizer_")
        meta, arrays = {}, {}
        for name, vec in (("word", self.word_vectorizer_), ("char", self.char_vectorizer_)):
            terms = sorted(vec.vocabulary_, key=vec.vocabulary_.__getitem__)
            meta[f"{name}_terms"] = terms
            arrays[f"{name}_idf"] = np.asarray(vec.idf_, dtype=np.float64)
        return meta, arrays

    def from_arrays(self, meta: dict, arrays: dict[str, np.ndarray]) -> "TextFeatures":
        """Restore a state saved by :meth:`to_arrays`; returns self."""
        vocabs = [{t: i for i, t in enumerate(meta[f"{n}_terms"])} for n in ("word", "char")]
        word, char = self._vectorizers(*vocabs)
        for vec, name in ((word, "word"), (char, "char")):
            vec.idf_ = np.asarray(arrays[f"{name}_idf"], dtype=np.float64)
        self.word_vectorizer_, self.char_vectorizer_ = word, char
        self.n_features_out_ = len(vocabs[0]) + len(vocabs[1])
        return self
