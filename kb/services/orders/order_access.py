"""Guests and their orders: a single-use link, mailed to the order's address, before a guest changes anything.

Finding an order by its number and e-mail address lets a guest look at it (its status). Both
can be guessed or known to someone else (a forwarded mail, a shared computer), so changing the
delivery address, the lines, cancelling or registering a return needs more: a link mailed to
the order's own address. Opening it proves the guest reads that mailbox; the page then lets
that guest change that one order. A link works once, for :data:`LINK_LIFETIME`, and only the
newest link of an order works; only the SHA-256 of its token is stored. A logged-in customer
needs no link for their own orders: their account's address is confirmed.

Plain functions over a session: they flush but never commit, and take the time as ``now``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from kb.models import Order, OrderAccessLink
from kb.services import single_use
from kb.services.errors import DomainError

#: How long a mailed link can be opened.
LINK_LIFETIME = timedelta(hours=1)
#: How long a guest may go on changing the order after opening the link.
CHANGE_WINDOW = timedelta(hours=2)


class InvalidLink(DomainError):
    """The link is unknown, used, expired, superseded, or its order has another address now."""


@dataclass(frozen=True)
class IssuedLink:
    order: Order
    token: str
    expires_at: datetime



def issue_link(session: Session, order: Order, *, now: datetime, lifetime: timedelta = LINK_LIFETIME) -> IssuedLink:
    """A new link for ``order`` (mailed to ``order.email`` by the caller); earlier unused links stop working."""
    session.execute(update(OrderAccessLink)
                    .where(OrderAccessLink.order_id == order.id, OrderAccessLink.used_at.is_(None))
                    .values(used_at=now).execution_options(synchronize_session=False))
    token, row = single_use.issue(session, OrderAccessLink, now=now, lifetime=lifetime, order_id=order.id,
                                  email=order.email)
    return IssuedLink(order, token, row.expires_at)


def _valid(session: Session, token: str, *, now: datetime) -> tuple[OrderAccessLink, Order]:
    row = single_use.unspent(session, OrderAccessLink, token, now=now)
    if row is None:
        raise InvalidLink("unknown, used or expired link")
    order = session.get(Order, row.order_id)
    if order is None or order.email != row.email:
        raise InvalidLink("the order has another address now")
    return row, order


def check_link(session: Session, token: str, *, now: datetime) -> Order:
    """The order a still-valid link opens; InvalidLink otherwise. Uses nothing up."""
    return _valid(session, token, now=now)[1]


def use_link(session: Session, token: str, *, now: datetime) -> Order:
    """Use the link up and return its order; of two concurrent uses only one succeeds (InvalidLink)."""
    row, order = _valid(session, token, now=now)
    claimed = session.execute(update(OrderAccessLink)
                              .where(OrderAccessLink.id == row.id, OrderAccessLink.used_at.is_(None))
                              .values(used_at=now).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise InvalidLink("already used")
    session.flush()
    return order
