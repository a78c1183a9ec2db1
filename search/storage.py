"""Where the index lives on disk: generations and the CURRENT pointer.

Contract: an index directory holds complete Whoosh indexes named ``gen-*`` and
a ``CURRENT`` file naming the live one. A new generation is built under a
``.tmp-*`` name, renamed, and made live by replacing ``CURRENT`` atomically
(``os.replace`` after ``fsync``). The previous generation is kept for readers
in other processes; older ones and abandoned temporary builds are removed.

A generation may carry a checkpoint (``checkpoint.json``): the caller's
position in its own change log that the generation's documents reflect. It is
written into a new generation before that generation goes live, and replaced
atomically after each later commit, never before the data it describes. The
``LOCK`` file beside the generations serialises writers on one machine
(:mod:`search.locking`).
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable, Iterable

from whoosh import index as windex

from search.schema import build_schema, document_fields
from search.types import IndexedArticle, IndexUnavailable

POINTER = "CURRENT"
GENERATION_PREFIX = "gen-"
BUILD_PREFIX = ".tmp-"
CHECKPOINT = "checkpoint.json"
LOCK = "LOCK"


def pointer_name(root: str) -> str | None:
    """The live generation's directory name, or None if missing or invalid."""
    try:
        with open(os.path.join(root, POINTER), encoding="utf-8") as fh:
            name = fh.read().strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not name.startswith(GENERATION_PREFIX) or os.sep in name or "/" in name:
        return None
    return name


def pointer_signature(root: str) -> tuple[int, int, int] | None:
    """Changes whenever CURRENT is replaced (cheap: one stat)."""
    try:
        st = os.stat(os.path.join(root, POINTER))
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def live_dir(root: str) -> str | None:
    """Path of the live generation, or None."""
    name = pointer_name(root)
    if name is None:
        return None
    location = os.path.join(root, name)
    return location if os.path.isdir(location) else None


def new_generation(
    root: str,
    docs: Iterable[IndexedArticle],
    progress: Callable[[int], None] | None,
    checkpoint: int | None = None,
) -> tuple[str, int]:
    """Build a complete generation from ``docs`` in ``root``; returns (name, count)."""
    os.makedirs(root, exist_ok=True)
    building = tempfile.mkdtemp(prefix=BUILD_PREFIX, dir=root)
    try:
        count = build(building, docs, progress)
        if checkpoint is not None:
            write_checkpoint(building, checkpoint)
        name = f"{GENERATION_PREFIX}{time.time_ns():020d}-{os.urandom(4).hex()}"
        os.rename(building, os.path.join(root, name))
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return name, count


def write_pointer(root: str, name: str) -> None:
    """Make generation ``name`` live, atomically."""
    _replace_file(root, POINTER, name + "\n")


def read_checkpoint(location: str) -> int | None:
    """The checkpoint stored in generation ``location``; None if absent or unreadable."""
    try:
        with open(os.path.join(location, CHECKPOINT), encoding="utf-8") as fh:
            value = json.load(fh).get("checkpoint")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def write_checkpoint(location: str, value: int) -> None:
    """Replace generation ``location``'s checkpoint atomically."""
    _replace_file(location, CHECKPOINT, json.dumps({"checkpoint": int(value)}) + "\n")


def _replace_file(directory: str, name: str, text: str) -> None:
    """Write ``text`` to ``directory/name`` so readers see the old or the new file, whole."""
    fd, tmp = tempfile.mkstemp(prefix=BUILD_PREFIX, dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, os.path.join(directory, name))
    except BaseException:
        _remove(tmp)
        raise


def remove_old_generations(root: str, keep: set[str | None]) -> None:
    """Delete generations not in ``keep`` and every temporary build.

    Called by a rebuild under the update lock, so no other build can be
    running: a ``.tmp-*`` entry was left behind by a build that was killed.
    """
    for entry in os.scandir(root):
        if entry.name.startswith(GENERATION_PREFIX) and entry.name not in keep:
            shutil.rmtree(entry.path, ignore_errors=True)
        elif entry.name.startswith(BUILD_PREFIX):
            if entry.is_dir():
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                _remove(entry.path)


def build(
    location: str, docs: Iterable[IndexedArticle], progress: Callable[[int], None] | None
) -> int:
    """Write all ``docs`` into a fresh index at ``location``; returns the count."""
    ix = windex.create_in(location, build_schema())
    try:
        writer = ix.writer(limitmb=128)
        try:
            seen: set[int] = set()
            for doc in docs:
                fields = document_fields(doc)
                if doc.id in seen:
                    writer.update_document(**fields)
                else:
                    writer.add_document(**fields)
                    seen.add(doc.id)
                if progress is not None:
                    progress(len(seen))
        except BaseException:
            writer.cancel()
            raise
        writer.commit(optimize=True)
    finally:
        ix.close()
    return len(seen)


#: Whoosh's compound segment files, the ones it maps into memory (other files it reads with read()).
MAPPED_SUFFIX = ".seg"


def file_sizes(location: str) -> dict[str, int]:
    """Size of each mapped segment file of generation ``location`` now (taken right after a searcher maps them)."""
    sizes: dict[str, int] = {}
    try:
        entries = list(os.scandir(location))
    except OSError:
        return sizes
    for entry in entries:
        try:
            if entry.name.endswith(MAPPED_SUFFIX) and entry.is_file():
                sizes[entry.path] = entry.stat().st_size
        except OSError:
            continue
    return sizes


def shrunk_files(sizes: dict[str, int]) -> list[str]:
    """The files of ``sizes`` that are now shorter than recorded.

    Whoosh maps segment files into memory and never rewrites one in place: a
    commit adds new files and a merge deletes old ones (a deleted file stays
    readable through its map). A file that got shorter was cut under the map,
    and touching a page past its new end kills the process with SIGBUS, so a
    reader checks this (one stat a file) before each use of an open searcher.
    """
    shrunk = []
    for path, size in sizes.items():
        try:
            if os.stat(path).st_size < size:
                shrunk.append(path)
        except FileNotFoundError:  # merged away: the map keeps the old inode alive
            continue
        except OSError:
            shrunk.append(path)
    return shrunk


def unavailable(exc: Exception) -> IndexUnavailable:
    """IndexUnavailable for a Whoosh failure, releasing what the failure left open."""
    message = f"search index unreadable: {type(exc).__name__}: {exc}"
    # Whoosh leaks the file it was reading when a TOC or segment is corrupt: clear
    # the traceback's frames so the file closes here, quietly, not at a random later GC.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        seen: BaseException | None = exc
        while seen is not None:  # the error it was handling holds frames too
            traceback.clear_frames(seen.__traceback__)
            seen.__traceback__ = None
            seen = seen.__context__ or seen.__cause__
        gc.collect()
    return IndexUnavailable(message)


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass
