"""Text normalisation shared by indexing and querying.

Contract: the same functions turn article text and typed queries into words,
so index time and query time always agree. Folding lowercases, keeps the
Nordic letters å, ä, ö (they change meaning in Finnish and Swedish) and strips
every other accent (é -> e, ü -> u; ø/æ fold to ö/ä). Stemming uses PyStemmer's
Snowball stemmers through module-level functions, because the Whoosh schema is
pickled and a bound ``stemWord`` method cannot be.
"""

from __future__ import annotations

import html
import re
import threading
import unicodedata
from functools import lru_cache

import Stemmer
from whoosh.lang import stopwords_for_language

MAX_QUERY_CHARS = 256

#: Word tokens: letters/digits, allowing inner dots ("v2.1"). Shared with the analyzers.
WORD_PATTERN = r"\w+(?:\.?\w+)*"
WORD_RE = re.compile(WORD_PATTERN)

_CONTROL_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}
_KEEP = {"å", "ä", "ö"}
_SPECIAL = {"ø": "ö", "æ": "ä", "ß": "ss", "ı": "i", "ł": "l", "đ": "d", "þ": "th"}
_SNOWBALL = {"fi": "finnish", "sv": "swedish", "en": "english"}
_local = threading.local()


def normalise_query(text: str) -> str:
    """NFC-normalise, drop control/format characters, squeeze spaces, cap at 256 chars."""
    if not isinstance(text, str):
        return ""
    text = unicodedata.normalize("NFC", text[: MAX_QUERY_CHARS * 8])
    kept = []
    for ch in text:
        if ch in "\t\n\r\x0b\x0c":
            kept.append(" ")
        elif unicodedata.category(ch) not in _CONTROL_CATEGORIES:
            kept.append(ch)
    return " ".join("".join(kept).split())[:MAX_QUERY_CHARS].strip()


@lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """Lowercase and strip accents except å/ä/ö, consistently for index and query."""
    out = []
    for ch in word.lower():
        if ch in _KEEP:
            out.append(ch)
        elif ch in _SPECIAL:
            out.append(_SPECIAL[ch])
        elif ch.isascii():
            out.append(ch)
        else:
            decomposed = unicodedata.normalize("NFKD", ch)
            base = "".join(c for c in decomposed if not unicodedata.combining(c))
            # Swedish/Finnish letters written with combining marks fold back to å/ä/ö.
            recomposed = unicodedata.normalize("NFC", decomposed)
            out.append(recomposed if recomposed in _KEEP else base)
    return "".join(out)


def words(text: str) -> list[str]:
    """Folded word tokens of ``text`` in order."""
    return [fold(m.group()) for m in WORD_RE.finditer(text)]


def _stemmer(language: str) -> Stemmer.Stemmer:
    # PyStemmer objects are not thread-safe: one per thread and language.
    cache = getattr(_local, "stemmers", None)
    if cache is None:
        cache = _local.stemmers = {}
    stemmer = cache.get(language)
    if stemmer is None:
        stemmer = cache[language] = Stemmer.Stemmer(_SNOWBALL[language])
    return stemmer


def stem_fi(word: str) -> str:
    """Finnish Snowball stem (module-level so the pickled schema can import it)."""
    return _stemmer("fi").stemWord(word)


def stem_sv(word: str) -> str:
    """Swedish Snowball stem."""
    return _stemmer("sv").stemWord(word)


def stem_en(word: str) -> str:
    """English (Porter2) Snowball stem."""
    return _stemmer("en").stemWord(word)


STEMMERS = {"fi": stem_fi, "sv": stem_sv, "en": stem_en}


@lru_cache(maxsize=None)
def stoplist(language: str) -> frozenset[str]:
    """Folded stop words for ``language``."""
    return frozenset(fold(w) for w in stopwords_for_language(language))


@lru_cache(maxsize=100_000)
def stem(language: str, word: str) -> str:
    """Cached stem of an already folded word."""
    return STEMMERS[language](word)


#: Compound parts: suffixes at least this long, starting at least this far in.
PART_MIN_SUFFIX = 4
PART_MIN_HEAD = 3


def compound_parts(word: str) -> list[str]:
    """Possible trailing compound members of a folded word ("toimitusaika" -> ..., "aika")."""
    last = len(word) - PART_MIN_SUFFIX
    return [word[i:] for i in range(PART_MIN_HEAD, last + 1)]


_FENCE_RE = re.compile(r"^\s*(```|~~~).*$", re.M)
_URL = r"\((?:[^()\s]|\([^()\s]*\))*(?:\s+\"[^\"]*\")?\)"
_IMAGE_RE = re.compile(r"!\[([^\]]*)\]" + _URL)
_LINK_RE = re.compile(r"\[([^\]]*)\]" + _URL)
_REF_LINK_RE = re.compile(r"\[([^\]]*)\]\[[^\]]*\]")
_REF_DEF_RE = re.compile(r"^\s*\[[^\]]+\]:\s*\S+.*$", re.M)
_AUTOLINK_RE = re.compile(r"<(?:https?|mailto|javascript|data):[^>\s]*>", re.I)
_TAG_RE = re.compile(r"<!--.*?-->|<[^>]{0,2000}>", re.S)
_SCRIPT_RE = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.S | re.I)
_LINE_MARK_RE = re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+|\d+[.)]\s+)", re.M)
_EMPHASIS_RE = re.compile(r"(\*{1,3}|_{2,3}|~~|`+)")
_TABLE_RE = re.compile(r"^\s*\|?[\s:|-]+\|[\s:|-]*$", re.M)
_SPACE_RE = re.compile(r"\s+")


def markdown_to_text(source: str) -> str:
    """Plain text of Markdown for indexing and snippets (markup, links and HTML removed)."""
    text = _SCRIPT_RE.sub(" ", source)
    text = _FENCE_RE.sub(" ", text)
    text = _REF_DEF_RE.sub(" ", text)
    text = _IMAGE_RE.sub(r"\1", text)
    text = _LINK_RE.sub(r"\1", text)
    text = _REF_LINK_RE.sub(r"\1", text)
    text = _AUTOLINK_RE.sub(" ", text)
    text = _TAG_RE.sub(" ", text)
    text = _TABLE_RE.sub(" ", text)
    text = _LINE_MARK_RE.sub("", text)
    text = _EMPHASIS_RE.sub("", text)
    text = text.replace("|", " ")
    text = html.unescape(text)
    return _SPACE_RE.sub(" ", text).strip()
