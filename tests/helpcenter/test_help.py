"""The public help center on the demo shop, through the Flask test client."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from kb.db import session
from kb.models import Article, ArticleFeedback, SearchLog
from tests.conftest import translated
from tests.support.html_forms import csrf_token
from tests.support.html_safety import script_risks
from tests.support.xss_payloads import PAYLOADS


def published_slug(app, language: str = "fi") -> str:
    with app.app_context():
        return session().scalar(select(Article.slug).where(Article.language == language,
                                                           Article.status == "published").order_by(Article.id))


def test_root_redirects_by_browser_language(demo_client) -> None:
    r = demo_client.get("/", headers={"Accept-Language": "sv-FI,sv;q=0.9,en;q=0.5"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/sv/")
    r = demo_client.get("/", headers={"Accept-Language": "de-DE"})
    assert r.headers["Location"].endswith("/fi/")


@pytest.mark.parametrize("lang,heading", [("fi", "Miten voimme auttaa?"), ("sv", "Hur kan vi hjälpa"),
                                          ("en", "How can we help?")])
def test_home_is_in_the_chosen_language(demo_client, lang: str, heading: str) -> None:
    r = demo_client.get(f"/{lang}/")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert f'<html lang="{lang}">' in html
    assert heading in html


def test_home_lists_categories_with_counts_popular_and_channels(demo_client, demo_app) -> None:
    with demo_app.app_context():
        fi_delivery = session().scalar(select(func.count(Article.id)).join(Article.category)
                                       .where(Article.language == "fi").where(Article.category.has(slug="toimitus")))
    html = demo_client.get("/fi/").get_data(as_text=True)
    assert 'href="/fi/c/toimitus"' in html
    assert f"{fi_delivery} artikkelia" in html
    assert 'id="contact"' in html
    assert "asiakaspalvelu@tupa.example" in html
    assert re.search(r"Avoinna nyt|Suljettu nyt", html)


def test_home_channels_follow_the_clock_and_an_edit_at_once(demo_client, demo_app, monkeypatch) -> None:
    """The contact block is kept rendered per process: the next minute or a changed channel still shows."""
    from datetime import datetime, timezone

    from kb.models import Channel, ChannelKind
    from kb.db import commit

    def chat(html: str) -> str:
        return html.split('class="channel channel-chat"', 1)[1].split("</li>", 1)[0]

    # Monday 7 December 2026 in Helsinki (UTC+2): 10.00, then 18.00; the demo chat is open 9-17 on weekdays
    monkeypatch.setattr("kb.views.help.utcnow", lambda: datetime(2026, 12, 7, 8, 0, tzinfo=timezone.utc))
    morning = chat(demo_client.get("/fi/").get_data(as_text=True))
    assert "Avoinna nyt" in morning and "17.00" in morning and "9.00–17.00" in morning
    monkeypatch.setattr("kb.views.help.utcnow", lambda: datetime(2026, 12, 7, 16, 0, tzinfo=timezone.utc))
    evening = chat(demo_client.get("/fi/").get_data(as_text=True))
    assert "Suljettu nyt" in evening and "avautuu tiistaina 9.00" in evening
    # e-mail and the form take messages at any hour: not "closed", answered when the hours begin
    page = demo_client.get("/fi/").get_data(as_text=True)
    for kind in ("email", "form"):
        card = page.split(f'class="channel channel-{kind}"', 1)[1].split("</li>", 1)[0]
        assert "Viestit vastaanotetaan aina" in card and "vastaamme tiistaina 9.00 alkaen" in card
        assert "Suljettu nyt" not in card and 'class="status receiving"' in card  # not in the closed colour
    with demo_app.app_context():
        channel = session().scalar(select(Channel).where(Channel.kind == ChannelKind.CHAT))
        channel.hours = {**channel.hours, "mon": [["08:00", "20:00"]]}
        commit()
    edited = chat(demo_client.get("/fi/").get_data(as_text=True))
    assert "Avoinna nyt" in edited and "8.00–20.00" in edited


def test_unknown_language_is_404(demo_client) -> None:
    assert demo_client.get("/de/").status_code == 404


def test_category_page_lists_its_articles(demo_client) -> None:
    html = demo_client.get("/fi/c/palautukset").get_data(as_text=True)
    assert "breadcrumbs" in html
    assert len(re.findall(r'href="/fi/a/[a-z0-9-]+"', html)) >= 3
    assert demo_client.get("/fi/c/ei-ole").status_code == 404


def test_article_page_renders_markdown_with_translations_and_related(demo_client, demo_app) -> None:
    with demo_app.app_context():
        article = session().scalar(select(Article).where(Article.language == "sv"))
        original = article.original
    r = demo_client.get(f"/fi/a/{original.slug}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert f"<h1>{original.title}</h1>" in html
    assert f'href="/sv/a/{article.slug}"' in html
    assert re.search(r"Päivitetty \d", html)
    assert 'name="helpful"' in html


def page_section(html: str, heading_id: str) -> str:
    """The part of the page from the heading with ``heading_id`` to the end of its list."""
    return html.split(f'id="{heading_id}"', 1)[1].split("</ul>", 1)[0]


def test_related_articles_share_category_or_tags_most_related_first(app, client, create_article) -> None:
    """Same language and published only; a shared category counts twice a shared tag."""
    from kb.models import ArticleStatus

    create_article(slug="toimitusajat", category="toimitus", tags=["posti"])
    create_article(slug="noutopisteet", title="Noutopisteet", category="toimitus", tags=["posti"])   # 3
    create_article(slug="toimitusmaksut", title="Toimitusmaksut", category="toimitus")               # 2
    create_article(slug="seuranta", title="Seuranta", category="tilaukset", tags=["posti"])          # 1
    create_article(slug="maksutavat", title="Maksutavat", category="maksaminen")                     # 0
    create_article(slug="delivery", title="Delivery", category="toimitus", tags=["posti"], language="en")
    create_article(slug="luonnos", title="Luonnos", category="toimitus", tags=["posti"], status=ArticleStatus.DRAFT)
    html = client.get("/fi/a/toimitusajat").get_data(as_text=True)
    related = page_section(html, "related-title")
    assert f'>{translated(app, "Related articles")}</h2>' in related
    assert re.findall(r'href="/fi/a/([a-z0-9-]+)"', related) == ["noutopisteet", "toimitusmaksut", "seuranta"]
    # an article that shares nothing with any other has no related list
    assert 'id="related-title"' not in client.get("/fi/a/maksutavat").get_data(as_text=True)


def test_home_shows_the_most_read_articles_of_its_language(app, client, create_article) -> None:
    """The six most viewed published articles in the page's language, most viewed first."""
    from sqlalchemy import update

    from kb.models import ArticleStatus

    views = {"a1": 5, "a2": 40, "a3": 0, "a4": 12, "a5": 7, "a6": 30, "a7": 3}
    for slug in views:
        create_article(slug=slug, title=slug.upper(), category="yleiset")
    create_article(slug="en1", title="EN1", language="en", category="yleiset")
    create_article(slug="draft1", title="DRAFT1", category="yleiset", status=ArticleStatus.DRAFT)
    with app.app_context():
        for slug, count in {**views, "en1": 100, "draft1": 100}.items():
            session().execute(update(Article).where(Article.slug == slug).values(view_count=count))
        session().commit()
    html = client.get("/fi/").get_data(as_text=True)
    popular = page_section(html, "popular-title")
    assert f'>{translated(app, "Most read")}</h2>' in popular
    assert re.findall(r'href="/fi/a/([a-z0-9-]+)"', popular) == ["a2", "a6", "a4", "a5", "a1", "a7"]


