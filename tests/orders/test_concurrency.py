"""Races that real shops have: customers changing orders while the packer packs them,
double-submitted returns, many writers on SQLite."""
from __future__ import annotations

import random
import threading

from sqlalchemy import func, select

from kb.db import commit, session, utcnow
from kb.models import Order, OrderLine, OrderStatus, Return
from kb.services.orders import rules, returns as return_rules
from tests.conftest import both_backends, sqlite_only


def run_threads(targets: list) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(targets))

    def wrap(target):
        def run():
            barrier.wait()
            try:
                target()
            except BaseException as error:  # noqa: BLE001 - collected for the assertion
                errors.append(error)
        return run

    threads = [threading.Thread(target=wrap(t)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return errors


@both_backends
def test_customers_racing_the_packer_never_change_a_packed_order(app, create_order, backend: str) -> None:
    numbers = [create_order(status="packing") for _ in range(12)]
    packed: dict[str, list[tuple[str, int]]] = {}
    refused = []

    def customer(number: str) -> None:
        with app.app_context():
            for _ in range(3):
                order = rules.customer_order(session(), number, email="aino@example.com")
                try:
                    rules.change_quantity(session(), order, order.lines[0].id, random.randint(1, 9), now=utcnow())
                    commit()
                except rules.OrderAlreadyPacked:
                    session().rollback()
                    refused.append(number)

    def packer() -> None:
        with app.app_context():
            for number in numbers:
                order = session().scalar(select(Order).where(Order.number == number))
                rules.apply_status(session(), order, OrderStatus.PACKED, at=utcnow())
                # what goes into the box: the lines as they are once the row lock is ours
                packed[number] = sorted(session().execute(
                    select(OrderLine.sku, OrderLine.quantity).where(OrderLine.order_id == order.id)).all())
                commit()

    errors = run_threads([packer] + [lambda n=n: customer(n) for n in numbers])
    assert errors == []
    with app.app_context():
        for number in numbers:
            order = session().scalar(select(Order).where(Order.number == number))
            assert order.status is OrderStatus.PACKED
            now_lines = sorted((line.sku, line.quantity) for line in order.lines)
            assert now_lines == packed[number], f"order {number} changed after packing"


@both_backends
def test_sixteen_concurrent_registrations_of_one_return_make_one(app, create_order, backend: str) -> None:
    number = create_order()
    results: list[str] = []

    def register() -> None:
        with app.app_context():
            order = rules.customer_order(session(), number, email="aino@example.com")
            ret = return_rules.register_return(session(), order, return_rules.ReturnRequest(
                lines={order.lines[0].id: 1}, reason="wrong_size", resolution="refund", comment="",
                idempotency_key="same-form-key-123456"), now=utcnow())
            commit()
            results.append(ret.rma)

    errors = run_threads([register] * 16)
    assert errors == []
    with app.app_context():
        assert session().scalar(select(func.count(Return.id))) == 1
    assert len(set(results)) == 1 and len(results) == 16


@sqlite_only
def test_sixteen_writers_on_sqlite_never_hit_database_is_locked(app, create_order) -> None:
    number = create_order(status="paid")

    def writer() -> None:
        with app.app_context():
            for _ in range(5):
                order = rules.customer_order(session(), number, email="aino@example.com")
                rules.change_quantity(session(), order, order.lines[0].id, random.randint(1, 9), now=utcnow())
                commit()

    assert run_threads([writer] * 16) == []
    with app.app_context():
        order = session().scalar(select(Order).where(Order.number == number))
        assert order.version == 1 + 16 * 5


@both_backends
def test_two_tabs_returning_the_last_unit_make_one_return(app, create_order, backend: str) -> None:
    number = create_order()
    outcomes: list[str] = []

    def register(key: str) -> None:
        with app.app_context():
            order = rules.customer_order(session(), number, email="aino@example.com")
            line = order.lines[1]  # one unit ordered
            try:
                return_rules.register_return(session(), order, return_rules.ReturnRequest(
                    lines={line.id: 1}, reason="faulty", resolution="refund", comment="", idempotency_key=key),
                    now=utcnow())
                commit()
                outcomes.append("registered")
            except Exception as error:  # noqa: BLE001 - the refusal is the expected outcome for one tab
                session().rollback()
                outcomes.append(type(error).__name__)

    assert run_threads([lambda: register("tab-one-key-1234567"), lambda: register("tab-two-key-1234567")]) == []
    assert sorted(outcomes) == ["InvalidInput", "registered"]


@both_backends
def test_two_tabs_removing_different_lines_keep_one(app, create_order, backend: str) -> None:
    number = create_order(status="paid")
    with app.app_context():
        order = rules.customer_order(session(), number, email="aino@example.com")
        line_ids, version = [line.id for line in order.lines], order.version

    def remove(line_id: int) -> None:
        with app.app_context():
            order = rules.customer_order(session(), number, email="aino@example.com")
            try:
                rules.change_quantity(session(), order, line_id, 0, now=utcnow(), expected_version=version)
                commit()
            except (rules.OrderChangedMeanwhile, rules.OrderAlreadyPacked):
                session().rollback()

    assert run_threads([lambda i=i: remove(i) for i in line_ids]) == []
    with app.app_context():
        order = session().scalar(select(Order).where(Order.number == number))
        assert len(order.lines) == 1
