"""Orders from the shop platform: `neuvo import orders`, API tokens and the shop's API calls."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kb.db import commit, session, utcnow
from kb.models import ApiToken, Invoice, Order, OrderEvent, OrderStatus, Product, Ticket
from kb.services.accounts.api_tokens import create_token, revoke_token
from kb.services.orders.rules import change_quantity
from tests.support.cli_helpers import write_jsonl
from tests.conftest import both_backends
from tests.support.order_helpers import order_row


def get_order(number: str) -> Order | None:
    return session().scalar(select(Order).where(Order.number == number))


def counts() -> tuple[int, int, int, int]:
    db = session()
    return tuple(db.scalar(select(func.count(model.id))) for model in (Order, OrderEvent, Product, Invoice))


# ---------- import

@both_backends
def test_import_orders_creates_then_upserts_keeping_customer_events(app, runner, tmp_path: Path,
                                                                    backend: str) -> None:
    first = write_jsonl(tmp_path / "orders.jsonl", [order_row(), order_row("200002", status="received", events=[])])
    result = runner.invoke(args=["import", "orders", str(first)])
    assert result.exit_code == 0, result.output
    assert "2 new, 0 updated" in result.output
    with app.app_context():
        order = get_order("200001")
        assert order.email == "aino.virtanen@example.com" and order.status is OrderStatus.PAID
        assert [(line.sku, line.quantity, line.unit_price_cents, line.vat_rate_bp) for line in order.lines] == [
            ("TK-1001", 1, 5990, 2550), ("KIRJA-1", 2, 2490, 1400)]
        assert order.shipping_cents == 490 and order.total_cents == 5990 + 4980 + 490
        assert order.shipping_address["city"] == "Tampere" and order.expected_delivery.isoformat() == "2026-03-05"
        assert order.placed_at == datetime(2026, 3, 2, 8, 15, tzinfo=timezone.utc)
        assert [i.number for i in order.invoices] == ["L200001"]  # paid: an invoice is issued
        assert get_order("200002").invoices == []  # received: not yet
        assert session().scalar(select(Product).where(Product.sku == "KIRJA-1")).unit_price_cents == 2490
        line_id = order.lines[0].id
        change_quantity(session(), order, line_id, 3, now=utcnow())
        commit()

    delivered = order_row(status="delivered", events=[
        {"status": "paid", "at": "2026-03-02T10:17:00+02:00"}, {"status": "shipped", "at": "2026-03-03T12:00:00Z"},
        {"status": "delivered", "at": "2026-03-04T09:30:00Z"}], tracking_code="JJFI64123450000000001")
    result = runner.invoke(args=["import", "orders", str(write_jsonl(tmp_path / "b.jsonl", [delivered]))])
    assert result.exit_code == 0, result.output
    assert "0 new, 1 updated" in result.output
    with app.app_context():
        order = get_order("200001")
        assert order.status is OrderStatus.DELIVERED and order.tracking_code == "JJFI64123450000000001"
        assert order.delivered_at == datetime(2026, 3, 4, 9, 30, tzinfo=timezone.utc)
        kinds = sorted((e.source, e.kind) for e in order.events)
        assert kinds == [("customer", "changed"), ("shop", "delivered"), ("shop", "paid"), ("shop", "shipped")]
        assert order.lines[0].id == line_id and order.lines[0].quantity == 1  # the shop's truth, same row
        assert [i.number for i in order.invoices] == ["L200001"] and order.version >= 3
        assert session().scalar(select(func.count(Order.id))) == 2


BAD_ROWS = [
    ({"status": "lost"}, "status"),
    ({"lines": [{"sku": "A", "name": "A", "quantity": 0, "unit_price": 1}]}, "lines[0].quantity"),
    ({"lines": [{"sku": "A", "name": "A", "quantity": 1, "unit_price": 1},
                {"sku": "B", "name": "B", "quantity": 1, "unit_price": "12,345"}]}, "lines[1].unit_price"),
    ({"lines": [{"sku": "A", "name": "A", "quantity": 1, "unit_price": "kaksi"}]}, "lines[0].unit_price"),
    ({"lines": [{"sku": "A", "name": "A", "quantity": 1, "unit_price": 1, "colour": "red"}]}, "lines[0].colour"),
    ({"gift_wrap": True}, "gift_wrap"),
    ({"placed_at": "2.3.2026"}, "placed_at"),
    ({"expected_delivery": "next week"}, "expected_delivery"),
    ({"events": [{"status": "shipped", "at": "yesterday"}]}, "events[0].at"),
    ({"lines": "TK-1001 x 1"}, "lines"),
    ({"lines": []}, "lines"),
    ({"email": "not-an-address"}, "email"),
    ({"currency": "SEK"}, "currency"),
    ({"shipping_address": {"name": "A", "street_2": "B"}}, "shipping_address.street_2"),
    ({"invoice": {"number": "X1"}}, "invoice.issued_at"),
]


@pytest.mark.parametrize(("change", "field"), BAD_ROWS)
def test_bad_order_row_exits_2_naming_file_line_field_and_changes_nothing(app, runner, tmp_path: Path,
                                                                         change: dict, field: str) -> None:
    path = write_jsonl(tmp_path / "orders.jsonl", [order_row("200010"), order_row("200011", **change)])
    with app.app_context():
        before = counts()
    result = runner.invoke(args=["import", "orders", str(path)])
    assert result.exit_code == 2, result.output
    assert f"{path}:2: field '{field}'" in result.output
    with app.app_context():
        assert counts() == before


@both_backends
def test_bad_row_after_good_ones_changes_nothing_on_both_backends(app, runner, tmp_path: Path, backend: str) -> None:
    path = write_jsonl(tmp_path / "o.jsonl", [order_row("200020"), order_row("200021"),
                                              order_row("200022", status="lost")])
    result = runner.invoke(args=["import", "orders", str(path)])
    assert result.exit_code == 2 and f"{path}:3: field 'status'" in result.output
    with app.app_context():
        assert counts() == (0, 0, 0, 0)


def test_import_orders_refuses_csv_duplicates_and_missing_files(app, runner, tmp_path: Path) -> None:
    csv = tmp_path / "orders.csv"
    csv.write_text("number,email\n1,a@example.com\n", encoding="utf-8")
    assert runner.invoke(args=["import", "orders", str(csv)]).exit_code == 2
    twice = write_jsonl(tmp_path / "twice.jsonl", [order_row("200030"), order_row("200030")])
    result = runner.invoke(args=["import", "orders", str(twice)])
    assert result.exit_code == 2 and "'200030' appears twice" in result.output
    result = runner.invoke(args=["import", "orders", str(tmp_path / "missing.jsonl")])
    assert result.exit_code == 2 and "file not found" in result.output


# ---------- tokens

def make_token(app, name: str = "shop") -> str:
    with app.app_context():
        _, secret = create_token(session(), name, now=utcnow())
        commit()
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_token_add_prints_a_token_that_works_and_is_stored_hashed(app, runner, client) -> None:
    result = runner.invoke(args=["token", "add", "Verkkokauppa"])
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip().splitlines()[-1]
    assert secret.startswith("neuvo_") and len(secret) > 40
    with app.app_context():
        token = session().scalar(select(ApiToken))
        assert token.name == "Verkkokauppa" and secret not in token.token_hash and len(token.token_hash) == 64
        assert token.last_used_at is None
    response = client.post("/api/v1/orders", json=order_row(), headers=bearer(secret))
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        assert session().scalar(select(ApiToken)).last_used_at is not None
    assert runner.invoke(args=["token", "add", "Verkkokauppa"]).exit_code == 2  # name taken while live
    assert runner.invoke(args=["token", "revoke", "Verkkokauppa"]).exit_code == 0
    assert client.post("/api/v1/orders", json=order_row(), headers=bearer(secret)).status_code == 401


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer "}, {"Authorization": "Basic dXNlcjpwdw=="},
                                     {"Authorization": "Bearer neuvo_wrong"}, "revoked"])
@pytest.mark.parametrize("path", ["/api/v1/orders", "/api/v1/orders/200001/events", "/api/v1/inquiries"])
def test_shop_api_refuses_missing_wrong_and_revoked_tokens(app, client, headers, path: str) -> None:
    if headers == "revoked":
        secret = make_token(app, "old")
        with app.app_context():
            revoke_token(session(), "old", now=utcnow())
            commit()
        headers = bearer(secret)
    response = client.post(path, json={"status": "packed", "at": "2026-03-03T08:00:00Z"}, headers=headers)
    assert response.status_code == 401
    assert response.is_json and response.get_json()["error"] and response.get_json()["field"] == "Authorization"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


# ---------- orders and events over the API

@both_backends
def test_api_order_upsert_then_events(app, client, backend: str) -> None:
    headers = bearer(make_token(app))
    created = client.post("/api/v1/orders", json=order_row(), headers=headers)
    assert created.status_code == 201
    assert created.get_json() == {"number": "200001", "status": "paid", "created": True}
    updated = client.post("/api/v1/orders", json=order_row(status="packing"), headers=headers)
    assert updated.status_code == 200
    assert updated.get_json() == {"number": "200001", "status": "packing", "created": False}

    packed = client.post("/api/v1/orders/200001/events", json={"status": "packed", "at": "2026-03-03T08:00:00Z"},
                         headers=headers)
    assert packed.status_code == 201 and packed.get_json()["status"] == "packed"
    delivered = client.post("/api/v1/orders/200001/events",
                            json={"status": "delivered", "at": "2026-03-04T12:00:00+02:00"}, headers=headers)
    assert delivered.status_code == 201
    with app.app_context():
        order = get_order("200001")
        assert order.status is OrderStatus.DELIVERED and not order.is_changeable
        assert order.delivered_at == datetime(2026, 3, 4, 10, 0, tzinfo=timezone.utc)
        assert {"packed", "delivered"} <= {e.kind for e in order.events}


@pytest.mark.parametrize(("path", "body", "status", "field"), [
    ("/api/v1/orders/999999/events", {"status": "packed", "at": "2026-03-03T08:00:00Z"}, 404, "number"),
    ("/api/v1/orders/200001/events", {"status": "lost", "at": "2026-03-03T08:00:00Z"}, 400, "status"),
    ("/api/v1/orders/200001/events", {"status": "packed"}, 400, "at"),
    ("/api/v1/orders/200001/events", {"status": "packed", "at": "x", "by": "me"}, 400, "by"),
    ("/api/v1/orders", {"number": "1"}, 400, "email"),
    ("/api/v1/orders", dict(order_row(), lines=[{"sku": "A", "name": "A", "quantity": -1, "unit_price": 1}]), 400,
     "lines[0].quantity"),
    ("/api/v1/orders", dict(order_row(), number="../etc"), 400, "number"),
    ("/api/v1/orders", ["not", "an", "object"], 400, None),
    ("/api/v1/inquiries", {"id": "W-1", "channel": "pigeon", "created_at": "2026-03-01T10:00:00Z", "body": "x"}, 400,
     "channel"),
    ("/api/v1/inquiries", {"id": "W-2", "channel": "chat", "created_at": "2026-03-01T10:00:00Z", "body": "x",
                           "article_slugs": ["toimitus\x00ajat"]}, 400, "article_slugs"),  # PostgreSQL refuses NUL
])
def test_shop_api_errors_are_json_4xx(app, client, path: str, body, status: int, field: str | None) -> None:
    headers = bearer(make_token(app))
    assert client.post("/api/v1/orders", json=order_row(), headers=headers).status_code == 201
    response = client.post(path, json=body, headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json and response.get_json()["error"] and response.get_json()["field"] == field


@pytest.mark.parametrize("data", ["{not json", "", "\x00\xff", "null", "[]"])
def test_bad_json_bodies_get_400_json(app, client, data: str) -> None:
    headers = dict(bearer(make_token(app)), **{"Content-Type": "application/json"})
    for path in ("/api/v1/orders", "/api/v1/orders/1/events", "/api/v1/inquiries"):
        response = client.post(path, data=data, headers=headers)
        assert response.status_code == 400 and response.is_json, (path, data)


def test_wrong_content_type_and_oversized_bodies(app, client) -> None:
    headers = bearer(make_token(app))
    response = client.post("/api/v1/orders", data=json.dumps(order_row()), headers=headers)
    assert response.status_code == 415 and response.is_json and response.get_json()["error"]
    huge = dict(order_row(), lines=[{"sku": "A", "name": "x" * 100, "quantity": 1, "unit_price": 1}] * 30_000)
    response = client.post("/api/v1/orders", json=huge, headers=headers)
    assert response.status_code == 413 and response.is_json


# ---------- inquiries over the API

def test_api_inquiry_is_stored_with_suggestions(demo_app) -> None:
    secret = make_token(demo_app)
    client = demo_app.test_client()
    inquiry = {"id": "SHOP-1", "created_at": "2026-03-01T10:00:00Z", "channel": "form",
               "subject": "Palautus", "body": "Miten palautan tuotteen ja saan rahat takaisin?",
               "email": "aino.virtanen@example.com", "order_number": "101679"}
    response = client.post("/api/v1/inquiries", json=inquiry, headers=bearer(secret))
    assert response.status_code == 201, response.get_data(as_text=True)
    payload = response.get_json()
    assert payload["id"] == "SHOP-1" and isinstance(payload["reference"], int) and payload["created"] is True
    assert payload["suggestions"] and all({"slug", "title", "score"} <= set(s) for s in payload["suggestions"])
    assert any("palaut" in s["slug"] for s in payload["suggestions"][:3])
    again = client.post("/api/v1/inquiries", json=dict(inquiry, body="Miten palautan?"), headers=bearer(secret))
    assert again.status_code == 200 and again.get_json()["reference"] == payload["reference"]
    with demo_app.app_context():
        ticket = session().scalar(select(Ticket).where(Ticket.external_id == "SHOP-1"))
        assert ticket.language == "fi" and ticket.order_number == "101679" and len(ticket.suggestions) >= 1


# ---------- the demo

def test_demo_has_orders_in_every_state_accounts_and_invoices(demo_app) -> None:
    from kb.models import Role, User
    from kb.services.orders.returns import last_return_day

    with demo_app.app_context():
        db = session()
        orders = db.scalars(select(Order)).all()
        assert len(orders) >= 40 and {o.status for o in orders} == set(OrderStatus)
        now = utcnow()
        aino = [o for o in orders if o.email == "aino.virtanen@example.com"]
        delivered = [o for o in aino if o.status is OrderStatus.DELIVERED]
        open_days = [last_return_day(o, window_days=14, timezone="Europe/Helsinki") for o in delivered]
        assert any(day >= now.date() for day in open_days) and any(day < now.date() for day in open_days)
        assert any(o.is_changeable for o in aino)
        assert all(e.at <= now for o in orders for e in o.events)
        roles = dict(db.execute(select(User.email, User.role)).all())
        assert roles["aino.virtanen@example.com"] is Role.CUSTOMER and roles["admin@tupa.example"] is Role.ADMIN
        assert db.scalar(select(func.count(Product.id))) >= 30
        assert db.scalar(select(func.count(Invoice.id))) >= 25
        assert {o.carrier for o in orders} == {"Posti", "Matkahuolto", "DB Schenker"}


def test_openapi_documents_the_shop_api_with_bearer_auth(client) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for path in ("/orders", "/orders/{number}/events", "/inquiries"):
        operation = spec["paths"][path]["post"]
        assert operation["security"] == [{"bearerAuth": []}] and "401" in operation["responses"]
    assert {"/search", "/articles/{slug}", "/suggest"} <= set(spec["paths"])
