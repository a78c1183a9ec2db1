"""Order rules: who may see an order, and what a customer may change while it is not yet packed.

Every change runs the check and the write in one statement: a conditional
``UPDATE ... WHERE status IN (changeable)`` that also bumps the version. On
PostgreSQL the row lock makes a racing "packed" event wait for (or win over)
the customer's change; on SQLite ``BEGIN IMMEDIATE`` serialises writers. Either
way a change and the packing can never both succeed against the same state.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from kb.models import CHANGEABLE, TIMELINE, Order, OrderEvent, OrderLine, OrderStatus, Product
from kb.services.errors import DomainError, InvalidInput, NotFound

MAX_QUANTITY = 99
ADDRESS_FIELDS = ("name", "street", "postal_code", "city", "country", "phone")


class OrderAlreadyPacked(DomainError):
    """The order has been packed (or shipped, cancelled...) and can no longer be changed."""


def _owned(email: str) -> object:
    return Order.email == email.strip().lower()


#: What an order number may hold once written the way the shop stores it (the import's rule).
ORDER_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def normalise_order_number(typed: str) -> str:
    """The order number as stored, from what a customer typed: "#102383" and "102 383" are "102383".

    InvalidInput (field ``number``) when nothing like an order number is left, so a typo
    is answered as a typo and not as an order that does not exist.
    """
    number = re.sub(r"\s+", "", typed or "").removeprefix("#")  # \s: also no-break and thin spaces
    if not ORDER_NUMBER.match(number):
        raise InvalidInput("not an order number", field="number")
    return number


def customer_order(session: Session, number: str, *, email: str) -> Order:
    """The order with this number if it belongs to ``email``; NotFound otherwise (same for both)."""
    order = session.scalar(select(Order).where(Order.number == number.strip(), _owned(email))
                           .options(selectinload(Order.lines), selectinload(Order.events),
                                    selectinload(Order.invoices)))
    if order is None:
        raise NotFound(number)
    return order


def customer_orders(session: Session, *, email: str, page: int, per_page: int = 10) -> tuple[list[Order], int]:
    """One page of the customer's orders, newest first, and the total count."""
    total = session.scalar(select(func.count(Order.id)).where(_owned(email))) or 0
    rows = session.scalars(select(Order).where(_owned(email)).order_by(Order.placed_at.desc(), Order.id.desc())
                           .offset((page - 1) * per_page).limit(per_page)
                           .options(selectinload(Order.lines))).all()
    return list(rows), total


def latest_order(session: Session, *, email: str) -> Order | None:
    return session.scalar(select(Order).where(_owned(email)).order_by(Order.placed_at.desc()).limit(1))


class OrderChangedMeanwhile(DomainError):
    """The order changed after the customer's page was shown (another tab, the shop)."""


def _claim_for_change(session: Session, order: Order, *, now: datetime, expected_version: int | None) -> None:
    """Bump the version if and only if the order is still changeable (and still the version the
    customer saw); else OrderAlreadyPacked / OrderChangedMeanwhile. Holds the row lock until commit,
    and reloads the lines so the rules are checked against what is really there."""
    condition = [Order.id == order.id, Order.status.in_(CHANGEABLE)]
    if expected_version is not None:
        condition.append(Order.version == expected_version)
    result = session.execute(update(Order).where(*condition).values(version=Order.version + 1, updated_at=now)
                             .execution_options(synchronize_session=False))
    session.refresh(order, ["status", "version", "updated_at", "lines", "shipping_address"])
    if result.rowcount != 1:
        if order.status not in CHANGEABLE:
            raise OrderAlreadyPacked(order.number)
        raise OrderChangedMeanwhile(order.number)


def _record(session: Session, order: Order, kind: str, *, now: datetime, source: str,
            details: dict[str, str]) -> OrderEvent:
    event = OrderEvent(kind=kind, at=now, source=source, details=details)
    order.events.append(event)
    return event


def _line(order: Order, line_id: int) -> OrderLine:
    for line in order.lines:
        if line.id == line_id:
            return line
    raise NotFound(str(line_id))


def validate_address(data: dict[str, str]) -> dict[str, str]:
    """A delivery address with the required parts; Finnish postal codes are five digits."""
    address = {k: (data.get(k) or "").strip() for k in ADDRESS_FIELDS}
    for key in ("name", "street", "postal_code", "city"):
        if not address[key]:
            raise InvalidInput("is required", field=key)
        if len(address[key]) > 120:
            raise InvalidInput("is too long", field=key)
    address["country"] = (address["country"] or "FI").upper()[:2]
    if address["country"] == "FI" and not (address["postal_code"].isdigit() and len(address["postal_code"]) == 5):
        raise InvalidInput("a Finnish postal code has five digits", field="postal_code")
    return address


