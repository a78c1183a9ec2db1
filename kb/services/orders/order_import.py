"""Orders from the shop platform: the import format of DESIGN.md, parsed and upserted.

The same parser serves ``neuvo import orders`` (a whole file, all or nothing)
and ``POST /api/v1/orders`` (one order). Orders are the shop's truth: an
upsert replaces the lines and the shop's events, but keeps what customers and
agents did in Neuvo (their ``OrderEvent`` rows) and keeps line ids that
registered returns point at whenever the SKU is still on the order.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kb.models import Invoice, Order, OrderEvent, OrderLine, OrderStatus, Product
from kb.services.batches import batched
from kb.services.errors import InvalidInput
from kb.services.importing import Row, check_fields, check_unique, choice, load, text, timestamp
from kb.services.orders.rules import ADDRESS_FIELDS
from kb.services.accounts.users import EMAIL_RE

STATUSES = tuple(s.value for s in OrderStatus)
ORDER_FIELDS = {"number", "email", "status", "placed_at", "lines", "currency", "shipping_address", "carrier",
                "tracking_code", "expected_delivery", "shipping", "events", "invoice"}
ORDER_REQUIRED = ("number", "email", "status", "placed_at")
LINE_FIELDS = {"sku", "name", "quantity", "unit_price", "vat_rate"}
EVENT_FIELDS = {"status", "at"}
INVOICE_FIELDS = {"number", "issued_at", "due_date"}
DEFAULT_VAT_BP = 2550
MAX_QUANTITY = 10_000
MAX_CENTS = 100_000_000  # one million euros: a typo, not an order
MAX_LINES = 500
MAX_EVENTS = 200
PAYMENT_DAYS = 14
NUMBER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
#: Statuses reached only after payment: such an order gets an invoice if the shop sent none.
BILLED = (OrderStatus.PAID, OrderStatus.PACKING, OrderStatus.PACKED, OrderStatus.SHIPPED,
          OrderStatus.DELIVERED, OrderStatus.RETURNED)


@dataclass(frozen=True)
class LineInput:
    sku: str
    name: str
    quantity: int
    unit_price_cents: int
    vat_rate_bp: int = DEFAULT_VAT_BP


@dataclass(frozen=True)
class EventInput:
    status: OrderStatus
    at: datetime


@dataclass(frozen=True)
class InvoiceInput:
    number: str
    issued_at: datetime
    due_date: date | None = None


@dataclass
class OrderInput:
    """One order of the import format in DESIGN.md, validated."""

    number: str
    email: str
    status: OrderStatus
    placed_at: datetime
    lines: list[LineInput]
    currency: str = "EUR"
    shipping_address: dict[str, str] = field(default_factory=dict)
    carrier: str = ""
    tracking_code: str = ""
    expected_delivery: date | None = None
    shipping_cents: int = 0
    events: list[EventInput] = field(default_factory=list)
    invoice: InvoiceInput | None = None


# ---------- parsing

def euros_to_cents(value: Any, name: str) -> int:
    """A price in euros (24.90, "24,90", "24.90", 24) as whole cents."""
    if isinstance(value, bool) or not isinstance(value, int | float | str) or value == "":
        raise InvalidInput("must be a price in euros, e.g. 24.90", field=name)
    try:
        amount = Decimal(str(value).strip().replace(",", ".").replace(" ", ""))
    except InvalidOperation:
        raise InvalidInput(f"not a price in euros: {value!r}", field=name) from None
    if not amount.is_finite() or amount < 0:
        raise InvalidInput("must be zero or more euros", field=name)
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise InvalidInput("has more than two decimals", field=name)
    if cents > MAX_CENTS:
        raise InvalidInput("is too large", field=name)
    return int(cents)


def _vat_bp(value: Any, name: str) -> int:
    """A VAT percentage (25.5, "14", "25,5") as basis points."""
    if value is None or value == "":
        return DEFAULT_VAT_BP
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidInput("must be a percentage, e.g. 25.5", field=name)
    try:
        rate = Decimal(str(value).strip().rstrip("%").replace(",", "."))
    except InvalidOperation:
        raise InvalidInput(f"not a percentage: {value!r}", field=name) from None
    if not rate.is_finite() or not 0 <= rate < 100 or rate * 100 != (rate * 100).to_integral_value():
        raise InvalidInput("must be a percentage from 0 to 99.99", field=name)
    return int(rate * 100)


def _quantity(value: Any, name: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_QUANTITY:
        raise InvalidInput(f"must be a whole number from 1 to {MAX_QUANTITY}", field=name)
    return value


def _date(row: Row, name: str) -> date | None:
    value = text(row, name)
    if not value:
        return None
    try:
        # a date-time is accepted too; its date part is what counts
        return date.fromisoformat(value[:10] if value[10:11] == "T" else value)
    except ValueError:
        raise InvalidInput(f"not an ISO 8601 date: {value!r}", field=name) from None


def _objects(row: Row, name: str, limit: int) -> list[Row]:
    value = row.get(name)
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise InvalidInput("must be a list", field=name)
    if len(value) > limit:
        raise InvalidInput(f"more than {limit} items", field=name)
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise InvalidInput("must be an object", field=f"{name}[{index}]")
    return value


def _nested(prefix: str, parse: Any, row: Row) -> Any:
    """Run ``parse(row)``, naming fields as ``prefix.field`` in errors."""
    try:
        return parse(row)
    except InvalidInput as error:
        raise InvalidInput(error.message, field=f"{prefix}.{error.field}" if error.field else prefix) from None


def _parse_line(row: Row) -> LineInput:
    check_fields(row, LINE_FIELDS, ("sku", "name"))
    if "quantity" not in row:
        raise InvalidInput("is required", field="quantity")
    if "unit_price" not in row:
        raise InvalidInput("is required", field="unit_price")
    return LineInput(sku=text(row, "sku", max_length=64), name=text(row, "name", max_length=200),
                     quantity=_quantity(row["quantity"], "quantity"),
                     unit_price_cents=euros_to_cents(row["unit_price"], "unit_price"),
                     vat_rate_bp=_vat_bp(row.get("vat_rate"), "vat_rate"))


def _parse_event(row: Row) -> EventInput:
    check_fields(row, EVENT_FIELDS, ("status", "at"))
    return EventInput(status=OrderStatus(choice(row, "status", STATUSES)), at=timestamp(row, "at"))


def _parse_invoice(row: Row) -> InvoiceInput:
    check_fields(row, INVOICE_FIELDS, ("number", "issued_at"))
    number = text(row, "number", max_length=40)
    if not NUMBER_RE.match(number):
        raise InvalidInput("use letters, digits, '.', '_' and '-'", field="number")
    return InvoiceInput(number=number, issued_at=timestamp(row, "issued_at"), due_date=_date(row, "due_date"))


def _parse_address(value: Any) -> dict[str, str]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise InvalidInput("must be an object", field="shipping_address")
    def parse(row: Row) -> dict[str, str]:
        check_fields(row, set(ADDRESS_FIELDS), ())
        address = {key: text(row, key, max_length=120) for key in ADDRESS_FIELDS}
        address["country"] = (address["country"] or "FI").upper()
        return address

    return _nested("shipping_address", parse, value)


def parse_event(row: Row) -> EventInput:
    """One order event (``{"status", "at"}``), as the API receives it."""
    return _parse_event(row)


def parse_order(row: Row) -> OrderInput:
    """One order row of the import format in DESIGN.md."""
    check_fields(row, ORDER_FIELDS, ORDER_REQUIRED)
    number = text(row, "number", max_length=64)
    if not NUMBER_RE.match(number):
        raise InvalidInput("use letters, digits, '.', '_' and '-'", field="number")
    email = text(row, "email", max_length=254).lower()
    if not EMAIL_RE.match(email):
        raise InvalidInput("not a valid e-mail address", field="email")
    currency = text(row, "currency").upper() or "EUR"
    if currency != "EUR":
        raise InvalidInput("only EUR is supported", field="currency")
    if "lines" not in row:
        raise InvalidInput("is required", field="lines")
    lines = [_nested(f"lines[{i}]", _parse_line, item) for i, item in enumerate(_objects(row, "lines", MAX_LINES))]
    if not lines:
        raise InvalidInput("an order needs at least one line", field="lines")
    events = [_nested(f"events[{i}]", _parse_event, item)
              for i, item in enumerate(_objects(row, "events", MAX_EVENTS))]
    invoice = row.get("invoice")
    if invoice not in (None, "") and not isinstance(invoice, dict):
        raise InvalidInput("must be an object", field="invoice")
    shipping = row.get("shipping")
    return OrderInput(
        number=number, email=email, status=OrderStatus(choice(row, "status", STATUSES)),
        placed_at=timestamp(row, "placed_at"), lines=lines, currency=currency,
        shipping_address=_parse_address(row.get("shipping_address")),
        carrier=text(row, "carrier", max_length=40), tracking_code=text(row, "tracking_code", max_length=80),
        expected_delivery=_date(row, "expected_delivery"),
        shipping_cents=0 if shipping in (None, "") else euros_to_cents(shipping, "shipping"),
        events=sorted(events, key=lambda e: e.at),
        invoice=_nested("invoice", _parse_invoice, invoice) if invoice else None,
    )


def load_orders(path: str | Path) -> list[OrderInput]:
    """Every order of a .jsonl file, validated; the first problem names file, line and field."""
    if Path(path).suffix.lower() not in (".jsonl", ".ndjson"):
        raise InvalidInput("orders are imported from .jsonl files (one JSON object per line)", source=str(path))
    items = load(path, parse_order)
    check_unique(items, lambda o: o.number, "number", str(path))
    invoices = [o.invoice for o in items if o.invoice]
    check_unique(invoices, lambda i: i.number, "invoice.number", str(path))
    return items


# ---------- writing

def _sync_lines(order: Order, lines: list[LineInput]) -> None:
    """Make the order's lines equal ``lines``, reusing rows (and ids) with the same SKU."""
    unused = list(order.lines)
    for position, item in enumerate(lines, 1):
        row = next((line for line in unused if line.sku == item.sku), None)
        if row is None:
            row = OrderLine(sku=item.sku)
            order.lines.append(row)
        else:
            unused.remove(row)
        row.position, row.name, row.quantity = position, item.name, item.quantity
        row.unit_price_cents, row.vat_rate_bp = item.unit_price_cents, item.vat_rate_bp
    for line in unused:
        order.lines.remove(line)


