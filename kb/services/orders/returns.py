"""Return registration: the right of withdrawal window, quantities, and one return per form.

A double click or a retried request carries the same idempotency key (one per
rendered form); the UNIQUE constraint on that key is the last guard, so racing
requests end with one return and the others see it as already registered.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from kb.models import Order, OrderEvent, OrderStatus, Return, ReturnLine
from kb.services.errors import DomainError, InvalidInput, NotFound

REASONS = ("changed_mind", "wrong_size", "not_as_described", "damaged", "faulty", "wrong_item", "other")
RESOLUTIONS = ("refund", "exchange")
DEFAULT_WINDOW_DAYS = 14
#: A fault is not a return under the right of withdrawal but a complaint (reklamaatio): the seller's
#: liability for defects has no 14-day window, and the shop decides on repair, replacement or refund.
COMPLAINT_REASONS = ("faulty",)
EXCHANGE_FOR_MAX = 200


class ReturnWindowClosed(DomainError):
    """The return period counted from delivery has ended."""


class NotDelivered(DomainError):
    """Only delivered orders can be returned."""


class IsComplaint(DomainError):
    """A faulty product is reported as a complaint, not registered by the customer as a return."""


@dataclass(frozen=True)
class ReturnRequest:
    lines: dict[int, int]  # order line id -> quantity
    reason: str
    resolution: str
    comment: str
    idempotency_key: str
    #: For an exchange: what the customer wants instead.
    exchange_for: str = ""


def last_return_day(order: Order, *, window_days: int, timezone: str) -> date | None:
    """The last day (shop time) on which the customer may still register a return."""
    if order.delivered_at is None:
        return None
    delivered = order.delivered_at.astimezone(ZoneInfo(timezone)).date()
    return delivered + timedelta(days=window_days)


def returnable_quantities(session: Session, order: Order) -> dict[int, int]:
    """Line id -> how many units can still be returned (already registered returns deducted)."""
    returned = dict(session.execute(
        select(ReturnLine.order_line_id, func.sum(ReturnLine.quantity))
        .join(Return, Return.id == ReturnLine.return_id)
        .where(Return.order_id == order.id).group_by(ReturnLine.order_line_id)
    ).all())
    return {line.id: line.quantity - int(returned.get(line.id, 0)) for line in order.lines}


def check_window(order: Order, *, now: datetime, window_days: int, timezone: str) -> None:
    """NotDelivered or ReturnWindowClosed when the order cannot be returned at ``now``."""
    if order.status not in (OrderStatus.DELIVERED, OrderStatus.RETURNED) or order.delivered_at is None:
        raise NotDelivered(order.number)
    last = last_return_day(order, window_days=window_days, timezone=timezone)
    if last is not None and now.astimezone(ZoneInfo(timezone)).date() > last:
        raise ReturnWindowClosed(order.number)


def check_self_service_reason(reason: str) -> None:
    """IsComplaint for a reason that customers report as a complaint rather than a return.

    Only the customer's return form asks this: a return that customer service registers
    after agreeing on a complaint may still give the fault as its reason.
    """
    if reason in COMPLAINT_REASONS:
        raise IsComplaint(reason)


def _new_rma() -> str:
    return "RMA-" + "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(8))


def find_by_key(session: Session, key: str) -> Return | None:
    return session.scalar(select(Return).where(Return.idempotency_key == key))


def register_return(session: Session, order: Order, request: ReturnRequest, *, now: datetime,
                    window_days: int = DEFAULT_WINDOW_DAYS, timezone: str = "Europe/Helsinki",
                    on_registered: Callable[[Return], None] | None = None) -> Return:
    """Register a return; the same idempotency key returns the return made the first time.

    ``on_registered`` runs once, in the transaction, for a return registered now (not for a
    repeated request), so the confirmation mail is queued exactly once.
    """
    earlier = find_by_key(session, request.idempotency_key)
    if earlier is not None:
        if earlier.order_id != order.id:
            raise NotFound(request.idempotency_key)
        return earlier
    if request.reason not in REASONS:
        raise InvalidInput("choose a reason from the list", field="reason")
    if request.resolution not in RESOLUTIONS:
        raise InvalidInput("choose refund or exchange", field="resolution")
    exchange_for = request.exchange_for.strip() if request.resolution == "exchange" else ""
    if request.resolution == "exchange" and not exchange_for:
        raise InvalidInput("say what you would like instead", field="exchange_for")
    if len(exchange_for) > EXCHANGE_FOR_MAX:
        raise InvalidInput("is too long (200 characters at most)", field="exchange_for")
    if len(request.comment) > 1000:
        raise InvalidInput("is too long (1000 characters at most)", field="comment")
    if not 16 <= len(request.idempotency_key) <= 64:
        raise InvalidInput("the form is invalid; reload the page", field="idempotency_key")
    check_window(order, now=now, window_days=window_days, timezone=timezone)
    # the order's row lock serialises returns of the same order (two tabs, two devices): the
    # quantities left are counted after any other registration has committed
    session.execute(select(Order.id).where(Order.id == order.id).with_for_update())
    available = returnable_quantities(session, order)
    chosen = {line_id: qty for line_id, qty in request.lines.items() if qty}
    if not chosen:
        raise InvalidInput("choose at least one product to return", field="lines")
    for line_id, quantity in chosen.items():
        if line_id not in available:
            raise NotFound(str(line_id))
        if not 0 < quantity <= available[line_id]:
            raise InvalidInput(f"you can return at most {available[line_id]}", field=f"qty-{line_id}")
    registered = Return(rma=_new_rma(), order_id=order.id, idempotency_key=request.idempotency_key,
                        resolution=request.resolution, reason=request.reason, comment=request.comment.strip(),
                        exchange_for=exchange_for, created_at=now, updated_at=now,
                        lines=[ReturnLine(order_line_id=i, quantity=q) for i, q in sorted(chosen.items())])
    try:
        with session.begin_nested():
            session.add(registered)
    except IntegrityError:
        earlier = find_by_key(session, request.idempotency_key)
        if earlier is None:
            raise
        return earlier
    order.events.append(OrderEvent(kind="return", at=now, source="customer", details={"rma": registered.rma}))
    if on_registered is not None:
        on_registered(registered)
    return registered


def customer_return(session: Session, rma: str, *, email: str) -> Return:
    found = session.scalar(select(Return).join(Order).where(Return.rma == rma, Order.email == email.strip().lower())
                           .options(selectinload(Return.lines).selectinload(ReturnLine.order_line),
                                    selectinload(Return.order)))
    if found is None:
        raise NotFound(rma)
    return found


def customer_returns(session: Session, *, email: str) -> list[Return]:
    return list(session.scalars(select(Return).join(Order).where(Order.email == email.strip().lower())
                                .order_by(Return.created_at.desc()).options(selectinload(Return.order))))