def change_address(session: Session, order: Order, data: dict[str, str], *, now: datetime,
                   source: str = "customer", expected_version: int | None = None) -> OrderEvent:
    address = validate_address(data)
    _claim_for_change(session, order, now=now, expected_version=expected_version)
    order.shipping_address = address
    return _record(session, order, "changed", now=now, source=source,
                   details={"change": "address", "address": f"{address['street']}, {address['postal_code']} {address['city']}"})


def change_quantity(session: Session, order: Order, line_id: int, quantity: int, *, now: datetime,
                    source: str = "customer", expected_version: int | None = None) -> OrderEvent:
    """Set a line's quantity (0 removes the line); an order keeps at least one line."""
    if not 0 <= quantity <= MAX_QUANTITY:
        raise InvalidInput(f"must be between 0 and {MAX_QUANTITY}", field="quantity")
    _claim_for_change(session, order, now=now, expected_version=expected_version)
    line = _line(order, line_id)
    if quantity == 0 and len(order.lines) == 1:
        raise InvalidInput("an order needs at least one product; cancel the order instead", field="quantity")
    before = line.quantity
    if quantity == 0:
        order.lines.remove(line)
        return _record(session, order, "changed", now=now, source=source,
                       details={"change": "removed", "sku": line.sku, "name": line.name})
    line.quantity = quantity
    return _record(session, order, "changed", now=now, source=source,
                   details={"change": "quantity", "sku": line.sku, "name": line.name,
                            "from": str(before), "to": str(quantity)})


def add_product(session: Session, order: Order, sku: str, quantity: int, *, now: datetime,
                source: str = "customer", expected_version: int | None = None) -> OrderEvent:
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidInput(f"must be between 1 and {MAX_QUANTITY}", field="quantity")
    product = session.scalar(select(Product).where(Product.sku == sku, Product.available.is_(True)))
    if product is None:
        raise InvalidInput("no such product available", field="sku")
    _claim_for_change(session, order, now=now, expected_version=expected_version)
    existing = next((line for line in order.lines if line.sku == sku), None)
    if existing is not None:
        existing.quantity = min(MAX_QUANTITY, existing.quantity + quantity)
    else:
        order.lines.append(OrderLine(sku=product.sku, name=product.name, quantity=quantity,
                                     unit_price_cents=product.unit_price_cents, vat_rate_bp=product.vat_rate_bp,
                                     position=max((line.position for line in order.lines), default=0) + 1))
    return _record(session, order, "changed", now=now, source=source,
                   details={"change": "added", "sku": product.sku, "name": product.name, "quantity": str(quantity)})


def cancel_order(session: Session, order: Order, *, now: datetime, source: str = "customer",
                 expected_version: int | None = None) -> OrderEvent:
    _claim_for_change(session, order, now=now, expected_version=expected_version)
    order.status = OrderStatus.CANCELLED
    return _record(session, order, OrderStatus.CANCELLED.value, now=now, source=source, details={})


def apply_status(session: Session, order: Order, status: OrderStatus, *, at: datetime,
                 source: str = "shop") -> OrderEvent:
    """Record a status reported by the shop platform (packed, shipped, delivered...).

    The UPDATE takes the row lock first, so it queues behind a customer's change in flight.
    Along the happy path the status only moves forward: a late "paid" after "packed" is
    recorded on the timeline but does not reopen the order for changes.
    """
    session.execute(select(Order.id).where(Order.id == order.id).with_for_update())
    session.refresh(order, ["status"])
    if status in TIMELINE and order.status in TIMELINE and TIMELINE.index(status) < TIMELINE.index(order.status):
        return _record(session, order, status.value, now=at, source=source, details={"late": "true"})
    session.execute(update(Order).where(Order.id == order.id)
                    .values(status=status, version=Order.version + 1, updated_at=at)
                    .execution_options(synchronize_session=False))
    session.refresh(order)
    if status is OrderStatus.DELIVERED and order.delivered_at is None:
        order.delivered_at = at
    return _record(session, order, status.value, now=at, source=source, details={})


@dataclass(frozen=True)
class Step:
    status: OrderStatus
    at: datetime | None
    done: bool


def timeline(order: Order) -> list[Step]:
    """The happy-path steps, each with the time it was reached (None if the shop did not report it)."""
    reached: dict[str, datetime] = {OrderStatus.RECEIVED.value: order.placed_at}
    for event in order.events:
        reached.setdefault(event.kind, event.at)
    current = TIMELINE.index(order.status) if order.status in TIMELINE else -1
    return [Step(step, reached.get(step.value), index <= current) for index, step in enumerate(TIMELINE)]
