"""Unit tests for the plain search library (no Flask): queries, ranking, filters, snippets and odd input.

The index's lifecycle and writes: tests/helpcenter/test_search_index.py."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from search import (
    Hit,
    SearchIndex,
    SearchResults,
    normalise_query,
)
from tests.support.search_helpers import A, ARTICLES, slugs


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    """A shared, read-only index of the fixture articles."""
    index = SearchIndex(tmp_path_factory.mktemp("index"))
    assert index.rebuild(ARTICLES) == len(ARTICLES)
    yield index
    index.close()


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


def test_phrase_uses_whoosh_matchers(built):
    # A phrase needs positions: the Whoosh path answers, with the same contract.
    results = built.search('"return label" order')
    assert "returns" in slugs(results) and results.total == len(results.results)
