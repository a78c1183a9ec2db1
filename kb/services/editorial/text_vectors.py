"""Sentence-encoder vectors of articles and inquiries, stored once per text (derived data).

The encoder (:mod:`suggest.semantic`) is too slow to run per request (tens of ms per
text), so each stored text is embedded once: an article when it is saved, an inquiry by
the worker (:func:`embed_missing`, in batches, one thread) or by the command line before
it answers. Rows are keyed by :func:`suggest.semantic.text_key` of the exact text and
the encoder's name (:class:`kb.models.TextVector`), so a changed text gets a new vector
and nothing else needs invalidating. Whether the encoder is used at all is the app's
``SUGGEST_SEMANTIC`` setting (``NEUVO_SUGGEST_SEMANTIC``): ``auto`` | ``on`` | ``off``.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence

import numpy as np
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kb.models import Article, ArticleStatus, TextVector, Ticket
from kb.services.batches import batched
from suggest.semantic import Encoder, EncoderUnavailable, article_input, embed, text_key

log = logging.getLogger(__name__)

#: Texts the worker embeds per round at most (about a minute of one core), so mail is never held up long.
WORKER_BATCH = 1000


def semantic_status(store) -> str:  # type: ignore[no-untyped-def]
    """``on``, ``off`` (switched off) or ``unavailable`` (asked for, but the encoder cannot load here)."""
    if (store.semantic or "auto").strip().lower() == "off":
        return "off"
    try:
        return "on" if store.encoder() is not None else "unavailable"
    except EncoderUnavailable:
        return "unavailable"


def article_text(article: Article) -> str:
    """The text an article's vector is made from."""
    return article_input(article.title, article.body, tuple(article.tags or ()))


def ticket_text(subject: str | None, body: str | None) -> str:
    """The text an inquiry's vector is made from: what the suggester reads (subject, then body)."""
    return f"{subject or ''}\n{body or ''}".strip()


def _to_array(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float16).astype(np.float32)


def lookup(session: Session, encoder: Encoder, texts: Sequence[str]) -> dict[str, np.ndarray]:
    """Stored vectors of ``texts``, by key (texts without one are absent)."""
    keys = sorted({text_key(t, encoder.name) for t in texts})
    found: dict[str, np.ndarray] = {}
    for chunk in batched(keys):
        for key, blob in session.execute(select(TextVector.key, TextVector.vector).where(TextVector.key.in_(chunk))):
            found[key] = _to_array(blob)
    return found


def ensure_vectors(session: Session, encoder: Encoder, texts: Sequence[str], *, store: bool = True,
                   progress: Callable[[int, int], None] | None = None, now=None) -> np.ndarray:
    """Unit float32 rows for ``texts``: stored ones read, missing ones computed (and stored unless ``store=False``).

    ``progress(done, total)`` is called as missing texts are embedded. Flushes, never commits.
    """
    found = lookup(session, encoder, texts)
    missing = sorted({t for t in texts if text_key(t, encoder.name) not in found})
    if missing:
        total = len(missing)
        vectors = embed(encoder, missing, progress=(lambda done: progress(done, total)) if progress else None)
        rows = []
        for text, vector in zip(missing, vectors):
            half = vector.astype(np.float16)
            found[text_key(text, encoder.name)] = half.astype(np.float32)
            rows.append({"key": text_key(text, encoder.name), "encoder": encoder.name, "vector": half.tobytes(),
                         **({"created_at": now} if now is not None else {})})
        if store:
            _store(session, rows)
    out = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    for i, text in enumerate(texts):
        out[i] = found[text_key(text, encoder.name)]
    return out


def _store(session: Session, rows: list[dict]) -> None:
    """Insert vector rows, leaving any that another process stored meanwhile (an import beside a reindex).

    The key is a hash of the text and the encoder, so a row already there holds the same vector.
    """
    dialect = session.get_bind().dialect.name
    statement = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect](TextVector)
    for chunk in batched(rows):
        session.execute(statement.on_conflict_do_nothing(index_elements=[TextVector.key]), chunk)
    session.flush()


def stored_matrix(session: Session, encoder: Encoder, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Rows for ``texts`` from the store only, and a mask of the texts that have one (the others are zero)."""
    found = lookup(session, encoder, texts)
    out = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    have = np.zeros(len(texts), dtype=bool)
    for i, text in enumerate(texts):
        vector = found.get(text_key(text, encoder.name))
        if vector is not None:
            out[i], have[i] = vector, True
    return out, have


def shop_texts(session: Session) -> Iterable[str]:
    """Every text the suggester reads from the database: published articles, then all inquiries."""
    for article in session.scalars(select(Article).where(Article.status == ArticleStatus.PUBLISHED)
                                   .order_by(Article.id)):
        yield article_text(article)
    for subject, body in session.execute(select(Ticket.subject, Ticket.body).order_by(Ticket.id)):
        yield ticket_text(subject, body)


def missing_texts(session: Session, encoder: Encoder) -> list[str]:
    """The shop's texts that have no stored vector under ``encoder`` yet (each once, in store order)."""
    texts = list(dict.fromkeys(shop_texts(session)))
    found = lookup(session, encoder, texts)
    return [t for t in texts if text_key(t, encoder.name) not in found]


def embed_missing(session: Session, encoder: Encoder | None, *, limit: int | None = None,
                  texts: Sequence[str] | None = None, progress: Callable[[int, int], None] | None = None) -> int:
    """Embed and store the shop's texts that have no vector yet (at most ``limit``); returns how many.

    ``texts``: the missing ones when the caller has just listed them (:func:`missing_texts`).
    The worker's job and the command line's first step. Flushes (every 1,000 texts), never commits.
    """
    if encoder is None:
        return 0
    todo = list(texts) if texts is not None else missing_texts(session, encoder)
    if limit is not None:
        todo = todo[:limit]
    for start in range(0, len(todo), 1000):
        chunk = todo[start:start + 1000]
        ensure_vectors(session, encoder, chunk,
                       progress=(lambda done, _t, s=start: progress(s + done, len(todo))) if progress else None)
    return len(todo)


def embed_articles(session: Session, encoder: Encoder | None) -> int:
    """Store the vectors of published articles that have none (an article just saved); returns how many.

    Called after the article's own commit: a failure is logged and the worker retries, the article
    is saved whatever happens here. Flushes, never commits.
    """
    if encoder is None:
        return 0
    texts = [article_text(a) for a in session.scalars(select(Article).where(Article.status == ArticleStatus.PUBLISHED))]
    try:
        found = lookup(session, encoder, texts)
        missing = [t for t in dict.fromkeys(texts) if text_key(t, encoder.name) not in found]
        if missing:
            ensure_vectors(session, encoder, missing)
        return len(missing)
    except Exception as error:  # derived data: never a reason to fail the save
        session.rollback()
        log.warning("could not embed saved articles now (%s); the worker will", error)
        return 0