def _sync_events(order: Order, events: list[EventInput]) -> None:
    """Replace the shop's events; customers' and agents' events stay."""
    for event in [e for e in order.events if e.source == "shop"]:
        order.events.remove(event)
    for item in events:
        order.events.append(OrderEvent(kind=item.status.value, at=item.at, source="shop", details={}))


def invoice_snapshot(order: Order) -> list[dict[str, Any]]:
    return [{"sku": line.sku, "name": line.name, "quantity": line.quantity,
             "unit_price_cents": line.unit_price_cents, "vat_rate_bp": line.vat_rate_bp} for line in order.lines]


def _sync_invoice(session: Session, order: Order, item: OrderInput) -> None:
    """The shop's invoice, or one issued here for an order that has been paid."""
    if item.invoice is not None:
        invoice = session.scalar(select(Invoice).where(Invoice.number == item.invoice.number))
        if invoice is not None and invoice.order_id != order.id:
            raise InvalidInput("belongs to another order", field="invoice.number")
        if invoice is None:
            # the shop's own invoice replaces one issued here automatically
            invoice = next((i for i in order.invoices if i.number == f"L{order.number}"[:40]), None)
        if invoice is None:
            invoice = Invoice()
            order.invoices.append(invoice)
        invoice.number, invoice.issued_at = item.invoice.number, item.invoice.issued_at
        invoice.due_at = item.invoice.due_date or (item.invoice.issued_at + timedelta(days=PAYMENT_DAYS)).date()
    elif order.invoices:
        invoice = order.invoices[0]
    elif item.status in BILLED:
        paid = next((e.at for e in item.events if e.status is OrderStatus.PAID), item.placed_at)
        number = f"L{item.number}"[:40]
        if session.scalar(select(Invoice.id).where(Invoice.number == number)) is not None:
            raise InvalidInput(f"invoice number {number} is taken; send the invoice explicitly", field="invoice")
        invoice = Invoice(number=number, issued_at=paid, due_at=(paid + timedelta(days=PAYMENT_DAYS)).date())
        order.invoices.append(invoice)
    else:
        return
    invoice.lines, invoice.shipping_cents = invoice_snapshot(order), order.shipping_cents


