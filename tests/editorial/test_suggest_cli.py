"""The suggester in the product: inquiry import, `neuvo suggest`, the suggest API."""
from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kb.db import session
from kb.models import Ticket, TicketArticleLink, TicketSuggestion
from tests.support.cli_helpers import write_jsonl
from tests.conftest import both_backends
from tests.support.suggest_helpers import AS_OF, ARTICLES, inquiries

@pytest.fixture
def shop(app, runner, tmp_path: Path) -> Path:
    result = runner.invoke(args=["import", "articles", str(write_jsonl(tmp_path / "a.jsonl", ARTICLES))])
    assert result.exit_code == 0, result.output
    path = write_jsonl(tmp_path / "q.jsonl", [{k: v for k, v in r.items() if k != "_topic"} for r in inquiries()])
    result = runner.invoke(args=["import", "inquiries", str(path)])
    assert result.exit_code == 0, result.output
    return path


@both_backends
def test_import_inquiries_attaches_suggestions(app, shop: Path, backend: str) -> None:
    with app.app_context():
        db = session()
        assert db.scalar(select(func.count(Ticket.id))) == len(inquiries())
        ticket = db.scalar(select(Ticket).where(Ticket.body == "Miten palautan tuotteen?"))
        ranked = db.scalars(select(TicketSuggestion).where(TicketSuggestion.ticket_id == ticket.id)
                            .order_by(TicketSuggestion.rank)).all()
        assert [s.rank for s in ranked] == list(range(1, len(ranked) + 1))
        assert ranked[0].article.slug in ("palautukset", "returns")
        assert ranked[0].score >= ranked[-1].score
        assert db.scalar(select(Ticket.language).where(Ticket.external_id == "OLD")) == "fi"  # detected


def test_import_is_an_upsert_by_id(app, runner, shop: Path, tmp_path: Path) -> None:
    changed = write_jsonl(tmp_path / "c.jsonl", [{"id": "Q1", "created_at": AS_OF.isoformat(), "channel": "social",
                                                   "body": "Miten palautan tuotteen?", "article_slugs": ["palautukset"]}])
    result = runner.invoke(args=["import", "inquiries", str(changed)])
    assert result.exit_code == 0 and "0 new, 1 updated" in result.output
    with app.app_context():
        ticket = session().scalar(select(Ticket).where(Ticket.external_id == "Q1"))
        assert ticket.channel.value == "social"
        assert [link.article.slug for link in ticket.links] == ["palautukset"]


BAD = [
    ({"id": "X", "created_at": "yesterday", "channel": "email", "body": "a"}, "created_at"),
    ({"id": "X", "created_at": "2026-11-01T10:00:00", "channel": "fax", "body": "a"}, "channel"),
    ({"id": "", "created_at": "2026-11-01T10:00:00", "channel": "email", "body": "a"}, "id"),
    ({"id": "X", "created_at": "2026-11-01T10:00:00", "channel": "email", "body": ""}, "body"),
    ({"id": "X", "created_at": "2026-11-01T10:00:00", "channel": "email", "body": "a", "language": "de"}, "language"),
    ({"id": "X", "created_at": "2026-11-01T10:00:00", "channel": "email", "body": "a", "email": "nope"}, "email"),
    ({"id": "X", "created_at": "2026-11-01T10:00:00", "channel": "email", "body": "a", "article_slugs": ["ghost"]},
     "article_slugs"),
    ({"id": "X", "created_at": "2026-11-01T10:00:00", "channel": "email", "body": "a", "priority": 1}, "priority"),
]


@both_backends
@pytest.mark.parametrize("bad,field", BAD)
def test_bad_inquiry_exits_2_and_changes_nothing(app, runner, shop: Path, tmp_path: Path, bad: dict, field: str,
                                                 backend: str) -> None:
    good = {"id": "NEW", "created_at": "2026-11-01T10:00:00Z", "channel": "chat", "body": "Hei"}
    path = write_jsonl(tmp_path / "bad.jsonl", [good, bad])
    result = runner.invoke(args=["import", "inquiries", str(path)])
    assert result.exit_code == 2, result.output
    assert str(path) in result.output and f"'{field}'" in result.output
    with app.app_context():
        assert session().scalar(select(func.count(Ticket.id))) == len(inquiries())


