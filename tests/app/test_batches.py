"""Imports larger than one statement's parameter limit: keys are looked up and rows deleted in batches.

PostgreSQL refuses a statement with more than 65,535 parameters, so an import of 70,000
inquiries used to fail in its first lookup.  These tests shrink the batch to three keys, so a
file of ten rows crosses batch boundaries the way a real 100,000-row file does.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from kb.db import session
from kb.models import Article, Order, Product, Ticket, TicketSuggestion
from kb.services import batches
from kb.services.batches import batched
from tests.conftest import both_backends
from tests.support.cli_helpers import write_jsonl
from tests.support.order_helpers import order_row
from tests.support.suggest_helpers import ARTICLES


def test_batched_keeps_order_and_bounds_each_batch():
    assert list(batched(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(batched([], 3)) == []
    assert [len(b) for b in batched(iter(range(10_001)))] == [batches.BATCH_SIZE, batches.BATCH_SIZE, 1]


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(batches, "BATCH_SIZE", 3)


def _inquiries(n: int, text: str = "Miten palautan tuotteen?") -> list[dict]:
    return [{"id": f"B{i}", "created_at": "2026-11-20T10:00:00+00:00", "channel": "email", "body": f"{text} ({i})",
             "language": "fi"} for i in range(n)]


@both_backends
def test_inquiry_import_across_batches_is_whole_and_an_upsert(app, runner, tmp_path: Path, small_batches,
                                                              backend: str) -> None:
    assert runner.invoke(args=["import", "articles", str(write_jsonl(tmp_path / "a.jsonl", ARTICLES))]).exit_code == 0
    first = runner.invoke(args=["import", "inquiries", str(write_jsonl(tmp_path / "q.jsonl", _inquiries(10)))])
    assert first.exit_code == 0 and "10 new, 0 updated" in first.output, first.output
    again = write_jsonl(tmp_path / "q2.jsonl", _inquiries(11, "Kuinka kauan toimitus kestää?"))
    second = runner.invoke(args=["import", "inquiries", str(again)])
    assert second.exit_code == 0 and "1 new, 10 updated" in second.output, second.output
    with app.app_context():
        db = session()
        assert db.scalar(select(func.count(Ticket.id))) == 11
        per_ticket = dict(db.execute(select(TicketSuggestion.ticket_id, func.count())
                                     .group_by(TicketSuggestion.ticket_id)).all())
        answers = len({a.get("translation_of") or a["slug"] for a in ARTICLES})  # a translation is no other answer
        assert len(per_ticket) == 11 and set(per_ticket.values()) == {answers}  # old ones replaced, not added
        firsts = db.scalars(select(Article.slug).join(TicketSuggestion, TicketSuggestion.article_id == Article.id)
                            .where(TicketSuggestion.rank == 1)).all()
        assert set(firsts) == {"toimitusajat"}  # the suggestions follow the updated text


@both_backends
def test_order_and_article_imports_across_batches(app, runner, tmp_path: Path, small_batches, backend: str) -> None:
    orders = [order_row(str(300000 + i)) for i in range(8)]
    assert runner.invoke(args=["import", "orders", str(write_jsonl(tmp_path / "o.jsonl", orders))]).exit_code == 0
    result = runner.invoke(args=["import", "orders", str(write_jsonl(tmp_path / "o.jsonl", orders))])
    assert result.exit_code == 0 and "0 new, 8 updated" in result.output, result.output
    articles = [{"slug": f"ohje-{i}", "title": f"Ohje {i}", "body": "Teksti.", "language": "fi", "category": "yleiset"}
                for i in range(8)]
    for _ in range(2):
        assert runner.invoke(args=["import", "articles", str(write_jsonl(tmp_path / "a.jsonl", articles))]).exit_code == 0
    with app.app_context():
        db = session()
        assert db.scalar(select(func.count(Order.id))) == 8
        assert db.scalar(select(func.count(Article.id))) == 8
        assert db.scalar(select(func.count(Product.id))) == len({line["sku"] for line in orders[0]["lines"]})


@both_backends
def test_lookup_of_more_keys_than_a_statement_may_carry(app, backend: str) -> None:
    """70,000 ids: over PostgreSQL's 65,535 parameters (and SQLite's default 32,766)."""
    from kb.services.inquiries.tickets import tickets_by_external_id

    with app.app_context():
        db = session()
        db.add(Ticket(external_id="K69999", channel="email", subject="", body="x", language="fi"))
        db.flush()
        found = tickets_by_external_id(db, [f"K{i}" for i in range(70_000)])
        assert list(found) == ["K69999"]
