"""Text normalisation for Finnish, Swedish and English customer texts.

Contract:

- :func:`clean_text` removes what is not the customer's question and keeps case:
  the quoted thread and the signature as the product's one e-mail splitter
  (:mod:`mailsplit`) finds them (the same cut the stored tickets get), then e-mail
  addresses, URLs, order numbers and template placeholders.  It is used for display
  (gap titles, examples) and as the first step of the others.
- :func:`normalise_text` cleans, folds case and accents (ä → a, å → a, ß → ss) and
  keeps only words separated by single spaces.
- :func:`analyse` turns a text into the two strings the vectoriser reads: Snowball
  stems (PyStemmer, per language; stemmed before folding because the Finnish and
  Swedish stemmers need ä/ö/å) and the folded, unstemmed words for character n-grams.

Everything here is a pure function of its arguments; stemmers are cached per thread
because PyStemmer objects are not thread-safe.  Each word's (stem, folded word) pair is
memoised per language: folding is a Unicode decomposition per character, and a shop's
inquiries repeat the same few thousand words (100,000 inquiries: 15 s → 2 s).
"""
from __future__ import annotations

import functools
import re
import threading
import unicodedata
from collections.abc import Sequence

import Stemmer

from mailsplit import split_message

LANGUAGES = ("fi", "sv", "en")
_STEMMER_NAMES = {"fi": "finnish", "sv": "swedish", "en": "english"}

_QUOTED = re.compile(r"^[ \t]*>.*$", re.MULTILINE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"\{\{[^{}]*\}\}")
# Order, invoice and tracking numbers: '#1234', 'ORD-2024-001', 'NV10023', '123456'.
_ORDER_NO = re.compile(r"#\s?\d+\b|\b(?:[A-Za-z]{1,5}[-#]?)?\d[\d-]{3,}[A-Za-z]?\b")
_SPACE = re.compile(r"[ \t\r\f\v]+")
_WORD = re.compile(r"\w+")
_FOLD = str.maketrans({"ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "đ": "d", "ł": "l"})

_local = threading.local()
# (language, lower-cased word) -> (folded stem, folded word); cleared when it grows past the bound.
_WORD_CACHE: dict[tuple[str, str], tuple[str, str]] = {}
_WORD_CACHE_SIZE = 500_000


#: What :func:`clean_text` leaves where it removed an address, a link or an order number, for display.
HIDDEN = "…"


def clean_text(text: str, *, email: bool = True, mask: str = " ") -> str:
    """Return the customer's own words: no quoting, signature, addresses, links or order numbers.

    Parameters
    ----------
    text : str
        Raw inquiry text (or article body with ``email=False``).
    email : bool, default=True
        Also strip e-mail structure (quoted lines, reply headers, signatures).  Article
        bodies pass False: a Markdown ``>`` block quote is content there.
    mask : str, default=" "
        Put in place of each removed address, link and order number; text shown to people
        passes :data:`HIDDEN`, so "tilaus 101747." reads "tilaus …." rather than "tilaus .".

    Returns
    -------
    str
        The cleaned text with case kept and runs of spaces collapsed.
    """
    text = unicodedata.normalize("NFC", text or "").replace("\x00", " ")
    if email:
        text = _new_text(text)
    hidden = f" {mask.strip()} " if mask.strip() else " "
    text = _URL.sub(hidden, text)
    text = _EMAIL.sub(hidden, text)
    text = _PLACEHOLDER.sub(" ", text)
    text = _ORDER_NO.sub(hidden, text)
    lines = (_SPACE.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


@functools.lru_cache(maxsize=65_536)
def _new_text(text: str) -> str:
    """The customer's new words (memoised: the suggester cleans one inquiry several times)."""
    # a mail that only quotes keeps its unquoted words (a subject line, a stray remark)
    return split_message(text).text or _QUOTED.sub("", text)


def article_heading(title: str, tags: Sequence[str] = ()) -> str:
    """An article's title, then its tags on a line of their own.

    Tags are the editor's own short words for what an article answers ("rikki, kolhu" on a
    transport-damage article whose title says "vaurioitui"): read with the title, where short
    texts get character n-grams, and by the sentence encoder before the body.
    """
    words = ", ".join(t.strip() for t in tags if t.strip())
    return f"{title}\n{words}" if words else title


def fold(text: str) -> str:
    """Lower-case and strip accents: 'Äiti Åsa' → 'aiti asa'."""
    text = text.lower().translate(_FOLD)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalise_text(text: str, language: str | None = None) -> str:
    """Clean an inquiry and fold case and accents; words separated by single spaces.

    Parameters
    ----------
    text : str
        Raw inquiry text.
    language : {'fi', 'sv', 'en'} or None
        Accepted for symmetry with :func:`analyse`; folding is language-independent.

    Returns
    -------
    str
        Folded words, e.g. ``"missa on tilaukseni"``.
    """
    return " ".join(_WORD.findall(fold(clean_text(text))))


def _stemmer(language: str) -> Stemmer.Stemmer:
    cache = getattr(_local, "stemmers", None)
    if cache is None:
        cache = _local.stemmers = {}
    if language not in cache:
        cache[language] = Stemmer.Stemmer(_STEMMER_NAMES.get(language, "english"))
    return cache[language]


def analyse(text: str, language: str, *, email: bool = True) -> tuple[str, str]:
    """Split a text into (stems, folded words), the inputs of the word and character features.

    Parameters
    ----------
    text : str
        Raw text.
    language : {'fi', 'sv', 'en'}
        Chooses the Snowball stemmer; unknown languages use English.
    email : bool, default=True
        Strip e-mail structure first (see :func:`clean_text`).

    Returns
    -------
    stems : str
        Space-separated folded stems, e.g. ``"tilaukse toimitu"``.
    words : str
        Space-separated folded words.
    """
    words = _WORD.findall(clean_text(text, email=email).lower())
    pairs = [_analyse_word(word, language) for word in words]
    return " ".join(p[0] for p in pairs), " ".join(p[1] for p in pairs)


def _analyse_word(word: str, language: str) -> tuple[str, str]:
    key = (language, word)
    pair = _WORD_CACHE.get(key)
    if pair is None:
        pair = (fold(_stemmer(language).stemWord(word)), fold(word))
        if len(_WORD_CACHE) >= _WORD_CACHE_SIZE:
            _WORD_CACHE.clear()
        _WORD_CACHE[key] = pair
    return pair
