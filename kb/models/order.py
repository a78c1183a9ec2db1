"""Orders as the shop platform reports them, with their lines, events, invoices and products."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.db import Base, UTCDateTime, enum_column, utcnow



class OrderStatus(enum.StrEnum):
    RECEIVED = "received"
    PAID = "paid"
    PACKING = "packing"
    PACKED = "packed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    RETURNED = "returned"


#: The happy path in order; the customer timeline shows these steps.
TIMELINE = (OrderStatus.RECEIVED, OrderStatus.PAID, OrderStatus.PACKING, OrderStatus.PACKED,
            OrderStatus.SHIPPED, OrderStatus.DELIVERED)
#: Customers may change or cancel an order only while it is in one of these.
CHANGEABLE = (OrderStatus.RECEIVED, OrderStatus.PAID, OrderStatus.PACKING)


class Product(Base):
    """What can be added to an order (kept in step with the shop's catalogue)."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    unit_price_cents: Mapped[int]
    #: VAT in basis points: 2550 = 25.5 %.
    vat_rate_bp: Mapped[int] = mapped_column(default=2550)
    available: Mapped[bool] = mapped_column(default=True)


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    #: Lower-cased e-mail: the customer who owns the order.
    email: Mapped[str] = mapped_column(String(254), index=True)
    status: Mapped[OrderStatus] = mapped_column(enum_column(OrderStatus))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: {"name", "street", "postal_code", "city", "country", "phone"}
    shipping_address: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    shipping_cents: Mapped[int] = mapped_column(default=0)
    carrier: Mapped[str] = mapped_column(String(40), default="")
    tracking_code: Mapped[str] = mapped_column(String(80), default="")
    expected_delivery: Mapped[date | None] = mapped_column(Date)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Bumped by every change; a change made against an old version is refused.
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lines: Mapped[list[OrderLine]] = relationship(back_populates="order", cascade="all, delete-orphan",
                                                  order_by="OrderLine.position")
    events: Mapped[list[OrderEvent]] = relationship(back_populates="order", cascade="all, delete-orphan",
                                                    order_by="OrderEvent.at")
    invoices: Mapped[list[Invoice]] = relationship(back_populates="order", cascade="all, delete-orphan")

    @property
    def is_changeable(self) -> bool:
        return self.status in CHANGEABLE

    @property
    def total_cents(self) -> int:
        return sum(line.total_cents for line in self.lines) + self.shipping_cents


class OrderLine(Base):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=1)
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int]
    #: Price per unit including VAT, in cents.
    unit_price_cents: Mapped[int]
    vat_rate_bp: Mapped[int] = mapped_column(default=2550)

    order: Mapped[Order] = relationship(back_populates="lines")

    @property
    def total_cents(self) -> int:
        return self.quantity * self.unit_price_cents


class OrderEvent(Base):
    """A status change or a customer's change to the order, shown on its timeline."""

    __tablename__ = "order_events"
    __table_args__ = (Index("ix_order_events_order_at", "order_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    #: An OrderStatus value for status changes, or "changed" / "note".
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Who caused it: "shop", "customer", "agent".
    source: Mapped[str] = mapped_column(String(16), default="shop")
    #: What changed, for the customer's confirmation and the agent's view.
    details: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)

    order: Mapped[Order] = relationship(back_populates="events")


class Invoice(Base):
    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[date | None] = mapped_column(Date)
    #: Snapshot of the billed lines: [{"sku", "name", "quantity", "unit_price_cents", "vat_rate_bp"}].
    lines: Mapped[list[dict]] = mapped_column(JSON, default=list)
    shipping_cents: Mapped[int] = mapped_column(default=0)

    order: Mapped[Order] = relationship(back_populates="invoices")


class ReturnStatus(enum.StrEnum):
    REGISTERED = "registered"
    RECEIVED = "received"
    REFUNDED = "refunded"
    EXCHANGED = "exchanged"
    REJECTED = "rejected"


class Return(Base):
    __tablename__ = "returns"

    id: Mapped[int] = mapped_column(primary_key=True)
    rma: Mapped[str] = mapped_column(String(20), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    #: One per rendered form: a double click or retry finds the first registration.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[ReturnStatus] = mapped_column(enum_column(ReturnStatus), default=ReturnStatus.REGISTERED)
    #: "refund" or "exchange".
    resolution: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(String(30))
    comment: Mapped[str] = mapped_column(String(1000), default="")
    #: For an exchange: what the customer wants instead (size, colour, another product).
    exchange_for: Mapped[str] = mapped_column(String(200), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[Order] = relationship()
    lines: Mapped[list[ReturnLine]] = relationship(back_populates="return_", cascade="all, delete-orphan")


class ReturnLine(Base):
    __tablename__ = "return_lines"
    __table_args__ = (UniqueConstraint("return_id", "order_line_id", name="uq_return_lines_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"))
    quantity: Mapped[int]

    return_: Mapped[Return] = relationship(back_populates="lines")
    order_line: Mapped[OrderLine] = relationship()
