"""Unit tests for the plain search library (no Flask)."""

from __future__ import annotations

import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search import (
    Hit,
    IndexBusy,
    IndexedArticle,
    IndexUnavailable,
    SearchIndex,
    SearchResults,
    normalise_query,
)

A = IndexedArticle

ARTICLES = [
    A(1, "palautukset", "fi", "Palautukset ja palautusoikeus",
      "Voit palauttaa tuotteen **30 päivän** kuluessa. Tulosta palautusosoite "
      "tilaussivulta ja pakkaa tuote huolellisesti alkuperäiseen pakkaukseen.",
      "palautukset", ("palautus", "hyvitys")),
    A(2, "toimitusajat", "fi", "Toimitusajat ja -kulut",
      "Toimitusaika on yleensä 2–4 arkipäivää. Toimituskulut riippuvat "
      "toimitustavasta: noutopiste 4,90 €, kotiinkuljetus 9,90 €.",
      "toimitus"),
    A(3, "tilauksen-seuranta", "fi", "Tilauksen seuranta",
      "Näet tilauksesi tilan kirjautumalla tiliisi. Seurantakoodi lähetetään "
      "sähköpostilla, kun paketti on lähtenyt varastolta.",
      "tilaukset"),
    A(4, "maksutavat", "fi", "Maksutavat",
      "Hyväksymme verkkopankin, korttimaksun ja laskun. Laskun eräpäivä on 14 päivää.",
      "maksaminen"),
    A(5, "tilauksen-muuttaminen", "fi", "Tilauksen muuttaminen",
      "Voit muuttaa tilausta, kunnes se on pakattu. Palautus ei ole tarpeen, "
      "jos peruutat tilauksen ennen pakkaamista.",
      "tilaukset"),
    A(11, "returer", "sv", "Returer och ångerrätt",
      "Du kan returnera varan inom 30 dagar. Ångerrätten gäller alla köp i webbutiken. "
      "Skriv ut returetiketten från din beställning.",
      "returer"),
    A(12, "leveranstider", "sv", "Leveranstider och fraktkostnader",
      "Leveranstiden är 2–4 vardagar. Fraktkostnaden beror på leveranssättet: "
      "ombud 4,90 €, hemleverans 9,90 €.",
      "leverans"),
    A(13, "betalning", "sv", "Betalningssätt",
      "Vi tar emot kort, nätbank och faktura. Fakturan ska betalas inom 14 dagar.",
      "betalning"),
    A(21, "returns", "en", "Returns and refunds",
      "You can return an item within 30 days of delivery. Print the return label "
      "from your order page. Refunds reach your account in 5 business days.",
      "returns"),
    A(22, "delivery-times", "en", "Delivery times and shipping costs",
      "Orders ship within 2 working days. Shipping to a parcel locker costs 4.90 €.",
      "delivery"),
    A(23, "payment-methods", "en", "Payment methods",
      "We accept cards, online banking and invoices. You can return to the shop "
      "after paying to see your receipt.",
      "payment"),
    A(24, "change-order", "en", "Changing an order",
      "You can change your order until it is packed. Payment methods cannot be "
      "changed after the order is paid.",
      "orders"),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    """A shared, read-only index of the fixture articles."""
    index = SearchIndex(tmp_path_factory.mktemp("index"))
    assert index.rebuild(ARTICLES) == len(ARTICLES)
    yield index
    index.close()


@pytest.fixture()
def fresh(tmp_path: Path) -> SearchIndex:
    """A writable index of the fixture articles, per test."""
    index = SearchIndex(tmp_path / "index")
    index.rebuild(ARTICLES)
    yield index
    index.close()


def slugs(results: SearchResults) -> list[str]:
    return [hit.slug for hit in results.results]


@pytest.mark.parametrize(
    ("query", "language", "slug"),
    [
        ("palautuksen", None, "palautukset"),
        ("palautuksen", "fi", "palautukset"),
        ("palautusoikeudesta", "fi", "palautukset"),
        ("toimitusajat", None, "toimitusajat"),
        ("toimitusaika", "fi", "toimitusajat"),
        ("toimitus", "fi", "toimitusajat"),
        ("aika", "fi", "toimitusajat"),
        ("palautus", "fi", "palautukset"),
        ("palautusosoite", "fi", "palautukset"),
        ("tilaukseni seuranta", "fi", "tilauksen-seuranta"),
        ("maksutavoista", "fi", "maksutavat"),
        ("returnera", None, "returer"),
        ("returnera", "sv", "returer"),
        ("leveranstider", "sv", "leveranstider"),
        ("leveranstiden", None, "leveranstider"),
        ("kostnader", "sv", "leveranstider"),
        ("ångerrätten", "sv", "returer"),
        ("returning items", "en", "returns"),
        ("shipping cost", "en", "delivery-times"),
        ("PAYMENT METHOD", "en", "payment-methods"),
    ],
)
def test_inflected_queries_find_their_article(built, query, language, slug):
    results = built.search(query, language=language)
    assert results.results, query
    assert results.results[0].slug == slug


def test_title_match_ranks_above_body_match(built):
    # "return" is in the title of 'returns' but only in the body of 'payment-methods'.
    assert slugs(built.search("return", language="en"))[:2] == ["returns", "payment-methods"]
    assert slugs(built.search("payment", language="en"))[0] == "payment-methods"


def test_language_filter(built):
    assert {h.language for h in built.search("30", language="sv").results} == {"sv"}
    everywhere = built.search("30")
    assert {h.language for h in everywhere.results} == {"fi", "sv", "en"}


def test_unknown_language_means_all(built):
    assert built.search("30", language="de").total == built.search("30").total


def test_category_filter(built):
    results = built.search("tilaus", category="tilaukset")
    assert results.total >= 2
    assert {h.category for h in results.results} == {"tilaukset"}
    assert built.search("tilaus", category="no-such-category").total == 0


def test_pagination(built):
    first = built.search("30", per_page=2)
    second = built.search("30", per_page=2, page=2)
    assert first.total == second.total >= 3
    assert len(first.results) == 2
    assert not {h.id for h in first.results} & {h.id for h in second.results}
    beyond = built.search("30", per_page=2, page=50)
    assert beyond.results == [] and beyond.total == first.total and beyond.page == 50
    assert built.search("30", page=10**9).results == []


@pytest.mark.parametrize(
    ("typo", "expected"),
    [("toimitusaijat", "toimitusajat"), ("palatus", "palautus"), ("leveranstdier", "leveranstider")],
)
def test_did_you_mean(built, typo, expected):
    results = built.search(typo)
    assert results.suggestion == expected
    assert built.search(results.suggestion).total > 0


def test_no_suggestion_when_results_are_plenty(built):
    assert built.search("palautus").suggestion is None


def test_and_then_or_fallback(built):
    # No article has both words: the OR fallback still answers.
    results = built.search("palautus maksutavat", language="fi")
    assert {"palautukset", "maksutavat"} <= set(slugs(results))


def test_quoted_phrase(built):
    assert slugs(built.search('"return label"'))[0] == "returns"


class _TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_data(self, data):
        self.text.append(data)


EVIL_BODY = (
    "Return policy <script>alert('x')</script> [return now](javascript:alert(1)) "
    "<img src=x onerror=alert(1)> &lt;script&gt;alert(2)&lt;/script&gt; "
    "<a href=\"javascript:evil()\">return</a> \"return\" & 'quotes' <return> "
    "&#106;avascript:return"
)


@pytest.mark.parametrize("query", ["return", "script", "alert", "javascript", "policy quotes"])
def test_snippet_is_safe_html(tmp_path, query):
    index = SearchIndex(tmp_path)
    index.rebuild([A(99, "evil", "en", "<b>Return</b> policy", EVIL_BODY, "x")])
    results = index.search(query)
    assert results.results, query
    for hit in results.results:
        parser = _TagCollector()
        parser.feed(hit.snippet_html)
        parser.close()
        assert all(tag == "mark" and attrs == [] for tag, attrs in parser.tags), hit.snippet_html
        assert "<script" not in hit.snippet_html.lower()
    index.close()


def test_snippet_marks_query_words(built):
    hit = built.search("toimitusaika", language="fi").results[0]
    assert "<mark>Toimitusaika</mark>" in hit.snippet_html


ODD_INPUTS = [
    "", " ", "\t\n", '"', '"palautus', "palautus\"", "((", "))", "(palautus", "*", "?", "**??",
    "pal*", "title:palautus", "field:value", "id:1", "[a TO b]", "updated:[x TO y]", "{a TO b}",
    "<AND", ">OR", "palautus^2", "^", "NOT", "AND OR NOT", "palautus AND", "OR palautus",
    "NOT palautus", "-palautus +toimitus", "~", "palautus~2", "\\", "\x00", "a\x00b",
    "\x1b[31m", "🙂🙂 palautus 🚚", "\u202e\u200b", "é" * 300, "palautus " * 1000,
    "x" * 5000, "\ud800", "💩" * 2000, "' OR 1=1 --", "<script>alert(1)</script>",
    "%00%ff", "ÅÄÖ åäö", "/*", "a:b:c", "\"\"\"", "...", "-", "+", "&&", "||", "!",
]


@pytest.mark.parametrize("text", ODD_INPUTS)
def test_odd_inputs_never_raise(built, text):
    results = built.search(text)
    assert isinstance(results, SearchResults)
    assert len(results.query) <= 256
    assert all(isinstance(h, Hit) for h in built.suggest_titles(text))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=400), language=st.sampled_from([None, "fi", "sv", "en", "xx"]))
def test_random_text_never_raises(built, text, language):
    results = built.search(text, language=language)
    assert results.total >= len(results.results)


def test_normalise_query():
    assert normalise_query("  palautus\x00\t\n toimitus\u200b ") == "palautus toimitus"
    assert normalise_query("x" * 5000) == "x" * 256
    assert normalise_query("a\u0308iti") == "äiti"  # NFC


def test_suggest_titles(built):
    titles = [h.slug for h in built.suggest_titles("toimitusa")]
    assert titles[0] == "toimitusajat"
    assert all(h.language == "sv" for h in built.suggest_titles("lev", language="sv"))
    assert [h.slug for h in built.suggest_titles("shipping c", language="en")][0] == "delivery-times"
    assert built.suggest_titles("") == []


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


def test_phrase_uses_whoosh_matchers(built):
    # A phrase needs positions: the Whoosh path answers, with the same contract.
    results = built.search('"return label" order')
    assert "returns" in slugs(results) and results.total == len(results.results)
