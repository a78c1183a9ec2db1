"""Unit tests for the plain search library (no Flask): the on-disk index's lifecycle, writes, locks,
threads and the array scorer against Whoosh's matchers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from search import (
    IndexBusy,
    IndexUnavailable,
    SearchIndex,
)
from tests.support.search_helpers import A, ARTICLES, slugs


@pytest.fixture()
def fresh(tmp_path: Path) -> SearchIndex:
    """A writable index of the fixture articles, per test."""
    index = SearchIndex(tmp_path / "index")
    index.rebuild(ARTICLES)
    yield index
    index.close()


def test_missing_index_is_unavailable(tmp_path):
    index = SearchIndex(tmp_path / "nowhere")
    assert not index.exists()
    assert not (tmp_path / "nowhere").exists()  # nothing touched until used
    for call in (
        lambda: index.search("palautus"),
        lambda: index.upsert(ARTICLES[:1]),
        lambda: index.delete([1]),
        lambda: index.doc_ids(),
        lambda: index.suggest_titles("pal"),
    ):
        with pytest.raises(IndexUnavailable):
            call()


def _corrupt(root: Path, suffix: str) -> None:
    live = root / (root / "CURRENT").read_text().strip()
    for path in live.iterdir():
        if path.is_file() and path.name.endswith(suffix):
            data = path.read_bytes()
            path.write_bytes(data[: len(data) // 3])


@pytest.mark.parametrize("suffix", ["", ".seg", ".toc"])
def test_corrupt_index_is_unavailable_then_rebuild_restores(tmp_path, suffix):
    root = tmp_path / "index"
    index = SearchIndex(root)
    index.rebuild(ARTICLES)
    _corrupt(root, suffix)
    index.close()
    with pytest.raises(IndexUnavailable):
        index.search("palautus")
    with pytest.raises(IndexUnavailable):
        index.upsert(ARTICLES[:1])
    with pytest.raises(IndexUnavailable):
        index.search("palautus")  # still unavailable, not a stale or half-open searcher
    assert index.rebuild(ARTICLES) == len(ARTICLES)
    assert index.doc_ids() == {a.id for a in ARTICLES}
    assert slugs(index.search("palautuksen"))[0] == "palautukset"


def test_deleted_generation_is_unavailable(fresh):
    import shutil

    assert fresh.search("palautus").total
    live = Path(fresh.path) / (Path(fresh.path) / "CURRENT").read_text().strip()
    shutil.rmtree(live)
    fresh.close()
    assert not fresh.exists()
    with pytest.raises(IndexUnavailable):
        fresh.search("palautus")
    fresh.rebuild(ARTICLES)
    assert fresh.search("palautus").total


def test_rebuild_recovers_from_garbage_pointer(tmp_path):
    root = tmp_path / "index"
    root.mkdir()
    (root / "CURRENT").write_text("../../etc\n")
    index = SearchIndex(root)
    assert not index.exists()
    with pytest.raises(IndexUnavailable):
        index.search("x")
    index.rebuild(ARTICLES)
    assert index.exists() and index.search("returnera").total >= 1


def test_rebuild_swaps_while_searcher_open(tmp_path):
    root = tmp_path / "index"
    reader, builder = SearchIndex(root), SearchIndex(root)
    builder.rebuild(ARTICLES[:3])
    assert reader.search("maksutavat").total == 0  # searcher now open on generation 1
    builder.rebuild(ARTICLES)
    assert slugs(reader.search("maksutavat"))[0] == "maksutavat"
    builder.rebuild(ARTICLES[:1])
    builder.rebuild(ARTICLES[:2])
    assert reader.doc_ids() == {1, 2}
    generations = [p.name for p in root.iterdir() if p.name.startswith("gen-")]
    assert len(generations) <= 2  # old generations are cleaned up
    reader.close()
    builder.close()


def test_upsert_and_delete_update_results(fresh):
    assert fresh.search("lahjakortti").total == 0
    fresh.upsert([A(30, "lahjakortit", "fi", "Lahjakortit", "Lahjakortti on voimassa vuoden.", "maksaminen")])
    assert slugs(fresh.search("lahjakortin"))[0] == "lahjakortit"
    fresh.upsert([A(30, "lahjakortit", "fi", "Lahjakortit ja alennuskoodit", "Koodi syötetään kassalla.", "maksaminen")])
    assert fresh.search("alennuskoodi").total == 1
    assert fresh.search("voimassa").total == 0  # the old version is gone
    fresh.delete([30, 1, 12345])
    assert fresh.search("alennuskoodi").total == 0
    assert fresh.doc_ids() == {a.id for a in ARTICLES} - {1}


def test_writes_from_another_object_are_seen(fresh):
    other = SearchIndex(fresh.path)
    assert fresh.search("maksutavat").total == 1
    other.delete([4])
    assert fresh.search("maksutavat").total == 0
    other.close()


def test_writer_lock_timeout_raises_busy(fresh):
    from whoosh import index as windex

    live = Path(fresh.path) / (Path(fresh.path) / "CURRENT").read_text().strip()
    ix = windex.open_dir(live)
    writer = ix.writer()
    try:
        fresh.lock_timeout = 0.2
        with pytest.raises(IndexBusy):
            fresh.upsert(ARTICLES[:1])
    finally:
        writer.cancel()
        ix.close()
    fresh.upsert(ARTICLES[:1])


def test_progress_and_count(tmp_path):
    seen: list[int] = []
    index = SearchIndex(tmp_path)
    assert index.rebuild(ARTICLES + ARTICLES[:2], progress=seen.append) == len(ARTICLES)
    assert seen[-1] == len(ARTICLES)
    assert index.doc_ids() == {a.id for a in ARTICLES}


def test_library_imports_no_web_stack():
    code = (
        "import sys, search; bad = {'flask', 'sqlalchemy', 'kb'} & set(sys.modules); "
        "sys.exit(sorted(bad) or 0)"
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-W", "error", "-c", code], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr + done.stdout


def test_threads_share_one_index_safely(fresh):
    import threading

    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(30):
                assert fresh.search("palautuksen").results[0].slug == "palautukset"
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    fresh.upsert([A(40, "lahjakortit", "fi", "Lahjakortit", "Lahjakortti on voimassa vuoden.", "maksaminen")])
    for t in threads:
        t.join()
    assert errors == []
    assert fresh.search("lahjakortti").total == 1


@pytest.mark.parametrize("query", ["return order", "payment methods order", "shipping costs days", "refunds"])
def test_array_scoring_equals_whoosh(fresh, query):
    # A second segment and a deletion: offsets and deleted documents must line up.
    fresh.upsert([A(24, "change-order", "en", "Changing an order",
                    "You can change your order until it is packed. Returns of orders are free.",
                    "orders")])
    fresh.upsert([A(25, "order-status", "en", "Order status", "Track your order and its return.", "orders")])
    fresh.delete([22])
    fast = fresh.search(query, language="en", per_page=20)
    fresh.array_scoring = False
    try:
        slow = fresh.search(query, language="en", per_page=20)
    finally:
        fresh.array_scoring = True
    assert fast.total == slow.total > 0
    assert [h.id for h in fast.results] == [h.id for h in slow.results]
    assert [h.score for h in fast.results] == pytest.approx([h.score for h in slow.results])
    assert 22 not in {h.id for h in fast.results}


# -- several processes per machine: checkpoints, versions, the update lock ----


def _live(root: Path) -> Path:
    return root / (root / "CURRENT").read_text().strip()


def test_checkpoint_travels_with_its_generation(tmp_path):
    index = SearchIndex(tmp_path / "index")
    assert index.checkpoint() is None  # no index yet
    index.rebuild(ARTICLES[:3], checkpoint=5)
    assert index.checkpoint() == 5
    index.apply(upserts=[A(30, "lahjakortit", "fi", "Lahjakortit", "Lahjakortti on voimassa.", "maksaminen")],
                deletes=[1], checkpoint=7)
    assert index.checkpoint() == 7
    assert slugs(index.search("lahjakortti")) == ["lahjakortit"] and index.search("palautus").total == 0
    index.apply(upserts=ARTICLES[:1])  # no checkpoint given: the stored one stays
    assert index.checkpoint() == 7
    index.rebuild(ARTICLES, checkpoint=3)  # a new generation brings its own
    assert index.checkpoint() == 3
    (_live(Path(index.path)) / "checkpoint.json").write_text("{not json")
    assert index.checkpoint() is None  # unreadable: the caller rebuilds
    index.rebuild(ARTICLES)
    assert index.checkpoint() is None
    index.close()


def test_versions_tell_which_article_version_is_indexed(fresh):
    from dataclasses import replace
    from datetime import UTC, datetime

    from search import document_version

    assert fresh.versions() == {a.id: document_version(a) for a in ARTICLES}
    edited = replace(ARTICLES[0], title="Palautukset", updated_at=datetime(2026, 11, 24, tzinfo=UTC))
    assert document_version(edited) != document_version(ARTICLES[0])
    fresh.apply(upserts=[edited], deletes=[2])
    versions = fresh.versions()
    assert versions[1] == document_version(edited) and 2 not in versions


def test_update_lock_excludes_threads_and_processes_and_dies_with_its_holder(fresh):
    import signal
    import threading

    with fresh.exclusive(0) as held:
        assert held
        other: list[bool] = []

        def try_lock() -> None:
            with fresh.exclusive(0) as got:
                other.append(got)

        thread = threading.Thread(target=try_lock)
        thread.start()
        thread.join()
        assert other == [False]
    code = (
        "import sys, time; from search import SearchIndex\n"
        "with SearchIndex(sys.argv[1]).exclusive(5) as held:\n"
        "    print(held, flush=True); time.sleep(60)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code, fresh.path], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "True"
        with fresh.exclusive(0) as held:
            assert not held
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        with fresh.exclusive(5) as held:
            assert held  # a killed holder never leaves the lock held
    finally:
        holder.kill()
        holder.wait(10)
        holder.stdout.close()


def test_failed_commit_releases_the_write_lock(fresh, monkeypatch):
    """A commit that fails (disk full while writing the table of contents) must not leave Whoosh's
    write lock behind: every later write would wait and then fail as busy."""
    from whoosh import writing

    real = writing.SegmentWriter._finalize_segment
    calls = {"n": 0}

    def full_disk(self):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError(28, "No space left on device")
        return real(self)

    monkeypatch.setattr(writing.SegmentWriter, "_finalize_segment", full_disk)
    fresh.lock_timeout = 0.5
    changed = ARTICLES[0]
    with pytest.raises(IndexUnavailable):
        fresh.upsert([changed])
    fresh.upsert([changed])  # IndexBusy here if the lock had stayed
    assert calls["n"] == 2
    assert fresh.doc_ids() == {a.id for a in ARTICLES}


CUT_UNDER_THE_MAP = r"""
import os, sys
from pathlib import Path
from search import IndexUnavailable, SearchIndex
from tests.support.search_helpers import ARTICLES

