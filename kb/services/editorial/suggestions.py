"""The suggester in the product: fitted models, attaching articles, finding gaps.

Fitted models are derived data kept under the app server's models folder
(``MODELS_PATH``), shared by its processes. A model is identified by a
fingerprint of what it learned from (published articles and agents' linked
answers); it is refitted when that changes (by one process at a time, see
:class:`MatcherStore`), after a bulk import and by ``neuvo reindex``, and never
required to exist.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from flask import Flask, current_app
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, selectinload

from kb.models import Article, ArticleStatus, Ticket, TicketArticleLink, TicketSuggestion
from kb.services.batches import batched
from kb.services.helpcenter.search_index import rebuild
from kb.services.helpcenter.search_log import zero_result_searches
from search import SearchIndex
from search.locking import exclusive
from suggest import ArticleMatcher, ArticleText, GapMiner, GapReport, InquiryText, Ranking
from suggest.semantic import Encoder, article_input, load_encoder

log = logging.getLogger(__name__)
POINTER = "current.json"
FIT_LOCK = ".fit.lock"
#: Seconds a process waits for a sibling's fit before fitting itself (with no model to serve meanwhile).
FIT_WAIT = 600.0
ATTACH_K = 5
#: Distinct zero-result searches of a window embedded for gap mining at most (more: TF-IDF alone).
MAX_SEARCHES_EMBEDDED = 500


def article_texts(session: Session) -> list[ArticleText]:
    rows = session.scalars(select(Article).where(Article.status == ArticleStatus.PUBLISHED)
                           .options(selectinload(Article.category)).order_by(Article.id))
    return [ArticleText(slug=a.slug, title=a.title, body=a.body, language=a.language,
                        category=a.category.slug, tags=tuple(a.tags or ()),
                        group=str(a.group_id)) for a in rows]


def inquiry_texts(session: Session, *, since: datetime | None = None) -> list[InquiryText]:
    """Stored inquiries with the slugs agents linked to them, oldest first.

    Reads plain columns rather than ORM objects: gap mining may read 100,000 rows.
    """
    links: dict[int, list[str]] = {}
    for ticket_id, slug in session.execute(select(TicketArticleLink.ticket_id, Article.slug)
                                           .join(Article, Article.id == TicketArticleLink.article_id)):
        links.setdefault(ticket_id, []).append(slug)
    query = select(Ticket.id, Ticket.external_id, Ticket.subject, Ticket.body, Ticket.created_at,
                   Ticket.language, Ticket.channel)
    if since is not None:
        query = query.where(Ticket.created_at >= since)
    return [InquiryText(id=row.external_id, text=f"{row.subject}\n{row.body}".strip(), created_at=row.created_at,
                        language=row.language, channel=row.channel.value,
                        article_slugs=tuple(links.get(row.id, ())))
            for row in session.execute(query.order_by(Ticket.created_at, Ticket.id))]


def fingerprint(session: Session, encoder: str = "") -> str:
    """What a fitted matcher depends on: published articles, linked answers and the encoder used."""
    digest = hashlib.sha256(f"encoder|{encoder}\n".encode())
    for row in session.execute(select(Article.id, Article.slug, Article.updated_at, Article.translation_of_id)
                               .where(Article.status == ArticleStatus.PUBLISHED).order_by(Article.id)):
        digest.update(f"{row.id}|{row.slug}|{row.updated_at.isoformat()}|{row.translation_of_id}\n".encode())
    links = session.execute(select(func.count(TicketArticleLink.id), func.max(TicketArticleLink.id))).one()
    digest.update(f"links|{links[0]}|{links[1]}".encode())
    return digest.hexdigest()[:24]


@dataclass(frozen=True)
class _Fitted:
    fingerprint: str
    folder: str
    matcher: ArticleMatcher


class MatcherStore:
    """Fitted matchers on disk, shared by the processes of one app server.

    A folder per fit and a pointer (``current.json``) to the current one,
    swapped atomically. Each process keeps the matcher it loaded and:

    * computes the fingerprint (a database query) at most every ``check_every``
      seconds, and at once when another process saved a model or after
      :meth:`expire`;
    * fits only while holding the server's fit lock (``.fit.lock`` beside the
      models): one process fits, the others keep serving the model they have
      (or the last one saved) and load the new one when its pointer appears.
    """

    def __init__(self, path: str | os.PathLike, *, check_every: float = 0.0, fit_wait: float = FIT_WAIT,
                 semantic: str = "auto"):
        self.path = Path(path)
        self.semantic = semantic
        self.check_every = check_every
        self.fit_wait = fit_wait
        self._fitted: _Fitted | None = None
        self._checked_at = float("-inf")
        self._pointer_seen: tuple[int, int, int] | None = None

    def encoder(self) -> Encoder | None:
        """The sentence encoder this server uses (``semantic`` mode; loaded once per process), or None."""
        return load_encoder(self.semantic)

    def expire(self) -> None:
        """Look at the database on the next call (this process has just changed articles)."""
        self._checked_at = float("-inf")

    def current(self, session: Session, *, refit: bool = False,
                progress: Callable[[str], None] | None = None) -> ArticleMatcher | None:
        """The matcher for the database as it is now; None when there are no articles.

        ``refit`` fits afresh even when the fingerprint is unchanged (new inquiry history).
        """
        fitted, pointer_now = self._fitted, self._pointer_signature()
        if (not refit and fitted is not None and pointer_now == self._pointer_seen
                and time.monotonic() - self._checked_at < self.check_every):
            return fitted.matcher
        encoder = self.encoder()
        key = fingerprint(session, encoder.name if encoder is not None else "")
        self._checked_at = time.monotonic()
        if not refit:
            found = self._matching(key)
            if found is not None:
                return found.matcher
        with exclusive(self.path / FIT_LOCK, 0) as held:
            if held:
                return self._fit_locked(session, key, refit, progress)
        if not refit:
            previous = fitted or self._load_saved()
            if previous is not None:
                log.info("another process is fitting the suggester; serving the previous model meanwhile")
                self._fitted = previous
                return previous.matcher
        with exclusive(self.path / FIT_LOCK, self.fit_wait) as held:  # nothing to serve: wait for the sibling
            if not held:
                log.warning("the suggester fit lock at %s stayed busy; fitting anyway", self.path)
            return self._fit_locked(session, key, refit, progress)

    def _fit_locked(self, session: Session, key: str, refit: bool,
                    progress: Callable[[str], None] | None) -> ArticleMatcher | None:
        if not refit:
            found = self._matching(key)  # a sibling may have saved it meanwhile
            if found is not None:
                return found.matcher
        return self._fit(session, key, progress)

    def _matching(self, key: str) -> _Fitted | None:
        """The matcher for ``key``: the one held, or a newer save on disk (loaded)."""
        pointer = self._read_pointer()
        fitted = self._fitted
        if pointer is not None and pointer[0] == key and (fitted is None or fitted.folder != pointer[1]):
            loaded = self._load(*pointer)
            if loaded is not None:
                self._fitted = loaded
                return loaded
        if fitted is not None and fitted.fingerprint == key:
            return fitted
        return None

    def _load_saved(self) -> _Fitted | None:
        """The last saved model, whatever it was fitted on."""
        pointer = self._read_pointer()
        return None if pointer is None else self._load(*pointer)

    def _fit(self, session: Session, key: str, progress: Callable[[str], None] | None) -> ArticleMatcher | None:
        articles = article_texts(session)
        if not articles:
            return None
        if progress:
            progress(f"fitting the suggester on {len(articles)} articles")
        history = inquiry_texts(session)
        encoder = self.encoder()
        if encoder is None:
            matcher = ArticleMatcher().fit(articles, history=history)
        else:
            from kb.services.editorial.text_vectors import ensure_vectors, stored_matrix

            # Articles are few (embedded now if the save did not); inquiries without a vector yet
            # (the worker has not reached them) take part on TF-IDF alone.
            av = ensure_vectors(session, encoder, [article_input(a.title, a.body, a.tags) for a in articles])
            hv, _ = stored_matrix(session, encoder, [q.text for q in history])
            matcher = ArticleMatcher().fit(articles, history=history, article_vectors=av, history_vectors=hv,
                                           encoder_name=encoder.name)
        self._fitted = _Fitted(key, self._save(key, matcher) or "", matcher)
        self._pointer_seen = self._pointer_signature()
        return matcher

    def _pointer_signature(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path / POINTER)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _read_pointer(self) -> tuple[str, str] | None:
        self._pointer_seen = self._pointer_signature()
        try:
            pointer = json.loads((self.path / POINTER).read_text(encoding="utf-8"))
            return str(pointer["fingerprint"]), str(pointer["folder"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.warning("suggester model pointer unreadable, refitting: %s", error)
            return None

    def _load(self, key: str, folder: str) -> _Fitted | None:
        if Path(folder).name != folder:
            log.warning("suggester model pointer names %r, not a folder here; refitting", folder)
            return None
        try:
            return _Fitted(key, folder, ArticleMatcher.load(self.path / folder))
        except (OSError, ValueError, KeyError) as error:
            if not isinstance(error, FileNotFoundError):
                log.warning("fitted suggester unreadable, refitting: %s", error)
            return None

    def _save(self, key: str, matcher: ArticleMatcher) -> str | None:
        """Write a new model folder, then swap the pointer; returns the folder's name.

        The previous folder stays for processes still loading it; older ones go.
        """
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            previous = self._read_pointer()
            folder = Path(tempfile.mkdtemp(prefix=f"matcher-{key}-", dir=self.path))
            matcher.save(folder)
            fd, tmp = tempfile.mkstemp(prefix=".current.", dir=self.path)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"fingerprint": key, "folder": folder.name}, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path / POINTER)
            keep = {folder.name, previous[1] if previous else None}
            for old in self.path.glob("matcher-*"):
                if old.name not in keep:
                    shutil.rmtree(old, ignore_errors=True)
            return folder.name
        except OSError as error:  # a cache: serving goes on without it
            log.warning("could not save the fitted suggester: %s", error)
            return None


def attach_suggestions(session: Session, tickets: Sequence[Ticket], matcher: ArticleMatcher | None, *,
                       now: datetime, k: int = ATTACH_K) -> None:
    """Store the top-``k`` suggested articles (with scores) for each ticket.

    Works through the tickets in batches and writes the suggestions as plain rows, not
    ORM objects: an import of 100,000 inquiries would otherwise hold half a million
    objects in the session.
    """
    if not tickets:
        return
    session.flush()
    ids = dict(session.execute(select(Article.slug, Article.id).where(Article.status == ArticleStatus.PUBLISHED)).all())
    for chunk in batched(tickets):
        session.execute(delete(TicketSuggestion).where(TicketSuggestion.ticket_id.in_([t.id for t in chunk])),
                        execution_options={"synchronize_session": False})
        if matcher is None:
            continue
        rankings = rank_stored(session, matcher, [t.text for t in chunk], [t.language for t in chunk], k=k)
        rows = []
        for ticket, ranking in zip(chunk, rankings):
            ticket.suggestion_confident = ranking.confident
            rows += [{"ticket_id": ticket.id, "article_id": ids[s.slug], "rank": rank, "score": s.score,
                      "created_at": now} for rank, s in enumerate(ranking.suggestions, 1) if s.slug in ids]
        if rows:
            session.execute(insert(TicketSuggestion), rows)
    for ticket in tickets:  # the relationship was loaded before the rows changed underneath it
        if "suggestions" in ticket.__dict__:
            session.expire(ticket, ["suggestions"])


def rank_texts(matcher: ArticleMatcher | None, texts: Sequence[str], languages: Sequence[str | None],
               *, k: int, vectors=None) -> list[Ranking]:
    """Rankings of ``texts``; with ``vectors`` (one row per text) the semantic signal is mixed in."""
    if matcher is None:
        return [Ranking(suggestions=[], confident=False) for _ in texts]
    return matcher.rank_many(list(texts), k=k, languages=list(languages), vectors=vectors)


def rank_stored(session: Session, matcher: ArticleMatcher, texts: Sequence[str], languages: Sequence[str | None],
                *, k: int) -> list[Ranking]:
    """Rank texts with their stored vectors where they have one, on TF-IDF alone where not."""
    from kb.services.editorial.text_vectors import stored_matrix

    encoder = load_encoder("auto") if matcher.uses_semantic else None
    if encoder is None or encoder.name != matcher.encoder_name_:
        return matcher.rank_many(list(texts), k=k, languages=list(languages))
    vectors, have = stored_matrix(session, encoder, texts)
    out: list[Ranking | None] = [None] * len(texts)
    for mask, rows in ((have, vectors), (~have, None)):
        idx = np.flatnonzero(mask)
        if idx.size:
            ranked = matcher.rank_many([texts[i] for i in idx], k=k, languages=[languages[i] for i in idx],
                                       vectors=None if rows is None else rows[idx])
            for i, ranking in zip(idx, ranked):
                out[i] = ranking
    return out  # type: ignore[return-value]


def find_gaps(session: Session, matcher: ArticleMatcher | None, *, as_of: datetime, days: int, top: int,
              progress: Callable[[str], None] | None = None) -> GapReport:
    """The ``top`` most-asked questions of the window that no published article answers."""
    start = as_of - timedelta(days=days)
    searches = [(s.query, s.created_at, s.language or None)
                for s in zero_result_searches(session, since=start, until=as_of)]
    inquiries = inquiry_texts(session, since=start - timedelta(days=1))
    search_vectors = None
    encoder = load_encoder("auto") if matcher is not None and matcher.uses_semantic else None
    if encoder is not None and encoder.name == matcher.encoder_name_:
        from kb.services.editorial.text_vectors import ensure_vectors

        def search_vectors(texts: list[str]) -> np.ndarray | None:
            # A few hundred distinct searches at most in a window: embedded here, kept like the others.
            if len(texts) > MAX_SEARCHES_EMBEDDED:
                return None
            return ensure_vectors(session, encoder, texts)
    return GapMiner(days=days, top=top).mine(inquiries, article_texts(session), as_of=as_of, matcher=matcher,
                                             zero_result_searches=searches, progress=progress,
                                             search_vectors=search_vectors)


def refresh_derived(session: Session, search_index: SearchIndex, store: MatcherStore, *, now: datetime,
                    progress: Callable[[str], None] | None = None) -> None:
    """After a bulk load: rebuild the index, refit the suggester, re-attach every ticket's suggestions."""
    rebuild(session, search_index)
    matcher = store.current(session, refit=True, progress=progress)
    attach_suggestions(session, session.scalars(select(Ticket)).all(), matcher, now=now)


def init_matchers(app: Flask) -> None:
    """The app's store of fitted models, which looks for fits made elsewhere as often as the index syncs."""
    app.extensions["neuvo_matchers"] = MatcherStore(app.config["MODELS_PATH"],
                                                    check_every=float(app.config["INDEX_SYNC_SECONDS"]),
                                                    semantic=app.config.get("SUGGEST_SEMANTIC") or "auto")


def matchers() -> MatcherStore:
    """The current app's :class:`MatcherStore`."""
    return current_app.extensions["neuvo_matchers"]
