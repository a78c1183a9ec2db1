"""The editor workspace: suggested articles (the issue's acceptance flow) and article health."""
from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kb.db import commit, session, utcnow
from kb.models import (Article, ArticleEvent, ArticleEventKind, ArticleFeedback, ArticleStatus, ChannelKind,
                       GapDecision, GapDecisionKind, GapSnapshot, LinkSource, Role, SearchLog, Ticket,
                       TicketArticleLink, TicketSuggestion)
from tests.support.auth_helpers import csrf_of, log_in
from tests.conftest import both_backends, translated
from tests.support.editor_helpers import PASSWORD as EDITOR_PASSWORD, edit_form, get_article, set_status, token
from tests.support.suggest_helpers import ARTICLES, inquiries
from tests.support.cli_helpers import write_jsonl


# ---------- suggested articles

GIFT = ["Voitteko paketoida tilauksen lahjapaperiin?", "Onko teillä lahjapaketointia?",
        "Saisinko lahjapaketoinnin tilaukseen?", "Paketoitteko lahjaksi?"]


@pytest.fixture
def shop(app, runner, tmp_path: Path) -> list[dict]:
    """The suggester's small shop (tests/editorial/test_suggest_cli.py), dated up to now."""
    rows = inquiries(utcnow() - timedelta(hours=1))
    assert runner.invoke(args=["import", "articles", str(write_jsonl(tmp_path / "a.jsonl", ARTICLES))]).exit_code == 0
    path = write_jsonl(tmp_path / "q.jsonl", [{k: v for k, v in r.items() if k != "_topic"} for r in rows])
    assert runner.invoke(args=["import", "inquiries", str(path)]).exit_code == 0
    return rows


def refresh(client) -> dict:
    """The editor asks for a refresh; the background worker's next round runs it."""
    assert client.post("/editor/suggestions/refresh",
                       data={"csrf_token": token(client, "/editor/suggestions")}).status_code == 302
    result = client.application.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0 and "[suggestions] stored suggested articles" in result.output, result.output
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
@pytest.mark.semantic  # with the product's default encoder setting, no "semantic signal off" notice
def test_suggestions_page_shows_topics_trend_and_failed_searches(app, editor, make_staff, shop, backend: str) -> None:
    with app.app_context():
        session().add(SearchLog(query="lahjapaketointi", language="fi", category=None, result_count=0,
                                created_at=utcnow() - timedelta(days=1)))
        session().add(SearchLog(query="akkuporakone", language="fi", category=None, result_count=0,
                                created_at=utcnow() - timedelta(days=1)))
        commit()
    report = refresh(editor)
    topic = gift_topic(report, shop)
    assert topic["searches"] == [{"query": "lahjapaketointi", "count": 1}]  # evidence joined to its topic
    assert report["searches"] == [{"query": "akkuporakone", "count": 1}]  # the other stays on its own
    assert topic["size"] >= 3 and isinstance(topic["previous"], int)
    assert topic["languages"] == {"fi": topic["size"]} and sum(topic["channels"].values()) == topic["size"]
    with app.app_context():
        ticket_ids = dict(session().execute(select(Ticket.external_id, Ticket.id)).all())
    assert topic["tickets"] == [ticket_ids[i] for i in topic["inquiry_ids"]]
    html = editor.get("/editor/suggestions").get_data(as_text=True)
    assert shown(editor, topic) and "lahjapaketointi" in html
    # an editor cannot open tickets, so the questions are not links to them; an admin's page links them
    assert topic["examples"][0].split("\n")[0][:30] in html and "/agent/tickets/" not in html
    admin = app.test_client()
    assert log_in(admin, make_staff(Role.ADMIN), EDITOR_PASSWORD).status_code == 302
    assert f'href="/agent/tickets/{topic["tickets"][0]}"' in admin.get("/editor/suggestions").get_data(as_text=True)
    assert translated(app, "Create draft from this") in html and translated(app, "Searched for:") in html
    # one ranked list: the lone search is an entry of its own after the topics it has less evidence than
    assert "data-lone-search" in html and html.index("akkuporakone") > html.index(topic["title"])
    assert "data-semantic-off" not in html
    # channels and languages in words, not the stored codes
    described = re.search(r"Kielet: ([^<]*)", html).group(1)
    assert "suomi" in described.lower() and not re.search(r"\b(fi|email|chat|form|social|phone) \d", described)


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
    # The shop has more gift questions now than the four before: the page shows the rise.
    [biggest] = [t for t in gift_topics if t["previous"]]
    assert biggest["size"] > biggest["previous"] == 4
    assert translated(app, "up from %(n)d in the previous period", n=4) in editor.get(
        "/editor/suggestions").get_data(as_text=True)


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
    from kb.services.editorial.gap_review import hidden_by

    same_question = {"title": topic["title"].upper(), "inquiry_ids": ["NEW1", "NEW2"], "terms": []}
    assert hidden_by(same_question, [decision]) is decision
    same_terms = {"title": "Jotain muuta", "inquiry_ids": ["NEW1"], "terms": list(topic["terms"])}
    assert hidden_by(same_terms, [decision]) is decision
    other = {"title": "Voinko maksaa osamaksulla?", "inquiry_ids": ["NEW3"], "terms": ["osamaksu", "maksaa"]}
    assert hidden_by(other, [decision]) is None


