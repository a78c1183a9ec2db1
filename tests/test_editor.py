"""The editor workspace through the real log-in and forms: authoring, revisions, slugs,
conflicts, translations, preview, suggested articles (the issue's acceptance flow) and health."""
from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kb.db import commit, session, utcnow
from kb.models import (Article, ArticleEvent, ArticleEventKind, ArticleFeedback, ArticleRevision, ArticleStatus,
                       Category, ChannelKind, GapDecision, GapDecisionKind, GapSnapshot, LinkSource, Role, SearchLog,
                       SlugRedirect, Ticket, TicketArticleLink, TicketSuggestion)
from kb.services.users import create_user
from tests.conftest import both_backends, translated
from tests.html_safety import script_risks
from tests.test_auth import csrf_of, log_in
from tests.test_cli import write_jsonl
from tests.xss_payloads import PAYLOADS

PASSWORD = "editor password 2026"


# ---------- helpers and fixtures

@pytest.fixture
def make_staff(app):
    """Factory: a user with ``role``; returns the e-mail address."""
    def make(role: Role = Role.EDITOR, email: str | None = None) -> str:
        email = email or f"{role.value}@tupa.example"
        with app.app_context():
            create_user(session(), email, role=role, password=PASSWORD, now=utcnow())
            commit()
        return email
    return make


@pytest.fixture
def editor(client, make_staff):
    """The test client, logged in as an editor through the log-in form."""
    response = log_in(client, make_staff(Role.EDITOR), PASSWORD)
    assert response.status_code == 302
    return client


@pytest.fixture
def category(app) -> int:
    with app.app_context():
        cat = Category(slug="toimitus", position=10, names={"fi": "Toimitus", "sv": "Leverans", "en": "Delivery"})
        session().add(cat)
        commit()
        return cat.id


def token(client, url: str = "/editor/articles") -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return csrf_of(response.get_data(as_text=True))


def edit_form(client, article_id: int) -> dict[str, str]:
    """The edit form's current field values, as a browser would submit them."""
    html = client.get(f"/editor/articles/{article_id}").get_data(as_text=True)
    form = html.split('class="editor-form"', 1)[1].split("</form>", 1)[0]
    values = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form))
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)"\s*selected', options)
        values[name] = chosen.group(1) if chosen else ""
    body = re.search(r'<textarea[^>]*name="body"[^>]*>(.*?)</textarea>', form, re.S).group(1)
    import html as html_lib
    values["body"] = html_lib.unescape(body)
    values = {k: html_lib.unescape(v) for k, v in values.items()}
    return values


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


def set_status(client, article_id: int, action: str):
    values = edit_form(client, article_id)
    return client.post(f"/editor/articles/{article_id}/status",
                       data={"csrf_token": values["csrf_token"], "updated_at": values["updated_at"], "action": action})


def get_article(app, article_id: int) -> Article:
    with app.app_context():
        return session().get(Article, article_id)


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


# ---------- suggested articles

GIFT = ["Voitteko paketoida tilauksen lahjapaperiin?", "Onko teillä lahjapaketointia?",
        "Saisinko lahjapaketoinnin tilaukseen?", "Paketoitteko lahjaksi?"]


@pytest.fixture
def shop(app, runner, tmp_path: Path) -> list[dict]:
    """The suggester's small shop (tests/test_suggest_cli.py), dated up to now."""
    from tests.test_suggest_cli import ARTICLES, inquiries

    rows = inquiries(utcnow() - timedelta(hours=1))
    assert runner.invoke(args=["import", "articles", str(write_jsonl(tmp_path / "a.jsonl", ARTICLES))]).exit_code == 0
    path = write_jsonl(tmp_path / "q.jsonl", [{k: v for k, v in r.items() if k != "_topic"} for r in rows])
    assert runner.invoke(args=["import", "inquiries", str(path)]).exit_code == 0
    return rows


def refresh(client) -> dict:
    assert client.post("/editor/suggestions/refresh",
                       data={"csrf_token": token(client, "/editor/suggestions")}).status_code == 302
    return latest(client.application)