def test_article_in_other_language_url_redirects(demo_client, demo_app) -> None:
    slug = published_slug(demo_app, "en")
    r = demo_client.get(f"/fi/a/{slug}")
    assert r.status_code == 301 and r.headers["Location"].endswith(f"/en/a/{slug}")


def test_missing_and_draft_articles_are_404(demo_client, demo_app) -> None:
    assert demo_client.get("/fi/a/ei-tallaista").status_code == 404
    with demo_app.app_context():
        draft = session().scalar(select(Article.slug).where(Article.status == "draft"))
    assert draft is not None  # the demo shop ships two drafts
    assert demo_client.get(f"/fi/a/{draft}").status_code == 404


def test_views_are_counted(demo_client, demo_app) -> None:
    slug = published_slug(demo_app)
    with demo_app.app_context():
        before = session().scalar(select(Article.view_count).where(Article.slug == slug))
    demo_client.get(f"/fi/a/{slug}")
    demo_client.get(f"/fi/a/{slug}")
    with demo_app.app_context():
        assert session().scalar(select(Article.view_count).where(Article.slug == slug)) == before + 2


def test_feedback_is_recorded_once_per_visitor(demo_client, demo_app) -> None:
    slug = published_slug(demo_app)
    page = demo_client.get(f"/fi/a/{slug}").get_data(as_text=True)
    token = csrf_token(page)
    r = demo_client.post(f"/fi/a/{slug}/feedback", data={"helpful": "yes", "csrf_token": token})
    assert r.status_code == 302
    demo_client.post(f"/fi/a/{slug}/feedback", data={"helpful": "no", "csrf_token": token})
    after = demo_client.get(f"/fi/a/{slug}").get_data(as_text=True)
    assert 'name="helpful"' not in after
    with demo_app.app_context():
        rows = session().scalars(select(ArticleFeedback)).all()
    assert [(r.helpful) for r in rows] == [True]


