"""Service rules for orders and returns: changes until packed, the return window, idempotency."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from kb.db import commit, session, utcnow
from kb.models import OrderStatus, Return
from kb.services.orders import rules, returns as return_rules
from kb.services.errors import InvalidInput, NotFound
from tests.conftest import both_backends

TZ = "Europe/Helsinki"


def request(order, key: str = "k" * 20, **extra) -> return_rules.ReturnRequest:
    return return_rules.ReturnRequest(lines={order.lines[0].id: 1}, reason=extra.get("reason", "wrong_size"),
                                      resolution=extra.get("resolution", "refund"), comment="",
                                      idempotency_key=key)


def test_owner_sees_order_others_get_not_found(app, create_order) -> None:
    number = create_order("aino@example.com")
    with app.app_context():
        assert rules.customer_order(session(), number, email="AINO@example.com ").number == number
        with pytest.raises(NotFound):
            rules.customer_order(session(), number, email="eero@example.com")
        with pytest.raises(NotFound):
            rules.customer_order(session(), "999999", email="aino@example.com")


@both_backends
@pytest.mark.parametrize("status", ["received", "paid", "packing"])
def test_changes_allowed_before_packed(app, create_order, status: str, backend: str) -> None:
    number = create_order(status=status)
    with app.app_context():
        order = rules.customer_order(session(), number, email="aino@example.com")
        rules.change_quantity(session(), order, order.lines[0].id, 3, now=utcnow())
        rules.add_product(session(), order, "TYYNY-50", 2, now=utcnow())
        commit()
        order = rules.customer_order(session(), number, email="aino@example.com")
        assert [(l.sku, l.quantity) for l in order.lines] == [("LIINA-150", 3), ("KYNT-3", 1), ("TYYNY-50", 2)]
        assert [e.details["change"] for e in order.events if e.source == "customer"] == ["quantity", "added"]
        assert order.version == 3


@both_backends
@pytest.mark.parametrize("status", ["packed", "shipped", "delivered", "cancelled"])
def test_changes_refused_once_packed(app, create_order, status: str, backend: str) -> None:
    number = create_order(status=status)
    with app.app_context():
        order = rules.customer_order(session(), number, email="aino@example.com")
        for change in (lambda: rules.change_quantity(session(), order, order.lines[0].id, 5, now=utcnow()),
                       lambda: rules.cancel_order(session(), order, now=utcnow()),
                       lambda: rules.change_address(session(), order, {"name": "A", "street": "B 1",
                                                                       "postal_code": "00100", "city": "Helsinki"},
                                                    now=utcnow())):
            with pytest.raises(rules.OrderAlreadyPacked):
                change()
        session().rollback()
        order = rules.customer_order(session(), number, email="aino@example.com")
        assert order.lines[0].quantity == 2 and order.status.value == status


def test_cancel_and_remove_line(app, create_order) -> None:
    number = create_order(status="paid")
    with app.app_context():
        order = rules.customer_order(session(), number, email="aino@example.com")
        rules.change_quantity(session(), order, order.lines[1].id, 0, now=utcnow())
        with pytest.raises(InvalidInput):  # the last line cannot be removed
            rules.change_quantity(session(), order, order.lines[0].id, 0, now=utcnow())
        rules.cancel_order(session(), order, now=utcnow())
        commit()
        assert rules.customer_order(session(), number, email="aino@example.com").status is OrderStatus.CANCELLED


@pytest.mark.parametrize("data,field", [
    ({"name": "", "street": "Katu 1", "postal_code": "00100", "city": "Helsinki"}, "name"),
    ({"name": "A", "street": "Katu 1", "postal_code": "1234", "city": "Helsinki"}, "postal_code"),
    ({"name": "A", "street": "x" * 200, "postal_code": "00100", "city": "Helsinki"}, "street"),
])
def test_bad_address_refused(data: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        rules.validate_address(data)
    assert error.value.field == field


@pytest.mark.parametrize("days_since_delivery,allowed", [(0, True), (13, True), (14, True), (15, False)])
def test_return_window_edges(app, create_order, days_since_delivery: int, allowed: bool) -> None:
    number = create_order()
    with app.app_context():
        order = rules.customer_order(session(), number, email="aino@example.com")
        delivered = datetime(2026, 11, 2, 10, 0, tzinfo=timezone.utc)  # 12:00 in Helsinki
        order.delivered_at = delivered
        now = delivered + timedelta(days=days_since_delivery, hours=11)  # late evening, local time
        if allowed:
            return_rules.check_window(order, now=now, window_days=14, timezone=TZ)
        else:
            with pytest.raises(return_rules.ReturnWindowClosed):
                return_rules.check_window(order, now=now, window_days=14, timezone=TZ)


def test_return_window_is_configurable(app, create_order) -> None:
    number = create_order(delivered_days_ago=20)
    with app.app_context():
        order = rules.customer_order(session(), number, email="aino@example.com")
        with pytest.raises(return_rules.ReturnWindowClosed):
            return_rules.check_window(order, now=utcnow(), window_days=14, timezone=TZ)
        return_rules.check_window(order, now=utcnow(), window_days=30, timezone=TZ)


def test_undelivered_order_cannot_be_returned(app, create_order) -> None:
    number = create_order(status="shipped")
    with app.app_context():
        order = rules.customer_order(session(), number, email="aino@example.com")
        with pytest.raises(return_rules.NotDelivered):
            return_rules.register_return(session(), order, request(order), now=utcnow())


@both_backends
def test_same_return_twice_creates_one(app, create_order, backend: str) -> None:
    number = create_order()
    with app.app_context():
        order = rules.customer_order(session(), number, email="aino@example.com")
        first = return_rules.register_return(session(), order, request(order), now=utcnow())
        commit()
        again = return_rules.register_return(session(), order, request(order), now=utcnow())
        commit()
        assert again.rma == first.rma
        assert len(session().query(Return).all()) == 1


def test_quantities_are_limited_to_what_is_left(app, create_order) -> None:
    number = create_order()
    with app.app_context():
        order = rules.customer_order(session(), number, email="aino@example.com")
        line = order.lines[0]
        return_rules.register_return(session(), order, return_rules.ReturnRequest(
            lines={line.id: 2}, reason="faulty", resolution="refund", comment="", idempotency_key="a" * 20),
            now=utcnow())
        commit()
        assert return_rules.returnable_quantities(session(), order)[line.id] == 0
        with pytest.raises(InvalidInput):
            return_rules.register_return(session(), order, return_rules.ReturnRequest(
                lines={line.id: 1}, reason="faulty", resolution="refund", comment="", idempotency_key="b" * 20),
                now=utcnow())


def test_line_of_another_order_is_not_found(app, create_order) -> None:
    mine, theirs = create_order(), create_order("eero@example.com")
    with app.app_context():
        order = rules.customer_order(session(), mine, email="aino@example.com")
        other = rules.customer_order(session(), theirs, email="eero@example.com")
        with pytest.raises(NotFound):
            return_rules.register_return(session(), order, return_rules.ReturnRequest(
                lines={other.lines[0].id: 1}, reason="faulty", resolution="refund", comment="",
                idempotency_key="c" * 20), now=utcnow())


@pytest.mark.parametrize("field,value", [("reason", "because"), ("resolution", "store_credit")])
def test_return_choices_are_validated(app, create_order, field: str, value: str) -> None:
    number = create_order()
    with app.app_context():
        order = rules.customer_order(session(), number, email="aino@example.com")
        with pytest.raises(InvalidInput) as error:
            return_rules.register_return(session(), order, request(order, **{field: value}), now=utcnow())
        assert error.value.field == field


def test_late_status_events_never_move_an_order_back(app, create_order) -> None:
    number = create_order(status="packed")
    with app.app_context():
        order = rules.customer_order(session(), number, email="aino@example.com")
        rules.apply_status(session(), order, OrderStatus.PAID, at=utcnow() - timedelta(hours=2))
        commit()
        order = rules.customer_order(session(), number, email="aino@example.com")
        assert order.status is OrderStatus.PACKED and not order.is_changeable
        assert any(e.kind == "paid" for e in order.events)  # still on the timeline
        rules.apply_status(session(), order, OrderStatus.SHIPPED, at=utcnow())
        commit()
        assert rules.customer_order(session(), number, email="aino@example.com").status is OrderStatus.SHIPPED