def latest(app) -> dict:
    with app.app_context():
        snapshot = session().scalar(select(GapSnapshot).order_by(GapSnapshot.id.desc()).limit(1))
        return {"id": snapshot.id, **snapshot.report}


def gift_topic(report: dict, rows: list[dict]) -> dict:
    gift = {r["id"] for r in rows if r["_topic"] == "gift"}
    return next(t for t in report["topics"] if len(set(t["inquiry_ids"]) & gift) > t["size"] / 2)


def shown(client, topic: dict) -> bool:
    """Whether the suggestions page lists the topic (decisions list titles too, elsewhere)."""
    from markupsafe import escape

    return f'">{escape(topic["title"])}</h2>' in client.get("/editor/suggestions").get_data(as_text=True)


def majority_of(ids: list[str], report: dict) -> list[dict]:
    return [t for t in report["topics"] if len(set(t["inquiry_ids"]) & set(ids)) > len(ids) / 2]


@both_backends
def test_suggestions_page_shows_topics_trend_and_failed_searches(app, editor, shop, backend: str) -> None:
    with app.app_context():
        session().add(SearchLog(query="lahjapaketointi", language="fi", category=None, result_count=0,
                                created_at=utcnow() - timedelta(days=1)))
        commit()
    report = refresh(editor)
    topic = gift_topic(report, shop)
    assert topic["size"] >= 3 and isinstance(topic["previous"], int)
    assert topic["languages"] == {"fi": topic["size"]} and sum(topic["channels"].values()) == topic["size"]
    with app.app_context():
        ticket_ids = dict(session().execute(select(Ticket.external_id, Ticket.id)).all())
    assert topic["tickets"] == [ticket_ids[i] for i in topic["inquiry_ids"]]
    html = editor.get("/editor/suggestions").get_data(as_text=True)
    assert shown(editor, topic) and "lahjapaketointi" in html
    assert f'href="/agent/tickets/{topic["tickets"][0]}"' in html
    assert translated(app, "Create draft from this") in html and translated(app, "Searches that found nothing") in html


def test_trend_counts_the_same_question_in_the_previous_window(app, editor, shop, runner, tmp_path: Path) -> None:
    """Earlier gift questions (three new ones and the fixture's OLD one, 20 days ago) count; others do not."""
    earlier = [{"id": f"P{n}", "created_at": (utcnow() - timedelta(days=20, hours=n)).isoformat(), "channel": "chat",
                "body": text, "language": "fi"} for n, text in enumerate(GIFT[:3])]
    earlier.append({"id": "P9", "created_at": (utcnow() - timedelta(days=18)).isoformat(), "channel": "chat",
                    "body": "Mikä on teidän Y-tunnuksenne?", "language": "fi"})
    earlier.append({"id": "P10", "created_at": (utcnow() - timedelta(days=40)).isoformat(), "channel": "chat",
                    "body": GIFT[0], "language": "fi"})          # before the previous window
    assert runner.invoke(args=["import", "inquiries", str(write_jsonl(tmp_path / "p.jsonl", earlier))]).exit_code == 0
    report = refresh(editor)
    gift = {r["id"] for r in shop if r["_topic"] == "gift"}
    gift_topics = [t for t in report["topics"] if len(set(t["inquiry_ids"]) & gift) > t["size"] / 2]
    assert sum(t["previous"] for t in gift_topics) == 4
    assert sum(t["previous"] for t in report["topics"]) == 4
    biggest = max(gift_topics, key=lambda t: t["size"])
    assert translated(app, "up from %(n)d in the previous period", n=biggest["previous"]) in editor.get(
        "/editor/suggestions").get_data(as_text=True) or biggest["size"] <= biggest["previous"]


