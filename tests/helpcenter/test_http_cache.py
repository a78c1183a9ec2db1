"""HTTP caching of the help center (issue 16): anonymous pages carry ETag / Last-Modified and
answer 304; only they may be kept by a shared cache (nginx), never a logged-in page, a page with
a form token or one that sets a cookie. The logged-in table is generated from the URL map.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from kb.db import session
from kb.models import Article, ArticleStatus, Category, Role
from kb.services.shop.demo import DEMO_ACCOUNTS, demo_password
from tests.support.html_forms import csrf_token
from tests.support.route_helpers import fill


def _demo_values(app) -> dict[str, str]:
    with app.app_context():
        slug = session().scalar(select(Article.slug).where(Article.language == "fi",
                                                           Article.status == ArticleStatus.PUBLISHED)
                                .order_by(Article.id))
        category = session().scalar(select(Category.slug).order_by(Category.position))
    return {"lang": "fi", "slug": slug, "category": category}


def shared_cacheable(cache_control: str | None) -> bool:
    """Whether a shared cache (nginx, a CDN) may store the answer."""
    directives = {d.strip().split("=")[0] for d in (cache_control or "").lower().split(",")}
    return not directives & {"private", "no-store"}


def log_in(client, email: str, password: str) -> None:
    token = csrf_token(client.get("/auth/login").get_data(as_text=True))
    response = client.post("/auth/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 302, "log-in failed"


@pytest.fixture
def anonymous(demo_app):
    """A first-time visitor: no cookies kept between requests."""
    return demo_app.test_client(use_cookies=False)


def anonymous_pages(app) -> list[str]:
    values = _demo_values(app)
    return ["/fi/", f"/fi/c/{values['category']}", f"/fi/a/{values['slug']}", "/api/v1/search?q=toimitus",
            "/api/v1/search?q=toimi&as_you_type=1", f"/api/v1/articles/{values['slug']}"]


def without_token(body: bytes) -> bytes:
    return re.sub(rb'name="csrf_token" value="[^"]*"', b'name="csrf_token" value=""', body)


@pytest.mark.parametrize("keeps_cookies", [False, True])
def test_anonymous_help_pages_carry_an_etag_and_answer_304_when_unchanged(demo_app, keeps_cookies: bool) -> None:
    client = demo_app.test_client(use_cookies=keeps_cookies)
    for url in anonymous_pages(demo_app):
        if url.startswith("/fi/a/"):
            if not keeps_cookies:
                continue  # its first answer starts a session for the form token: no validator yet
            client.get(url)
        first = client.get(url)
        anonymous = client
        assert first.status_code == 200 and first.headers.get("ETag"), url
        again = anonymous.get(url, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304 and again.data == b"", url
        other = anonymous.get(url, headers={"If-None-Match": '"not-this-one"'})
        # the same page; a form token's signature names the second it was made, so it may differ
        assert other.status_code == 200 and without_token(other.data) == without_token(first.data), url


def test_article_category_and_api_pages_say_when_the_knowledge_base_changed(demo_app) -> None:
    values = _demo_values(demo_app)
    anonymous = demo_app.test_client()
    anonymous.get(f"/fi/a/{values['slug']}")  # the session that holds the feedback form's token
    for url in (f"/fi/c/{values['category']}", f"/fi/a/{values['slug']}", f"/api/v1/articles/{values['slug']}"):
        first = anonymous.get(url)
        assert first.last_modified is not None, url
        since = first.headers["Last-Modified"]
        assert anonymous.get(url, headers={"If-Modified-Since": since}).status_code == 304, url


def test_a_saved_article_changes_the_etag_and_the_page_is_sent_again(demo_app) -> None:
    from kb.db import commit, utcnow
    from kb.services.helpcenter.articles import ArticleInput, upsert_articles

    slug = _demo_values(demo_app)["slug"]
    anonymous = demo_app.test_client()
    anonymous.get(f"/fi/a/{slug}")
    first = anonymous.get(f"/fi/a/{slug}")
    with demo_app.app_context():
        article = session().scalar(select(Article).where(Article.slug == slug))
        upsert_articles(session(), [ArticleInput(slug=slug, title=article.title, body="Uusi **teksti** tähän.",
                                                 language="fi", category=article.category.slug)], now=utcnow())
        commit()
    again = anonymous.get(f"/fi/a/{slug}", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200 and "Uusi <strong>teksti</strong> tähän." in again.get_data(as_text=True)


def test_anonymous_pages_without_a_token_or_cookie_may_be_cached_briefly_by_nginx(demo_app, anonymous) -> None:
    values = _demo_values(demo_app)
    for url in ("/fi/", f"/fi/c/{values['category']}", "/api/v1/search?q=toimi&as_you_type=1",
                f"/api/v1/articles/{values['slug']}"):
        response = anonymous.get(url)
        assert "Set-Cookie" not in response.headers, url
        assert response.headers["Cache-Control"] == "public, max-age=0, s-maxage=10", url
        assert response.headers["X-Accel-Expires"] == "10", url


def test_a_page_with_a_form_token_is_never_shared(demo_app, anonymous) -> None:
    values = _demo_values(demo_app)
    for url in (f"/fi/a/{values['slug']}", "/yhteydenotto", "/auth/login", "/auth/signup", "/fi/tilaus/seuranta"):
        response = anonymous.get(url)
        assert response.status_code == 200, url
        assert 'name="csrf_token"' in response.get_data(as_text=True), url
        assert not shared_cacheable(response.headers.get("Cache-Control")), url
        assert "X-Accel-Expires" not in response.headers, url


def test_an_article_revalidated_with_its_session_keeps_a_working_token(demo_app) -> None:
    client = demo_app.test_client()
    slug = _demo_values(demo_app)["slug"]
    demo_app.config["WTF_CSRF_ENABLED"] = True
    client.get(f"/fi/a/{slug}")
    first = client.get(f"/fi/a/{slug}")
    again = client.get(f"/fi/a/{slug}", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    # the browser's copy, with its token, still sends feedback
    posted = client.post(f"/fi/a/{slug}/feedback", data={"helpful": "yes",
                                                         "csrf_token": csrf_token(first.get_data(as_text=True))})
    assert posted.status_code == 302


def test_a_page_that_sets_a_cookie_is_never_shared(demo_app, anonymous) -> None:
    # a logged search sets the visitor cookie; Swedish pages for a Finnish browser remember the choice
    for url, headers in (("/api/v1/search?q=toimitus", {}), ("/fi/search?q=toimitus", {}),
                         ("/sv/", {"Accept-Language": "fi"})):
        response = anonymous.get(url, headers=headers)
        assert "Set-Cookie" in response.headers, url
        assert not shared_cacheable(response.headers.get("Cache-Control")), url


def test_a_visitor_with_a_session_gets_private_copies(demo_app) -> None:
    client = demo_app.test_client()
    client.get("/api/v1/search?q=toimitus")  # now has a session (the visitor id)
    response = client.get("/fi/")
    assert response.headers["Cache-Control"] == "private, no-cache"


def _get_pages(app) -> list[str]:
    values = _demo_values(app)
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        urls.append(fill(rule, {**values, "number": "1", "rma": "1", "token": "x", "reference": "1"}))
    return sorted(set(urls))


@pytest.mark.parametrize("email,role", [(e, r) for e, r, *_ in DEMO_ACCOUNTS
                                        if r in (Role.CUSTOMER, Role.AGENT, Role.EDITOR, Role.ADMIN)][2:])
def test_no_page_for_a_logged_in_user_may_be_kept_by_a_shared_cache(demo_app, email: str, role: Role) -> None:
    client = demo_app.test_client()
    log_in(client, email, demo_password(role))
    answered = 0
    for url in _get_pages(demo_app):
        response = client.get(url)
        if response.status_code >= 500:
            pytest.fail(f"{url}: {response.status_code}")
        assert not shared_cacheable(response.headers.get("Cache-Control")), (url, response.status_code)
        assert "X-Accel-Expires" not in response.headers, url
        answered += response.status_code == 200
    assert answered >= 10  # the user really was logged in and saw pages


def test_the_nginx_configuration_bypasses_its_cache_for_sessions() -> None:
    from pathlib import Path

    nginx = (Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    assert re.search(r"proxy_cache_bypass \$neuvo_has_session", nginx)
    assert re.search(r"proxy_no_cache \$neuvo_has_session", nginx)
    assert "(session|remember_token)=" in nginx
