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
from tests.search_helpers import A, ARTICLES, slugs


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