@both_backends
def test_cover_and_dismiss(app, editor, shop, backend: str) -> None:
    report = refresh(editor)
    topic = gift_topic(report, shop)
    url = f"/editor/suggestions/{report['id']}/{topic['rank']}"
    csrf = token(editor, "/editor/suggestions")
    no_reason = editor.post(f"{url}/dismiss", data={"csrf_token": csrf, "reason": "  "})
    assert no_reason.status_code == 302
    with app.app_context():
        assert session().scalar(select(func.count(GapDecision.id))) == 0
        article_id = session().scalar(select(Article.id).where(Article.slug == "toimitusajat"))
    assert editor.post(f"{url}/cover", data={"csrf_token": csrf, "article_id": "999999"}).status_code == 302
    assert editor.post(f"{url}/cover", data={"csrf_token": csrf, "article_id": str(article_id)}).status_code == 302
    with app.app_context():
        decision = session().scalar(select(GapDecision))
        assert decision.kind is GapDecisionKind.COVERED and decision.article_id == article_id
        assert sorted(decision.inquiry_ids) == sorted(topic["inquiry_ids"])
        links = session().execute(select(Ticket.external_id, TicketArticleLink.source, TicketArticleLink.linked_by_id)
                                  .join(Ticket, Ticket.id == TicketArticleLink.ticket_id)
                                  .where(TicketArticleLink.article_id == article_id)).all()
        assert sorted(e for e, _, _ in links) == sorted(topic["inquiry_ids"])
        assert {s for _, s, _ in links} == {LinkSource.IMPORT} and None not in {b for _, _, b in links}
    assert not shown(editor, topic)
    assert majority_of(topic["inquiry_ids"], refresh(editor)) == []
    assert editor.post(f"/editor/suggestions/{report['id']}/99/dismiss",
                       data={"csrf_token": csrf, "reason": "x"}).status_code == 404


def test_dismissed_topic_stays_hidden_when_asked_again(app, editor, shop, runner, tmp_path: Path) -> None:
    report = refresh(editor)
    topic = gift_topic(report, shop)
    csrf = token(editor, "/editor/suggestions")
    assert editor.post(f"/editor/suggestions/{report['id']}/{topic['rank']}/dismiss",
                       data={"csrf_token": csrf, "reason": "Emme paketoi lahjoja."}).status_code == 302
    with app.app_context():
        decision = session().scalar(select(GapDecision))
        assert decision.kind is GapDecisionKind.DISMISSED and decision.reason == "Emme paketoi lahjoja."
    assert majority_of(topic["inquiry_ids"], refresh(editor)) == []
    from kb.services.gap_review import hidden_by

    same_question = {"title": topic["title"].upper(), "inquiry_ids": ["NEW1", "NEW2"], "terms": []}
    assert hidden_by(same_question, [decision]) is decision
    same_terms = {"title": "Jotain muuta", "inquiry_ids": ["NEW1"], "terms": list(topic["terms"])}
    assert hidden_by(same_terms, [decision]) is decision
    other = {"title": "Voinko maksaa osamaksulla?", "inquiry_ids": ["NEW3"], "terms": ["osamaksu", "maksaa"]}
    assert hidden_by(other, [decision]) is None


@both_backends
def test_draft_from_topic_prefills_title_and_questions(app, editor, shop, backend: str) -> None:
    report = refresh(editor)
    topic = gift_topic(report, shop)
    response = editor.post(f"/editor/suggestions/{report['id']}/{topic['rank']}/draft",
                           data={"csrf_token": token(editor, "/editor/suggestions")})
    assert response.status_code == 302
    article_id = int(response.headers["Location"].rsplit("/", 1)[1])
    article = get_article(app, article_id)
    assert article.status is ArticleStatus.DRAFT and article.title == topic["title"] and article.language == "fi"
    assert "## Kysymykset asiakkailta" in article.body
    for question in [topic["title"], *topic["examples"]]:
        assert f"- {question}" in article.body
    with app.app_context():
        decision = session().scalar(select(GapDecision))
        assert decision.kind is GapDecisionKind.DRAFTED and decision.article_id == article_id
    assert not shown(editor, topic)


def test_cli_refresh_stores_a_snapshot(app, runner, shop) -> None:
    result = runner.invoke(args=["suggest", "refresh", "--days", "14", "--as-of", utcnow().isoformat()])
    assert result.exit_code == 0, result.output
    assert "Stored suggested articles" in result.output
    report = latest(app)
    assert report["days"] == 14 and isinstance(gift_topic(report, shop)["previous"], int)
    bad = runner.invoke(args=["suggest", "refresh", "--as-of", "eilen"])
    assert bad.exit_code == 2 and "--as-of" in bad.output