def test_feedback_without_csrf_token_is_refused(demo_app) -> None:
    demo_app.config["WTF_CSRF_ENABLED"] = True
    client = demo_app.test_client()
    slug = published_slug(demo_app)
    r = client.post(f"/fi/a/{slug}/feedback", data={"helpful": "yes"})
    assert r.status_code == 400
    with demo_app.app_context():
        assert session().scalar(select(func.count(ArticleFeedback.id))) == 0


def test_feedback_value_is_validated(demo_client, demo_app) -> None:
    slug = published_slug(demo_app)
    token = csrf_token(demo_client.get(f"/fi/a/{slug}").get_data(as_text=True))
    assert demo_client.post(f"/fi/a/{slug}/feedback", data={"helpful": "maybe", "csrf_token": token}).status_code == 400


@pytest.mark.parametrize("lang,query,slug_part", [
    ("fi", "palautuksen", "palaut"),
    ("fi", "toimitusajat", "toimitus"),
    ("sv", "returnera", "retur"),
    ("sv", "leveranstider", "leverans"),
    ("en", "refund", "refund"),
])
def test_inflected_queries_find_their_articles(demo_client, lang: str, query: str, slug_part: str) -> None:
    html = demo_client.get(f"/{lang}/search", query_string={"q": query}).get_data(as_text=True)
    slugs = re.findall(rf'href="/{lang}/a/([a-z0-9-]+)\?s=\d+"', html)
    assert slugs, f"no results for {query}"
    assert any(slug_part in s for s in slugs[:3]), slugs


def test_search_logs_query_and_click(demo_client, demo_app) -> None:
    html = demo_client.get("/fi/search", query_string={"q": "palautus"}).get_data(as_text=True)
    link = re.search(r'href="(/fi/a/[a-z0-9-]+\?s=(\d+))"', html)
    demo_client.get(link.group(1))
    demo_client.get("/fi/search", query_string={"q": "zzzqqq xyzzy"})
    with demo_app.app_context():
        logs = session().scalars(select(SearchLog).where(SearchLog.visitor.not_like("demo-%"))
                                 .order_by(SearchLog.id)).all()
    assert [(l.query, l.result_count > 0, l.clicked_article_id is not None) for l in logs] == [
        ("palautus", True, True), ("zzzqqq xyzzy", False, False)]


def test_click_cannot_be_attributed_to_someone_elses_search(demo_app) -> None:
    first, second = demo_app.test_client(), demo_app.test_client()
    html = first.get("/fi/search", query_string={"q": "palautus"}).get_data(as_text=True)
    link = re.search(r'href="(/fi/a/[a-z0-9-]+\?s=\d+)"', html).group(1)
    second.get(link)
    with demo_app.app_context():
        assert session().scalar(select(SearchLog.clicked_article_id).where(SearchLog.visitor.not_like("demo-%"))) is None


def result_slugs(html: str, lang: str = "fi") -> list[str]:
    """The articles of the results list, in order (page 1's links carry the search's log id, later pages' not)."""
    listed = html.split('<ol class="results"', 1)[1].split("</ol>", 1)[0] if '<ol class="results"' in html else ""
    return re.findall(rf'<a href="/{lang}/a/([a-z0-9-]+)(?:\?s=\d+)?"', listed)


def test_search_filters_by_category(demo_client, demo_app) -> None:
    """Only the chosen category's articles are listed, though the query matches others too."""
    with demo_app.app_context():
        payment = set(session().scalars(select(Article.slug).where(Article.category.has(slug="maksaminen"))))
    unfiltered = result_slugs(demo_client.get("/fi/search", query_string={"q": "tilaus"}).get_data(as_text=True))
    assert set(unfiltered) - payment, "the query must also match articles outside the category"
    html = demo_client.get("/fi/search", query_string={"q": "tilaus", "category": "maksaminen"}).get_data(as_text=True)
    assert 'value="maksaminen" selected' in html
    filtered = result_slugs(html)
    assert filtered and set(filtered) <= payment, filtered