def test_attach_file_prints_json_lines_in_input_order(runner, shop: Path) -> None:
    result = runner.invoke(args=["suggest", "attach", "--file", str(shop), "--k", "2", "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [o["id"] for o in lines] == [r["id"] for r in inquiries()]
    for line in lines:
        assert set(line) == {"id", "confident", "suggestions"}
        assert len(line["suggestions"]) == 2
        assert line["suggestions"][0]["score"] >= line["suggestions"][1]["score"]
    by_id = {o["id"]: o for o in lines}
    for row in inquiries():
        if row["_topic"] in ("toimitusajat", "palautukset"):
            assert by_id[row["id"]]["suggestions"][0]["slug"] in (row["_topic"], "returns"), row


def test_attach_text_english_and_off_topic(runner, shop: Path) -> None:
    result = runner.invoke(args=["suggest", "attach", "--text", "How do I return an item?", "--json"])
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["id"] == "text" and answer["suggestions"][0]["slug"] in ("returns", "palautukset")
    off = runner.invoke(args=["suggest", "attach", "--text", "Mikä on Suomen pääkaupunki?", "--json"])
    assert json.loads(off.stdout.strip().splitlines()[-1])["confident"] is False


@pytest.mark.parametrize("args,message", [
    (["suggest", "attach"], "exactly one"),
    (["suggest", "attach", "--text", "a", "--file", "x.jsonl"], "exactly one"),
    (["suggest", "attach", "--file", "/nonexistent/q.jsonl"], "file not found"),
    (["suggest", "gaps", "--as-of", "last tuesday"], "--as-of"),
])
def test_suggest_bad_input_exits_2(runner, shop: Path, args: list[str], message: str) -> None:
    result = runner.invoke(args=args)
    assert result.exit_code == 2 and message in result.output


def test_gaps_json_reports_the_unanswered_question(runner, shop: Path) -> None:
    result = runner.invoke(args=["suggest", "gaps", "--as-of", AS_OF.isoformat(), "--days", "14", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(report) == {"window", "inquiries", "topics"}
    assert report["window"]["end"].startswith("2026-11-20T12:00")
    assert report["inquiries"] == len(inquiries()) - 1  # OLD is outside the window
    top = report["topics"][0]
    assert {"rank", "title", "size", "inquiry_ids", "examples", "terms", "languages", "nearest_article",
            "nearest_similarity"} <= set(top)
    gift_ids = {r["id"] for r in inquiries() if r["_topic"] == "gift" and r["id"] != "OLD"}
    assert set(top["inquiry_ids"]) <= gift_ids and top["size"] >= 6
    assert "OLD" not in top["inquiry_ids"]
    covered = {r["id"] for r in inquiries() if r["_topic"] != "gift"}
    assert not any(set(t["inquiry_ids"]) & covered and len(set(t["inquiry_ids"]) & covered) > t["size"] / 2
                   for t in report["topics"])


def test_gaps_human_output_is_a_table(runner, shop: Path) -> None:
    result = runner.invoke(args=["suggest", "gaps", "--as-of", AS_OF.isoformat()])
    assert result.exit_code == 0
    assert " 1. " in result.stdout and "inquiries" in result.stdout


def test_fitted_model_is_derived_data(app, runner, shop: Path) -> None:
    from kb.services.editorial.suggestions import MatcherStore

    models = Path(app.config["MODELS_PATH"])
    assert (models / "current.json").exists()
    shutil.rmtree(models)
    app.extensions["neuvo_matchers"] = MatcherStore(models)  # as a fresh process would start
    result = runner.invoke(args=["suggest", "attach", "--text", "Miten palautan tuotteen?", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout.strip().splitlines()[-1])["suggestions"][0]["slug"] in ("palautukset", "returns")
    assert (models / "current.json").exists()
    (models / "current.json").write_text("{broken")
    app.extensions["neuvo_matchers"] = MatcherStore(models)
    again = runner.invoke(args=["suggest", "attach", "--text", "Miten palautan tuotteen?", "--json"])
    assert again.exit_code == 0


def test_linked_answers_are_learned(app, runner, shop: Path, tmp_path: Path) -> None:
    """Agents linked 'maksutavat' to questions about Klarna invoices; a similar one now ranks it first."""
    linked = [{"id": f"L{i}", "created_at": (AS_OF - timedelta(days=2)).isoformat(), "channel": "email",
               "body": text, "article_slugs": ["maksutavat"]}
              for i, text in enumerate(["Voinko ostaa osamaksulla?", "Onnistuuko osamaksu?",
                                        "Miten osamaksu toimii teillä?"])]
    assert runner.invoke(args=["import", "inquiries", str(write_jsonl(tmp_path / "l.jsonl", linked))]).exit_code == 0
    with app.app_context():
        assert session().scalar(select(func.count(TicketArticleLink.id))) == 3
    result = runner.invoke(args=["suggest", "attach", "--text", "Voiko osamaksulla maksaa?", "--json"])
    assert json.loads(result.stdout.strip().splitlines()[-1])["suggestions"][0]["slug"] == "maksutavat"


def test_suggest_api(app, client, shop: Path) -> None:
    r = client.post("/api/v1/suggest", json={"text": "Miten palautan tuotteen?"})
    assert r.status_code == 200
    data = r.get_json()
    assert data["suggestions"][0]["slug"] in ("palautukset", "returns")
    assert data["suggestions"][0]["url"].startswith("/")
    for body, field in [({"text": ""}, "text"), ({"text": "x", "language": "de"}, "language"),
                        ({"text": "x", "k": 0}, "k"), ([], None), ({"text": "x" * 5001}, "text")]:
        bad = client.post("/api/v1/suggest", json=body)
        assert bad.status_code == 400 and bad.get_json()["field"] == field
    raw = client.post("/api/v1/suggest", data="{not json", content_type="application/json")
    assert raw.status_code == 400 and "error" in raw.get_json()