def test_demo_editor_turns_a_suggested_topic_into_a_published_article(demo_app) -> None:
    """The issue's acceptance: suggested topic → draft → answer → publish → gone from the next run."""
    from kb.services.demo import demo_password

    client = demo_app.test_client()
    assert log_in(client, "editor@tupa.example", demo_password(Role.EDITOR)).status_code == 302
    report = refresh(client)
    topic = report["topics"][0]
    ids = topic["inquiry_ids"]
    assert topic["size"] >= 3 and len(ids) == topic["size"]
    page = client.get("/editor/suggestions").get_data(as_text=True)
    assert shown(client, topic)

    drafted = client.post(f"/editor/suggestions/{report['id']}/{topic['rank']}/draft",
                          data={"csrf_token": csrf_of(page)})
    article_id = int(drafted.headers["Location"].rsplit("/", 1)[1])
    form = edit_form(client, article_id)
    assert "Kysymykset asiakkailta" in form["body"] or "Questions from customers" in form["body"] \
        or "Frågor från kunder" in form["body"]
    words = ", ".join(topic["terms"])
    answer = (f"{topic['title']}\n\n## Vastaus\n\n{' '.join([topic['title'], *topic['examples']])}\n\n"
              f"Tämä ohje vastaa kysymyksiin aiheesta: {words}. Kerromme alla, miten toimit.\n")
    assert client.post(f"/editor/articles/{article_id}", data={**form, "body": answer}).status_code == 302
    assert set_status(client, article_id, "publish").status_code == 302
    article = get_article(demo_app, article_id)
    assert article.status is ArticleStatus.PUBLISHED
    assert client.get(f"/{article.language}/a/{article.slug}").status_code == 200

    after = refresh(client)
    assert majority_of(ids, after) == []
    assert not shown(client, topic)
    # the suggester itself (no editor decisions applied) no longer reports the question either
    raw = demo_app.test_cli_runner().invoke(args=["suggest", "gaps", "--top", "100", "--json"])
    assert raw.exit_code == 0, raw.output
    gaps = json.loads(raw.stdout.strip().splitlines()[-1])
    assert majority_of(ids, gaps) == []


# ---------- article health