def test_search_paginates(demo_client) -> None:
    query = "tilaus toimitus palautus"
    all_html = demo_client.get("/fi/search", query_string={"q": query}).get_data(as_text=True)
    total = int(re.search(r"(\d+) tulosta", all_html).group(1))
    assert total > 10  # more than one page (SEARCH_PER_PAGE is 10)
    assert 'rel="next"' in all_html and len(result_slugs(all_html)) == 10
    page2 = demo_client.get("/fi/search", query_string={"q": query, "page": 2}).get_data(as_text=True)
    assert 'rel="prev"' in page2
    assert result_slugs(page2) and not set(result_slugs(page2)) & set(result_slugs(all_html))
    # a page past the end (an old link, a typed number) is the last page, not "no results" under a count
    last = -(-total // 10)
    past = demo_client.get("/fi/search", query_string={"q": query, "page": 99})
    assert past.status_code == 302 and f"page={last}" in past.headers["Location"] and "q=tilaus" in past.headers["Location"]
    assert result_slugs(demo_client.get(past.headers["Location"]).get_data(as_text=True))


def test_a_misspelling_that_finds_nothing_shows_the_corrected_results(demo_client) -> None:
    """Like "Showing results for …, search instead for …": the correction's results at once."""
    html = demo_client.get("/fi/search", query_string={"q": "palatus"}).get_data(as_text=True)
    notice = html.split('<p class="did-you-mean corrected">', 1)[1].split("</p>", 1)[0]
    assert "Näytetään tulokset haulle" in notice and '<a href="/fi/search?q=palautus">palautus</a>' in notice
    assert '<a href="/fi/search?q=palatus&amp;as_typed=1">palatus</a>' in notice
    assert re.search(r'<ol class="results"', html) and 'value="palautus"' in html
    as_typed = demo_client.get("/fi/search", query_string={"q": "palatus", "as_typed": "1"}).get_data(as_text=True)
    assert "Tarkoititko" in as_typed and '<ol class="results"' not in as_typed


ODD_QUERIES = ['"unbalanced', "(((", "*", "title:x", "body:", "a AND", "NOT", "[a TO z]", "<AND", "x^5",
               "🙂📦", "é" * 300, "q" * 5000, "   ", "%00", "'; DROP TABLE articles; --", "\\", "?", "~2"]


@pytest.mark.parametrize("query", ODD_QUERIES)
def test_odd_queries_give_a_normal_page(demo_client, query: str) -> None:
    r = demo_client.get("/fi/search", query_string={"q": query})
    assert r.status_code == 200


def test_nul_byte_is_rejected_cleanly(demo_client) -> None:
    assert demo_client.get("/fi/search", query_string={"q": "a\x00b"}).status_code == 400


def test_empty_search_shows_form_without_logging(demo_client, demo_app) -> None:
    with demo_app.app_context():
        before = session().scalar(select(func.count(SearchLog.id)))
    assert demo_client.get("/fi/search").status_code == 200
    assert demo_client.get("/fi/search", query_string={"q": "   "}).status_code == 200
    with demo_app.app_context():
        assert session().scalar(select(func.count(SearchLog.id))) == before


def test_an_empty_search_says_what_to_do(demo_client, demo_app) -> None:
    html = demo_client.get("/fi/search").get_data(as_text=True)
    start = html.split('<section class="search-start panel"', 1)[1].split("</section>", 1)[0]
    assert translated(demo_app, "What are you looking for?") in start
    assert len(re.findall(r'href="/fi/c/[a-z0-9-]+"', start)) >= 3  # the topics to browse
    assert 'class="filters"' not in html  # nothing to filter yet


def test_search_unavailable_is_503_not_500(demo_client, demo_app, monkeypatch) -> None:
    from search import IndexUnavailable

    def broken(*args, **kwargs):
        raise IndexUnavailable("disk gone")

    monkeypatch.setattr(demo_app.extensions["neuvo_search"], "search", broken)
    monkeypatch.setattr(demo_app.extensions["neuvo_search"], "rebuild", broken)
    r = demo_client.get("/fi/search", query_string={"q": "palautus"})
    assert r.status_code == 503
    assert "tilapäisesti" in r.get_data(as_text=True)


def test_security_headers(demo_client) -> None:
    r = demo_client.get("/fi/")
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"


def test_oversized_body_is_413(demo_client, demo_app) -> None:
    slug = published_slug(demo_app)
    r = demo_client.post(f"/fi/a/{slug}/feedback", data={"helpful": "x" * (3 * 1024 * 1024)})
    assert r.status_code == 413


def test_article_body_never_runs_script(client, create_article) -> None:
    body = "## Ohje\n\n" + "\n\n".join(PAYLOADS)
    create_article(slug="vaarallinen", title="Vaarallinen <script>alert(1)</script>", body=body)
    html = client.get("/fi/a/vaarallinen").get_data(as_text=True)
    body = html.split('<div class="article-body">', 1)[1].split('<section id="feedback"', 1)[0]
    assert script_risks(body) == []
    assert html.count("<script") == 1  # only the site's own script tag in <head>
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the title is shown as text


def test_search_snippets_never_run_script(client, create_article) -> None:
    create_article(slug="vaarallinen", title="Palautusohje",
                   body="Palautus <script>alert('x')</script> ja <img src=x onerror=alert(1)> palautus")
    html = client.get("/fi/search", query_string={"q": "palautus"}).get_data(as_text=True)
    results = html.split('<ol class="results"', 1)[1].split("</ol>", 1)[0]
    assert "vaarallinen" in results
    assert script_risks(results) == []
    assert html.count("<script") == 1