@both_backends
def test_draft_from_topic_prefills_title_and_questions(app, editor, shop, backend: str) -> None:
    with app.app_context():
        for query in ["lahjapaperi", "lahjapaketointi", "Lahjapaketointi"]:
            session().add(SearchLog(query=query, language="fi", category=None, result_count=0,
                                    created_at=utcnow() - timedelta(days=1)))
        commit()
    report = refresh(editor)
    topic = gift_topic(report, shop)
    assert topic["searches"] == [{"query": "lahjapaketointi", "count": 2}, {"query": "lahjapaperi", "count": 1}]
    response = editor.post(f"/editor/suggestions/{report['id']}/{topic['rank']}/draft",
                           data={"csrf_token": token(editor, "/editor/suggestions")})
    assert response.status_code == 302
    article_id = int(response.headers["Location"].rsplit("/", 1)[1])
    article = get_article(app, article_id)
    assert article.status is ArticleStatus.DRAFT and article.title == topic["title"] and article.language == "fi"
    assert "## Kysymykset asiakkailta" in article.body
    # the words searched in vain become its tags: once published, those searches find it
    assert article.tags == ["lahjapaketointi", "lahjapaperi"]
    for question in [topic["title"], *topic["examples"]]:
        assert f"- {question}" in article.body
    with app.app_context():
        decision = session().scalar(select(GapDecision))
        assert decision.kind is GapDecisionKind.DRAFTED and decision.article_id == article_id
    assert not shown(editor, topic)


def test_a_draft_still_holding_its_outline_is_not_published(app, editor, shop) -> None:
    report = refresh(editor)
    topic = gift_topic(report, shop)
    drafted = editor.post(f"/editor/suggestions/{report['id']}/{topic['rank']}/draft",
                          data={"csrf_token": token(editor, "/editor/suggestions")})
    article_id = int(drafted.headers["Location"].rsplit("/", 1)[1])
    refused = set_status(editor, article_id, "publish")
    assert refused.status_code == 302
    assert get_article(app, article_id).status is ArticleStatus.DRAFT
    page = editor.get(f"/editor/articles/{article_id}").get_data(as_text=True)
    assert "Julkaisematta: tekstissä on yhä pohjan ohjerivit" in page
    # the answer written and the customers' questions replaced: it goes out
    form = edit_form(editor, article_id)
    answer = "## Vastaus\n\nPaketoimme tilauksen lahjaksi 4,90 eurolla. Valitse lahjapaketointi kassalla.\n"
    assert editor.post(f"/editor/articles/{article_id}", data={**form, "body": answer}).status_code == 302
    assert set_status(editor, article_id, "publish").status_code == 302
    assert get_article(app, article_id).status is ArticleStatus.PUBLISHED


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
    from kb.services.shop.demo import demo_password

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
    # the outline is in the language most of the topic's questions were asked in
    language = max(sorted(topic["languages"]), key=lambda k: topic["languages"][k])
    heading = {"fi": "Kysymykset asiakkailta", "sv": "Frågor från kunder", "en": "Questions from customers"}[language]
    assert f"## {heading}" in form["body"] and form["language"] == language
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
    # the words customers searched in vain for this topic are the article's tags, so they find it now
    assert topic["searches"] and article.tags == [s["query"] for s in topic["searches"]]
    for search in topic["searches"]:
        hits = client.get("/api/v1/search", query_string={"q": search["query"], "lang": article.language}).get_json()
        assert article.slug in [hit["slug"] for hit in hits["results"]], search
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

        from kb.services.editorial.article_health import health_report

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
    # each figure names itself, so the rows still read on a phone where the columns are gone
    table = page.split('class="data figures-table"', 1)[1].split("</table>", 1)[0]
    headings = re.findall(r'<th scope="col">([^<]+)</th>', table)[1:]
    first_row = table.split("<tbody>", 1)[1].split("</tr>", 1)[0]
    assert re.findall(r'<td data-label="([^"]+)">', first_row) == headings and len(headings) == 8
    one = editor.get(f"/editor/health/{a}").get_data(as_text=True)
    figures = dict(re.findall(r'data-figure="(\w+)">(\d+)<', one))
    assert figures == {"views": "120", "helpful": "1", "unhelpful": "3", "suggested": "4", "inserted": "2",
                       "ignored": "2", "opened": "1", "deflected": "2", "solved": "1", "searches": "2"}
    assert editor.get("/editor/health/999999").status_code == 404
