"""The editor workspace through the real log-in and forms: access, authoring, revisions, slugs,
conflicts, translations, preview and categories."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from kb.db import commit, session
from kb.models import Article, ArticleRevision, ArticleStatus, Category, Role, SlugRedirect
from tests.support.auth_helpers import csrf_of, log_in
from tests.conftest import both_backends, translated
from tests.support.editor_helpers import PASSWORD, edit_form, get_article, set_status, token
from tests.support.html_safety import script_risks
from tests.support.xss_payloads import PAYLOADS


# ---------- helpers and fixtures

@pytest.fixture
def category(app) -> int:
    with app.app_context():
        cat = Category(slug="toimitus", position=10, names={"fi": "Toimitus", "sv": "Leverans", "en": "Delivery"})
        session().add(cat)
        commit()
        return cat.id


def create(client, category_id: int, *, title: str = "Noutopisteet", body: str = "Nouda paketti **Postista**.",
           language: str = "fi", **extra) -> int:
    data = {"csrf_token": token(client, "/editor/articles/new"), "title": title, "body": body,
            "language": language, "category_id": str(category_id), "slug": "", "tags": "nouto, posti", **extra}
    response = client.post("/editor/articles/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def save(client, article_id: int, **changes):
    data = {**edit_form(client, article_id), **changes}
    return client.post(f"/editor/articles/{article_id}", data=data)


def search_slugs(client, query: str, lang: str = "fi") -> list[str]:
    data = client.get("/api/v1/search", query_string={"q": query, "lang": lang}).get_json()
    return [r["slug"] for r in data["results"]]


# ---------- access

def editor_urls(app) -> list[tuple[str, str]]:
    """Every editor route with sample ids: (method, url)."""
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("editor."):
            continue
        url = rule.rule
        for arg in rule.arguments:
            url = url.replace(f"<int:{arg}>", "1")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append((method, url))
    return out


def test_every_editor_view_has_a_role_policy(app) -> None:
    views = [app.view_functions[r.endpoint] for r in app.url_map.iter_rules() if r.endpoint.startswith("editor.")]
    assert len(views) >= 15
    assert all(getattr(v, "allowed_roles", None) == (Role.EDITOR,) for v in views)


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.AGENT])
def test_customers_and_agents_get_403_everywhere(app, client, make_staff, role: Role) -> None:
    assert log_in(client, make_staff(role), PASSWORD).status_code == 302
    csrf = csrf_of(client.get("/auth/profile").get_data(as_text=True))
    for method, url in editor_urls(app):
        response = client.open(url, method=method, data={"csrf_token": csrf} if method == "POST" else None)
        assert response.status_code == 403, (method, url, response.status_code)


def test_guests_are_sent_to_log_in(app, client) -> None:
    csrf = csrf_of(client.get("/auth/login").get_data(as_text=True))
    for method, url in editor_urls(app):
        response = client.open(url, method=method, data={"csrf_token": csrf} if method == "POST" else None)
        assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login?next="), url


def test_admins_may_edit(client, make_staff) -> None:
    log_in(client, make_staff(Role.ADMIN), PASSWORD)
    assert client.get("/editor/articles").status_code == 200


@pytest.mark.parametrize("url,data", [
    ("/editor/preview", {"body": "x"}),
    ("/editor/articles/new", {"title": "x", "body": "x", "language": "fi"}),
    ("/editor/suggestions/refresh", {}),
])
def test_missing_csrf_token_is_400(editor, url: str, data: dict) -> None:
    response = editor.post(url, data=data)
    assert response.status_code == 400


# ---------- authoring

@both_backends
def test_create_edit_publish_unpublish(app, editor, category: int, backend: str) -> None:
    article_id = create(editor, category, title="Noutopisteet ja pakettiautomaatit")
    article = get_article(app, article_id)
    assert article.status is ArticleStatus.DRAFT and article.slug == "noutopisteet-ja-pakettiautomaatit"
    assert article.tags == ["nouto", "posti"]
    assert editor.get(f"/fi/a/{article.slug}").status_code == 404
    assert save(editor, article_id, body="Nouda paketti **pakettiautomaatista** seitsemän päivän kuluessa.",
                tags="nouto").status_code == 302
    assert search_slugs(editor, "pakettiautomaatista") == []          # drafts are not searchable
    assert set_status(editor, article_id, "publish").status_code == 302
    page = editor.get(f"/fi/a/{article.slug}")
    assert page.status_code == 200 and "<strong>pakettiautomaatista</strong>" in page.get_data(as_text=True)
    assert search_slugs(editor, "pakettiautomaatista") == [article.slug]   # index drained after commit
    published = get_article(app, article_id)
    assert published.published_at is not None and published.tags == ["nouto"]
    assert set_status(editor, article_id, "unpublish").status_code == 302
    assert editor.get(f"/fi/a/{article.slug}").status_code == 404
    assert search_slugs(editor, "pakettiautomaatista") == []
    with app.app_context():
        statuses = session().scalars(select(ArticleRevision.status).where(ArticleRevision.article_id == article_id)
                                     .order_by(ArticleRevision.id)).all()
        assert statuses == ["draft", "draft", "published", "draft"]
        assert session().scalar(select(func.count()).select_from(Article)) == 1


def test_bad_input_is_shown_next_to_the_field(app, editor, category: int) -> None:
    response = editor.post("/editor/articles/new", data={
        "csrf_token": token(editor, "/editor/articles/new"), "title": "", "body": "x", "language": "fi",
        "category_id": str(category)})
    assert response.status_code == 422 and translated(app, "This field is required.") in response.get_data(as_text=True)
    first = create(editor, category, title="Sama")
    other = create(editor, category, title="Toinen")
    clash = save(editor, other, slug="sama")
    assert clash.status_code == 422 and \
        translated(app, "Another article uses this address.") in clash.get_data(as_text=True)
    assert first != other


def test_archive_hides_the_article(app, editor, category: int) -> None:
    article_id = create(editor, category, title="Vanha kampanja")
    set_status(editor, article_id, "publish")
    assert set_status(editor, article_id, "archive").status_code == 302
    article = get_article(app, article_id)
    assert article.status is ArticleStatus.DRAFT and "archived" in article.tags
    assert "Vanha kampanja" not in editor.get("/editor/articles").get_data(as_text=True)
    assert "Vanha kampanja" in editor.get("/editor/articles?status=archived").get_data(as_text=True)
    assert editor.get(f"/fi/a/{article.slug}").status_code == 404
    set_status(editor, article_id, "unarchive")
    assert "archived" not in get_article(app, article_id).tags


@both_backends
def test_revisions_diff_and_restore(app, editor, category: int, backend: str) -> None:
    article_id = create(editor, category, title="Toimitus", body="Ensimmäinen versio.\n\nToinen kappale.")
    save(editor, article_id, body="Muutettu versio <script>alert(1)</script>\n\nToinen kappale.")
    with app.app_context():
        revs = session().scalars(select(ArticleRevision).where(ArticleRevision.article_id == article_id)
                                 .order_by(ArticleRevision.id)).all()
        first, second = revs[0].id, revs[1].id
    history = editor.get(f"/editor/articles/{article_id}/revisions").get_data(as_text=True)
    assert history.count(translated(app, "Show changes")) == 2
    diff = editor.get(f"/editor/articles/{article_id}/revisions/{second}")
    html = diff.get_data(as_text=True)
    assert diff.status_code == 200
    assert 'class="diff-del"' in html and 'class="diff-add"' in html and "Ensimmäinen versio." in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    csrf, updated = edit_form(editor, article_id)["csrf_token"], edit_form(editor, article_id)["updated_at"]
    restored = editor.post(f"/editor/articles/{article_id}/revisions/{first}/restore",
                           data={"csrf_token": csrf, "updated_at": updated})
    assert restored.status_code == 302
    assert get_article(app, article_id).body == "Ensimmäinen versio.\n\nToinen kappale."
    with app.app_context():
        assert session().scalar(select(func.count(ArticleRevision.id))
                                .where(ArticleRevision.article_id == article_id)) == 3
    assert editor.get(f"/editor/articles/{article_id}/revisions/999999").status_code == 404


@both_backends
def test_slug_change_keeps_old_addresses_redirecting(app, editor, category: int, backend: str) -> None:
    article_id = create(editor, category, title="Toimitusajat")
    set_status(editor, article_id, "publish")
    assert save(editor, article_id, slug="toimitusajat-2026").status_code == 302
    old = editor.get("/fi/a/toimitusajat")
    assert old.status_code == 301 and old.headers["Location"].endswith("/fi/a/toimitusajat-2026")
    save(editor, article_id, slug="toimitus-ja-nouto")
    for slug in ("toimitusajat", "toimitusajat-2026"):
        moved = editor.get(f"/fi/a/{slug}")
        assert moved.status_code == 301 and moved.headers["Location"].endswith("/fi/a/toimitus-ja-nouto")
    save(editor, article_id, slug="toimitusajat")          # back to the first address: it is live again
    assert editor.get("/fi/a/toimitusajat").status_code == 200
    assert editor.get("/fi/a/toimitus-ja-nouto").status_code == 301
    assert editor.get("/fi/a/never-existed").status_code == 404
    with app.app_context():
        assert set(session().scalars(select(SlugRedirect.old_slug))) == {"toimitusajat-2026", "toimitus-ja-nouto"}


@both_backends
def test_saving_over_a_newer_version_is_a_conflict(app, client, make_staff, category: int, backend: str) -> None:
    log_in(client, make_staff(Role.EDITOR), PASSWORD)
    article_id = create(client, category, body="Alkuperäinen.")
    stale = edit_form(client, article_id)
    other = app.test_client()
    log_in(other, make_staff(Role.EDITOR, "toinen@tupa.example"), PASSWORD)
    assert save(other, article_id, body="Toisen toimittajan versio.").status_code == 302
    response = client.post(f"/editor/articles/{article_id}", data={**stale, "body": "Minun versioni."})
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and translated(app, "Someone saved this article after you opened it") in html
    assert "Minun versioni." in html and "Toisen toimittajan versio." in html     # both, as a diff
    assert get_article(app, article_id).body == "Toisen toimittajan versio."
    status = client.post(f"/editor/articles/{article_id}/status",
                         data={"csrf_token": stale["csrf_token"], "updated_at": stale["updated_at"],
                               "action": "publish"})
    assert status.status_code == 302
    assert get_article(app, article_id).status is ArticleStatus.DRAFT
    # the conflict page carries the newest version: saving again there is a deliberate choice
    again = dict(re.findall(r'name="(updated_at)" value="([^"]+)"', html))
    assert client.post(f"/editor/articles/{article_id}",
                       data={**stale, **again, "body": "Minun versioni."}).status_code == 302
    assert get_article(app, article_id).body == "Minun versioni."


def test_translations_missing_current_and_behind(app, editor, category: int) -> None:
    original = create(editor, category, title="Toimitusajat", body="Toimitamme 1–3 arkipäivässä.")
    set_status(editor, original, "publish")
    new_form = editor.get(f"/editor/articles/new?translation_of={original}&language=sv").get_data(as_text=True)
    assert "Toimitamme 1–3 arkipäivässä." in new_form          # starts from the original's text
    swedish = create(editor, category, title="Leveranstider", body="Vi levererar inom 1–3 vardagar.",
                     language="sv", translation_of_id=str(original))
    assert get_article(app, swedish).translation_of_id == original
    dup = editor.post("/editor/articles/new", data={
        "csrf_token": token(editor, "/editor/articles/new"), "title": "Toinen", "body": "x", "language": "sv",
        "category_id": str(category), "translation_of_id": str(original)})
    assert dup.status_code == 422

    def states() -> dict[str, str]:
        page = editor.get(f"/editor/articles/{original}").get_data(as_text=True)
        return {lang: state for state, lang in re.findall(r'tr-state tr-(\w+)">\s*<a[^>]*>(\w\w)</a>', page)}

    assert states() == {"fi": "original", "sv": "current", "en": "missing"}
    set_status(editor, original, "unpublish")                   # a status change is not a content change
    assert states()["sv"] == "current"
    save(editor, original, body="Toimitamme 1–2 arkipäivässä.")
    assert states()["sv"] == "behind"
    behind = editor.get("/editor/articles?translation=behind").get_data(as_text=True)
    assert "Leveranstider" in behind and "Toimitusajat" not in behind.split("<tbody>", 1)[1]
    missing = editor.get("/editor/articles?translation=missing").get_data(as_text=True)
    assert "Toimitusajat" in missing.split("<tbody>", 1)[1]
    save(editor, swedish, body="Vi levererar inom 1–2 vardagar.")
    assert states()["sv"] == "current"


def test_live_preview_is_sanitised(editor) -> None:
    csrf = token(editor)
    for payload in PAYLOADS:
        response = editor.post("/editor/preview", data={"body": f"## Otsikko\n\n{payload}"},
                               headers={"X-CSRFToken": csrf, "Accept": "application/json"})
        assert response.status_code == 200
        html = response.get_json()["html"]
        assert script_risks(html) == [], payload
    ok = editor.post("/editor/preview", data={"body": "**lihava** [linkki](https://example.com)"},
                     headers={"X-CSRFToken": csrf}).get_json()["html"]
    assert "<strong>lihava</strong>" in ok and 'href="https://example.com"' in ok
    huge = editor.post("/editor/preview", data={"body": "a" * 100_001}, headers={"X-CSRFToken": csrf})
    assert huge.status_code == 413


def test_edit_page_loads_the_preview_script_without_inline_code(editor, category: int) -> None:
    html = editor.get(f"/editor/articles/{create(editor, category)}").get_data(as_text=True)
    assert '/static/js/editor.js' in html and 'data-preview-url="/editor/preview"' in html
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None and " onclick=" not in html
    with editor.get("/static/js/editor.js") as script:
        assert script.status_code == 200


def test_categories_and_their_order(app, editor, category: int) -> None:
    csrf = token(editor, "/editor/categories")
    created = editor.post("/editor/categories", data={"csrf_token": csrf, "name_fi": "Lahjat", "name_sv": "Gåvor",
                                                      "name_en": "Gifts", "position": "5"})
    assert created.status_code == 302
    with app.app_context():
        gifts = session().scalar(select(Category).where(Category.slug == "lahjat"))
        assert gifts.names == {"fi": "Lahjat", "sv": "Gåvor", "en": "Gifts"} and gifts.position == 5
        gifts_id = gifts.id
    editor.post("/editor/categories", data={"csrf_token": csrf, "category_id": str(category), "name_fi": "Toimitus",
                                            "position": "1"})
    page = editor.get("/editor/categories").get_data(as_text=True)
    assert page.index("<strong>toimitus</strong>") < page.index("<strong>lahjat</strong>")
    bad = editor.post("/editor/categories", data={"csrf_token": csrf, "category_id": str(gifts_id), "name_fi": ""})
    assert bad.status_code == 422