@both_backends
def test_health_figures_match_a_hand_built_fixture(app, editor, create_article, backend: str) -> None:
    now = utcnow()
    a = create_article(slug="palautukset", title="Palautukset", body="Palauta 14 päivässä.")
    b = create_article(slug="maksutavat", title="Maksutavat", body="Kortti tai lasku.", category="maksaminen")
    c = create_article(slug="lahjakortit", title="Lahjakortit", body="Lahjakortti on voimassa vuoden.")
    sv = create_article(slug="returer", title="Returer", body="Returnera inom 14 dagar.", language="sv",
                        translation_of="palautukset")
    old = now - timedelta(days=40)           # outside the 30-day period
    with app.app_context():
        db = session()
        db.get(Article, a).view_count = 120
        db.get(Article, b).view_count = 7
        stale = db.get(Article, c)
        stale.updated_at = now - timedelta(days=400)
        db.get(Article, sv).updated_at = now - timedelta(days=2)     # its original changed later (now)
        tickets = [Ticket(external_id=f"T{n}", channel=ChannelKind.EMAIL, language="fi", created_at=now)
                   for n in range(5)]
        db.add_all(tickets)
        db.flush()
        t = [x.id for x in tickets]
        # votes (all time): A 1 yes 3 no -> unhelpful; B 2 yes 1 no
        db.add_all(ArticleFeedback(article_id=art, visitor=f"v{n}", helpful=h, created_at=old)
                   for n, (art, h) in enumerate([(a, True), (a, False), (a, False), (a, False),
                                                 (b, True), (b, True), (b, False)]))
        # suggested: A on T0,T1,T2 (intake) + T3 (event); B on T0,T1; one of B's is outside the period
        db.add_all([TicketSuggestion(ticket_id=t[0], article_id=a, rank=1, score=.9, created_at=now),
                    TicketSuggestion(ticket_id=t[1], article_id=a, rank=1, score=.9, created_at=now),
                    TicketSuggestion(ticket_id=t[2], article_id=a, rank=1, score=.9, created_at=now),
                    TicketSuggestion(ticket_id=t[0], article_id=b, rank=2, score=.5, created_at=now),
                    TicketSuggestion(ticket_id=t[1], article_id=b, rank=2, score=.5, created_at=old)])
        events = [(a, ArticleEventKind.SUGGESTED, t[3], now), (a, ArticleEventKind.SUGGESTED, t[0], now),
                  (a, ArticleEventKind.INSERTED, t[0], now), (a, ArticleEventKind.DEFLECTED, None, now),
                  (a, ArticleEventKind.DEFLECTED, None, now), (a, ArticleEventKind.DEFLECTED, None, old),
                  (a, ArticleEventKind.SOLVED, t[4], now), (a, ArticleEventKind.OPENED, None, now)]
        db.add_all(ArticleEvent(article_id=art, kind=kind, ticket_id=tid, created_at=at)
                   for art, kind, tid, at in events)
        # inserted: A also linked by an agent on T1 (and T0 again: counted once); an imported link is no insert
        db.add_all([TicketArticleLink(ticket_id=t[1], article_id=a, source=LinkSource.AGENT, created_at=now),
                    TicketArticleLink(ticket_id=t[0], article_id=a, source=LinkSource.AGENT, created_at=now),
                    TicketArticleLink(ticket_id=t[2], article_id=a, source=LinkSource.IMPORT, created_at=now)])
        db.add_all([SearchLog(query="palautus", language="fi", result_count=3, clicked_article_id=a, created_at=now),
                    SearchLog(query="palautus", language="fi", result_count=3, clicked_article_id=a, created_at=now),
                    SearchLog(query="palautus", language="fi", result_count=3, clicked_article_id=a, created_at=old),
                    SearchLog(query="maksu", language="fi", result_count=1, clicked_article_id=None, created_at=now)])
        commit()

        from kb.services.article_health import health_report

        report = health_report(session(), now=utcnow(), days=30)
        rows = {r.article.slug: r for r in report.figures}
        fa, fb, fc = rows["palautukset"], rows["maksutavat"], rows["lahjakortit"]
        # A: suggested tickets {T0,T1,T2,T3} = 4; inserted {T0,T1} = 2; ignored {T2,T3} = 2
        assert (fa.views, fa.helpful, fa.unhelpful) == (120, 1, 3)
        assert (fa.suggested, fa.inserted, fa.ignored) == (4, 2, 2)
        assert (fa.deflected, fa.solved, fa.opened, fa.searches) == (2, 1, 1, 2)
        assert (fb.views, fb.helpful, fb.unhelpful, fb.suggested, fb.inserted, fb.ignored) == (7, 2, 1, 1, 0, 1)
        assert (fc.suggested, fc.searches, fc.reads) == (0, 0, 0)
        assert [r.article.slug for r in report.unhelpful] == ["palautukset"]
        assert [r.article.slug for r in report.never_inserted] == ["maksutavat"]
        assert {r.article.slug for r in report.unread} == {"maksutavat", "lahjakortit", "returer"}
        assert report.most_used[0].article.slug == "palautukset"
        assert [a.slug for a, _ in report.stale] == ["lahjakortit"]
        assert [(g.original.slug, v.article.slug) for g, v in report.behind] == [("palautukset", "returer")]

    page = editor.get("/editor/health").get_data(as_text=True)
    assert translated(app, "Voted unhelpful (more no than yes, at least 3 votes)") in page
    assert translated(app, "Not updated for over a year") in page and "Returer" in page
    one = editor.get(f"/editor/health/{a}").get_data(as_text=True)
    figures = dict(re.findall(r'data-figure="(\w+)">(\d+)<', one))
    assert figures == {"views": "120", "helpful": "1", "unhelpful": "3", "suggested": "4", "inserted": "2",
                       "ignored": "2", "opened": "1", "deflected": "2", "solved": "1", "searches": "2"}
    assert editor.get("/editor/health/999999").status_code == 404
