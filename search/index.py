"""The on-disk index: lifecycle, writes and searching.

Contract:

* ``SearchIndex(path)`` touches nothing until used. ``path`` is a directory
  holding generations (``gen-*`` Whoosh indexes) and a ``CURRENT`` file naming
  the live one. :meth:`SearchIndex.rebuild` builds a complete index in a
  temporary sibling directory and swaps ``CURRENT`` with ``os.replace``, so
  other processes keep searching the old generation until they notice.
* A missing or unreadable index raises :class:`IndexUnavailable` from
  :meth:`search`, :meth:`upsert`, :meth:`delete`, :meth:`doc_ids` and
  :meth:`suggest_titles`; the index is a cache and ``rebuild`` recovers it.
* Writes take the Whoosh writer lock for at most :attr:`lock_timeout` seconds
  (then :class:`IndexBusy`); never an ``AsyncWriter``. :meth:`apply` writes
  upserts and deletions in one commit and then, never before, the caller's
  checkpoint (its position in a change log; :meth:`checkpoint` reads it back).
  :meth:`exclusive` is the per-machine lock that callers hold so that one
  process at a time brings the index up to date.
* Each ``SearchIndex`` keeps one searcher, guarded by a lock, refreshed after
  its own writes and when another process commits or swaps the index. Whoosh
  maps segment files into memory; before each use the searcher checks that no
  file it mapped got shorter (cut under the map, reading it would kill the
  process with SIGBUS): such an index is closed and reported unavailable, so
  the caller rebuilds it (:func:`search.storage.shrunk_files`).
* Searching never raises for typed text (see :mod:`search.query`).
* Word queries are scored with NumPy by :class:`search.ranking.ArrayScorer`
  (Whoosh's BM25F, whole posting blocks at a time; 10k articles: p99 ~7 ms
  instead of ~100 ms); quoted phrases go through Whoosh's matchers. That
  query execution lives in :mod:`search.execute`.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager

from whoosh import index as windex
from whoosh.filedb.filestore import FileStorage
from whoosh.query import Prefix, Query, Term
from whoosh.searching import Searcher
from whoosh.writing import IndexWriter

from search.execute import MAX_DEPTH, QueryExecution, _hit, _hit_from, _restriction  # noqa: F401 (MAX_DEPTH re-exported)
from search.locking import exclusive
from search.query import plan
from search.ranking import ArrayScorer
from search.schema import document_fields
from search.storage import (
    LOCK,
    file_sizes,
    live_dir,
    new_generation,
    pointer_name,
    pointer_signature,
    read_checkpoint,
    remove_old_generations,
    shrunk_files,
    unavailable,
    write_checkpoint,
    write_pointer,
)
from search.text import normalise_query, words
from search.types import (
    LANGUAGES,
    Hit,
    IndexBusy,
    IndexedArticle,
    IndexUnavailable,
    SearchResults,
)

log = logging.getLogger(__name__)

MAX_PER_PAGE = 100


class SearchIndex(QueryExecution):
    """A Whoosh full-text index of knowledge-base articles in fi/sv/en."""

    #: Seconds to wait for the writer lock before :class:`IndexBusy`.
    lock_timeout: float = 5.0
    #: The AND of the words must find this many articles, else the OR ranking is used.
    #: With block-wise scoring OR costs about what AND does; 100 keeps relevance equal
    #: to a plain OR at 1k and 10k articles (bench/README_search.md, the sweep).
    min_and_hits: int = 100
    #: "Did you mean" is only tried when fewer than this many articles match.
    suggest_below: int = 3
    #: Whoosh block-quality skipping on the Whoosh path (phrase queries only);
    #: off, every match is scored but counting is free.
    optimize: bool = False
    #: Score Term/Prefix/And/Or queries with :class:`~search.ranking.ArrayScorer`
    #: (same BM25F, whole posting blocks at a time) instead of Whoosh's matchers.
    array_scoring: bool = True

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = os.fspath(path)
        self._lock = threading.RLock()
        self._open = _OpenSearcher()
        # An open searcher holds file handles: close them if this index is dropped
        # without close(); the callback runs before the files' own finalizers.
        weakref.finalize(self, self._open.close)
        self._signature: tuple[int, int, int] | None = None
        self._arrays: ArrayScorer | None = None

    @property
    def _searcher(self) -> Searcher | None:
        return self._open.searcher

    @_searcher.setter
    def _searcher(self, searcher: Searcher | None) -> None:
        self._open.searcher = searcher

    # -- lifecycle -----------------------------------------------------------

    def exists(self) -> bool:
        """True if a live generation is present (it may still prove corrupt)."""
        location = live_dir(self.path)
        if location is None:
            return False
        try:
            return FileStorage(location).index_exists()
        except Exception as exc:  # present but unreadable: reading it says so
            unavailable(exc)
            return True

    def rebuild(
        self,
        docs: Iterable[IndexedArticle],
        progress: Callable[[int], None] | None = None,
        *,
        checkpoint: int | None = None,
    ) -> int:
        """Index ``docs`` into a new generation and swap it in; returns the count.

        ``progress`` is called with the number of articles indexed so far;
        ``checkpoint`` is stored with the new generation before it goes live.
        Call it holding :meth:`exclusive`: temporary builds it finds are taken
        as abandoned by a killed rebuild and removed.
        """
        name, count = new_generation(self.path, docs, progress, checkpoint)
        previous = pointer_name(self.path)
        write_pointer(self.path, name)
        remove_old_generations(self.path, keep={name, previous})
        with self._lock:
            self._close_searcher()
        return count

    def checkpoint(self) -> int | None:
        """The checkpoint stored with the live generation; None without one (or without an index)."""
        location = live_dir(self.path)
        return None if location is None else read_checkpoint(location)

    def exclusive(self, timeout: float) -> AbstractContextManager[bool]:
        """Hold this machine's update lock (yields False if not obtained within ``timeout`` s)."""
        return exclusive(os.path.join(self.path, LOCK), timeout)

    def close(self) -> None:
        """Release the searcher and its open files."""
        with self._lock:
            self._close_searcher()

    def __enter__(self) -> SearchIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writes --------------------------------------------------------------

    def upsert(self, docs: Iterable[IndexedArticle]) -> None:
        """Add or replace articles by id."""
        self.apply(upserts=docs)

    def delete(self, ids: Iterable[int]) -> None:
        """Remove articles by id (unknown ids are ignored)."""
        self.apply(deletes=ids)

    def apply(
        self,
        upserts: Iterable[IndexedArticle] = (),
        deletes: Iterable[int] = (),
        *,
        checkpoint: int | None = None,
    ) -> None:
        """Add or replace ``upserts`` and remove ``deletes`` in one commit, then store ``checkpoint``.

        A crash between the two leaves the previous checkpoint: the caller
        applies the same changes again, which gives the same index.
        """
        with self._writer() as (writer, location):
            for doc in upserts:
                writer.update_document(**document_fields(doc))
            for article_id in deletes:
                writer.delete_by_term("id", str(int(article_id)))
        if checkpoint is not None:
            try:
                write_checkpoint(location, checkpoint)
            except OSError as exc:
                raise IndexUnavailable(f"cannot store the index checkpoint: {exc}") from exc

    # -- reads ---------------------------------------------------------------

    def versions(self) -> dict[int, str | None]:
        """Each live article's id and indexed version (:func:`search.schema.document_version`)."""
        with self._reading() as searcher:
            return {int(fields["id"]): fields.get("version")
                    for fields in searcher.reader().all_stored_fields()}

    def doc_ids(self) -> set[int]:
        """Ids of all live articles in the index, to verify it against the database."""
        with self._reading() as searcher:
            reader = searcher.reader()
            found: set[int] = set()
            for term in reader.lexicon("id"):
                postings = reader.postings("id", term)
                if any(not reader.is_deleted(d) for d in postings.all_ids()):
                    found.add(int(term.decode("utf-8")))
            return found

    def search(
        self,
        query: str,
        *,
        language: str | None = None,
        category: str | None = None,
        page: int = 1,
        per_page: int = 10,
    ) -> SearchResults:
        """One page of articles matching typed ``query``, best first."""
        page = max(1, _int(page, 1))
        per_page = min(MAX_PER_PAGE, max(1, _int(per_page, 10)))
        language = language if language in LANGUAGES else None
        query_plan = plan(normalise_query(query), language)
        with self._reading() as searcher:
            if query_plan.all_query is None:
                return SearchResults(query_plan.text, 0, page, per_page, [], None)
            restrict = _restriction(category)
            if restrict is not None and not searcher.reader().doc_frequency("category", category):
                # Whoosh ignores a filter matching nothing; an unknown category finds nothing.
                return SearchResults(query_plan.text, 0, page, per_page, [], None)
            total, page_hits = self._run(searcher, query_plan, restrict, page, per_page)
            suggestion = None
            if total < self.suggest_below:
                suggestion = self._did_you_mean(searcher, query_plan, language, restrict, total)
            hits = [_hit(searcher, docnum, score, query_plan) for docnum, score in page_hits]
        return SearchResults(query_plan.text, total, page, per_page, hits, suggestion)

    def suggest_titles(
        self, prefix: str, *, language: str | None = None, limit: int = 8
    ) -> list[Hit]:
        """Articles whose title words start with what is being typed (``snippet_html`` empty)."""
        limit = min(MAX_PER_PAGE, max(1, _int(limit, 8)))
        language = language if language in LANGUAGES else None
        text = normalise_query(prefix)
        typed = words(text)
        if not typed:
            return []
        head = plan(" ".join(typed[:-1]), language).all_query if len(typed) > 1 else None
        last = typed[-1]
        with self._reading() as searcher:
            queries: list[Query] = []
            if len(last) >= 2:
                started = Prefix("prefix", last)
                queries.append(started if head is None else head & started)
            queries.append(plan(text, language).all_query)
            restrict = Term("language", language) if language else None
            seen: set[int] = set()
            hits: list[Hit] = []
            for q in queries:
                if q is None:
                    continue
                for found in searcher.search(q, limit=limit, filter=restrict):
                    fields = found.fields()
                    article_id = int(fields["id"])
                    if article_id not in seen and len(hits) < limit:
                        seen.add(article_id)
                        hits.append(_hit_from(fields, "", found.score))
                if len(hits) >= limit:
                    break
            return hits

    # -- internals (query execution: search.execute.QueryExecution) ----------

    @contextmanager
    def _reading(self) -> Iterator[Searcher]:
        """The shared searcher, held under the lock; index errors -> IndexUnavailable."""
        with self._lock:
            searcher = self._current_searcher()
            error: IndexUnavailable | None = None
            try:
                yield searcher
            except (IndexUnavailable, IndexBusy):
                raise
            except Exception as exc:
                log.warning("search index unreadable at %s: %r", self.path, exc)
                self._close_searcher()
                error = unavailable(exc)
            if error is not None:
                raise error

    def _current_searcher(self) -> Searcher:
        signature = pointer_signature(self.path)
        if signature is None:
            self._close_searcher()
            raise IndexUnavailable(f"no search index at {self.path}")
        if self._searcher is not None:
            shrunk = shrunk_files(self._open.sizes)
            if shrunk:
                log.warning("search index files cut short under their memory map at %s: %s", self.path, shrunk)
                self._close_searcher()
                raise IndexUnavailable(f"search index files cut short: {', '.join(shrunk)}")
        try:
            if self._searcher is None or signature != self._signature:
                self._close_searcher()
                self._searcher = self._open_index().searcher()
                self._open.sizes = file_sizes(self._searcher._ix.storage.folder)
                self._signature = signature
            elif not self._searcher.up_to_date():
                self._reopen()
        except IndexUnavailable:
            raise
        except Exception as exc:
            log.warning("cannot open search index at %s: %r", self.path, exc)
            self._close_searcher()
            error = unavailable(exc)
            raise error from None
        return self._searcher

    def _close_searcher(self) -> None:
        if self._searcher is not None:
            try:
                self._searcher.close()
            except Exception:  # a corrupt index may fail even to close
                log.debug("closing searcher failed", exc_info=True)
        self._searcher, self._signature, self._arrays = None, None, None
        self._open.sizes = {}

    def _open_index(self, location: str | None = None) -> windex.Index:
        location = location or live_dir(self.path)
        if location is None:
            raise IndexUnavailable(f"no search index at {self.path}")
        try:
            return FileStorage(location).open_index()
        except Exception as exc:
            error = unavailable(exc)
        raise error

    @contextmanager
    def _writer(self) -> Iterator[tuple[IndexWriter, str]]:
        """A writer on the live generation, and that generation's directory."""
        location = live_dir(self.path)
        if location is None:
            raise IndexUnavailable(f"no search index at {self.path}")
        ix = self._open_index(location)
        try:
            try:
                writer = ix.writer(timeout=self.lock_timeout, delay=0.05)
            except windex.LockError as exc:
                raise IndexBusy(f"index writer lock busy at {self.path}") from exc
            except Exception as exc:
                failure = unavailable(exc)
                raise failure from None
            error: IndexUnavailable | None = None
            try:
                yield writer, location
            except (IndexUnavailable, IndexBusy):
                writer.cancel()
                raise
            except Exception as exc:
                # update_document reads the existing segments: a corrupt one fails here.
                _cancel(writer)
                error = unavailable(exc)
            except BaseException:
                writer.cancel()
                raise
            if error is not None:
                raise error
            try:
                writer.commit()
            except Exception as exc:
                _cancel(writer)  # a failed commit keeps Whoosh's write lock: every later write would time out
                raise IndexUnavailable(str(exc)) from exc
        finally:
            ix.close()
        with self._lock:
            if self._searcher is not None:
                try:
                    self._reopen()
                except Exception:
                    self._close_searcher()

    def _reopen(self) -> None:
        # Not Searcher.refresh(): it reuses segment readers by segment name and
        # so misses deletions committed to a segment it already has open.
        if self._searcher is None:
            return
        ix = self._searcher._ix
        self._arrays = None
        self._searcher.close()
        self._searcher = ix.searcher()
        self._open.sizes = file_sizes(ix.storage.folder)


class _OpenSearcher:
    """The searcher of a :class:`SearchIndex`, held apart so a finalizer can close it."""

    __slots__ = ("searcher", "sizes")

    def __init__(self) -> None:
        self.searcher: Searcher | None = None
        #: each file of the searcher's generation -> its size when the searcher mapped it
        self.sizes: dict[str, int] = {}

    def close(self) -> None:
        if self.searcher is not None:
            try:
                self.searcher.close()
            except Exception:  # a corrupt index may fail even to close
                log.debug("closing searcher failed", exc_info=True)
            self.searcher = None
        self.sizes = {}


def _cancel(writer: IndexWriter) -> None:
    try:
        writer.cancel()
    except Exception:  # the lock must go even if the segments are broken
        log.debug("cancelling writer failed", exc_info=True)
        lock = getattr(writer, "writelock", None)
        if lock is not None and getattr(lock, "fd", None) is not None:
            lock.release()


def _int(value: object, default: int) -> int:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        return default