def _sync_products(session: Session, items: list[OrderInput]) -> None:
    """Keep a product for every SKU sold, at its latest price, so customers can add it to orders."""
    latest: dict[str, LineInput] = {}
    for item in sorted(items, key=lambda o: o.placed_at):
        for line in item.lines:
            latest[line.sku] = line
    if not latest:
        return
    products = {p.sku: p for skus in batched(latest)
                for p in session.scalars(select(Product).where(Product.sku.in_(skus)))}
    for sku, line in latest.items():
        product = products.get(sku)
        if product is None:
            product = Product(sku=sku, available=True)
            session.add(product)
        product.name, product.unit_price_cents, product.vat_rate_bp = line.name, line.unit_price_cents, line.vat_rate_bp


def upsert_orders(session: Session, items: list[OrderInput], *, now: datetime) -> tuple[list[Order], int]:
    """Create or update orders by number; returns (orders, number created).

    Existing rows are read ``FOR UPDATE`` so an import queues behind a customer's change in flight.
    """
    existing = {o.number: o for numbers in batched(i.number for i in items) for o in session.scalars(
        select(Order).where(Order.number.in_(numbers)).with_for_update()
        .options(selectinload(Order.lines), selectinload(Order.events), selectinload(Order.invoices)))}
    orders, created = [], 0
    for item in items:
        order = existing.get(item.number)
        if order is None:
            order = Order(number=item.number, version=1, created_at=now)
            session.add(order)
            existing[item.number] = order
            created += 1
        else:
            order.version += 1
        order.email, order.status, order.placed_at, order.currency = item.email, item.status, item.placed_at, \
            item.currency
        order.shipping_address, order.carrier, order.tracking_code = item.shipping_address, item.carrier, \
            item.tracking_code
        order.expected_delivery, order.shipping_cents, order.updated_at = item.expected_delivery, \
            item.shipping_cents, now
        _sync_lines(order, item.lines)
        _sync_events(order, item.events)
        delivered = next((e.at for e in item.events if e.status is OrderStatus.DELIVERED), None)
        if delivered is not None or item.status not in (OrderStatus.DELIVERED, OrderStatus.RETURNED):
            order.delivered_at = delivered
        session.flush()
        _sync_invoice(session, order, item)
        orders.append(order)
    _sync_products(session, items)
    session.flush()
    return orders, created