root = Path(sys.argv[1])
index = SearchIndex(root)
index.rebuild(ARTICLES)
assert index.search("palautuksen").total  # the searcher has mapped its segment files
live = root / (root / "CURRENT").read_text().strip()
segments = [p for p in live.iterdir() if p.name.endswith(".seg")]
assert segments
for path in segments:
    os.truncate(path, 0)  # cut in place, under the map: every mapped page is now past the end
for call in (lambda: index.search("palautuksen"), lambda: index.doc_ids()):
    try:
        call()
    except IndexUnavailable:
        print("unavailable")
    else:
        print("answered")
index.rebuild(ARTICLES)
print(sorted(index.doc_ids()) == sorted(a.id for a in ARTICLES))
"""


def test_segment_files_cut_under_an_open_searcher_make_it_unavailable_not_a_crash(tmp_path):
    """Whoosh maps segment files: reading one cut short under the map killed the process with SIGBUS
    (a gunicorn worker died mid-request). The open searcher notices first and reports the index
    unavailable, which the web app answers by rebuilding it. In a child process, so a crash fails
    this test instead of killing the test run."""
    result = subprocess.run([sys.executable, "-c", CUT_UNDER_THE_MAP, str(tmp_path / "index")],
                            capture_output=True, text=True, timeout=120, check=False,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
    assert result.stdout.split() == ["unavailable", "unavailable", "True"]
