"""The built-in demo shop "Tupa": categories, articles in fi/sv/en, channels and hours,
products, customers with their orders, and demo accounts for every role.

Content lives in ``kb/demo/`` as plain files (Markdown with a small front
matter, JSON), written for the demo; see ``kb/demo/README.md``.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kb.db import Base
from kb.models import Article, Category, Channel, ChannelKind, Order, Product, Role, SpecialDay, Ticket
from kb.services.helpcenter.articles import ArticleInput, upsert_articles
from kb.services.errors import InvalidInput
from kb.services.shop.demo_history import answer_history
from kb.services.importing import parse_article, read_rows
from kb.services.orders.order_import import OrderInput, parse_order, upsert_orders
from kb.services.inquiries.tickets import InquiryInput, parse_inquiry, upsert_inquiries
from kb.services.shop.channels import get_setting, set_setting
from kb.services.accounts.users import create_user

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"


def parse_front_matter(path: Path) -> dict[str, str]:
    """Split ``---``-fenced ``key: value`` lines from the Markdown body."""
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        raise InvalidInput("missing front matter", source=str(path))
    head, sep, body = text[4:].partition("\n---\n")
    if not sep:
        raise InvalidInput("front matter is not closed with ---", source=str(path))
    meta: dict[str, str] = {}
    for number, line in enumerate(head.splitlines(), 2):
        if not line.strip():
            continue
        key, colon, value = line.partition(":")
        if not colon:
            raise InvalidInput(f"expected 'key: value', got {line!r}", source=str(path), line=number)
        meta[key.strip()] = value.strip()
    meta["body"] = body.strip() + "\n"
    return meta


def demo_articles(directory: Path = DEMO_DIR) -> list[ArticleInput]:
    """Every demo article, originals before translations."""
    items = []
    for language in ("fi", "sv", "en"):
        for path in sorted((directory / "articles" / language).glob("*.md")):
            meta = parse_front_matter(path)
            row = {"slug": path.stem, "language": language, **meta}
            try:
                items.append(parse_article(row))
            except InvalidInput as error:
                raise InvalidInput(error.message, field=error.field, source=str(path)) from None
    return items


def is_loaded(session: Session) -> bool:
    return session.scalar(select(Article.id).limit(1)) is not None


def clear_all(session: Session) -> None:
    """Delete every row of every table (children first); the schema stays."""
    for table in reversed(Base.metadata.sorted_tables):
        session.execute(delete(table))
    session.flush()


def load_shop(session: Session, directory: Path = DEMO_DIR) -> None:
    """Categories, contact channels, opening hours, special days and shop settings."""
    for row in json.loads((directory / "categories.json").read_text(encoding="utf-8")):
        session.add(Category(slug=row["slug"], position=row.get("position", 100), icon=row.get("icon", ""),
                             names=row["names"], descriptions=row.get("descriptions", {})))
    shop = json.loads((directory / "shop.json").read_text(encoding="utf-8"))
    set_setting(session, "shop_name", shop["name"])
    set_setting(session, "legal_name", shop.get("legal_name", shop["name"]))
    set_setting(session, "return_window_days", str(shop.get("return_window_days", 14)))
    for key, value in shop.get("settings", {}).items():
        set_setting(session, key, str(value))
    for position, row in enumerate(shop["channels"], 1):
        session.add(Channel(kind=ChannelKind(row["kind"]), position=position, labels=row["label"],
                            address=row.get("address", ""), response_times=row.get("response_time", {}),
                            hours=row.get("hours", {})))
    for row in shop.get("special_days", []):
        hours = [] if row.get("closed") else row.get("hours", [])
        session.add(SpecialDay(day=date.fromisoformat(row["date"]), hours=hours, notes=row.get("note", {})))
    session.flush()


DEMO_MARKER = "demo_loaded_at"


def load_demo(session: Session, *, now: datetime, reset: bool = False) -> dict[str, int] | None:
    """Load the demo shop; returns counts, or None if it is already loaded.

    Refuses to mix the demo into a database holding other content unless ``reset``.
    """
    if is_loaded(session) and not reset:
        if get_setting(session, DEMO_MARKER):
            return None
        raise InvalidInput("the database already has articles; use --reset to replace them with the demo")
    if reset:
        clear_all(session)
    load_shop(session)
    set_setting(session, DEMO_MARKER, now.isoformat())
    articles = demo_articles()
    created, _ = upsert_articles(session, articles, now=now)
    tickets = load_inquiries(session, now=now)
    load_macros(session)
    orders = load_orders(session, now=now)
    accounts = load_accounts(session, now=now)
    answer_history(session, now=now)
    return {"articles": created, "categories": len(session.scalars(select(Category.id)).all()),
            "inquiries": len(tickets), "orders": len(orders),
            "customers": len({o.email for o in orders}), "accounts": len(accounts)}


def demo_inquiries(now: datetime, directory: Path = DEMO_DIR) -> list[InquiryInput]:
    """Three weeks of inquiries, dated relative to ``now`` so the demo always looks current."""
    path = directory / "inquiries.jsonl"
    if not path.exists():
        return []
    items = []
    for number, row in read_rows(path):
        days_ago = float(row.pop("days_ago"))
        row["created_at"] = (now - timedelta(days=days_ago)).isoformat()
        try:
            items.append(parse_inquiry(row))
        except InvalidInput as error:
            raise InvalidInput(error.message, field=error.field, source=str(path), line=number) from None
    return items


def load_inquiries(session: Session, *, now: datetime) -> list[Ticket]:
    """Store the demo inquiries; their suggestions are attached once the models are fitted."""
    tickets, _ = upsert_inquiries(session, demo_inquiries(now), now=now)
    return tickets


def load_macros(session: Session, directory: Path = DEMO_DIR) -> int:
    """Canned replies for agents in fi/sv/en (``macros.json``); returns how many were added."""
    from kb.models import Macro

    path = directory / "macros.json"
    rows = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
    session.add_all(Macro(title=row["title"], language=row["language"], body=row["body"]) for row in rows)
    session.flush()
    return len(rows)


DEMO_CUSTOMER_PASSWORD = "demo-asiakas-2026"  # nosec B105 # the demo's published log-ins (README)
DEMO_STAFF_PASSWORD = "demo-tupa-2026"  # nosec B105 # the demo's published log-ins (README)
#: (e-mail, role, name, language); every customer here has orders in ``orders.jsonl``.
DEMO_ACCOUNTS = (
    ("aino.virtanen@example.com", Role.CUSTOMER, "Aino Virtanen", "fi"),
    ("mikko.korhonen@example.com", Role.CUSTOMER, "Mikko Korhonen", "fi"),
    ("elina.lehtinen35@example.com", Role.CUSTOMER, "Elina Lehtinen", "fi"),
    ("agent@tupa.example", Role.AGENT, "Tupa asiakaspalvelu", "fi"),
    ("editor@tupa.example", Role.EDITOR, "Tupa sisällöt", "fi"),
    ("admin@tupa.example", Role.ADMIN, "Tupa ylläpito", "fi"),
)


def demo_password(role: Role) -> str:
    return DEMO_CUSTOMER_PASSWORD if role is Role.CUSTOMER else DEMO_STAFF_PASSWORD


def _ago(now: datetime, row: dict, name: str = "days_ago") -> str:
    return (now - timedelta(days=float(row.pop(name)))).isoformat()


WAREHOUSE_STEPS = ("packing", "packed", "shipped")


def _working_hours(events: list[dict], *, now: datetime, zone: str = "Europe/Helsinki") -> None:
    """Move warehouse steps into working hours (Mon-Fri 8-17 shop time), keeping their order.

    Offsets alone would pack parcels at 3 a.m. on a Sunday; nothing is moved past ``now``.
    """
    from zoneinfo import ZoneInfo

    tz, previous = ZoneInfo(zone), None
    for event in events:
        at = datetime.fromisoformat(event["at"])
        if previous is not None and at < previous:
            at = previous + timedelta(minutes=7)
        if event["status"] in WAREHOUSE_STEPS:
            local = at.astimezone(tz)
            while local.weekday() >= 5 or not 8 <= local.hour < 17:
                local = (local + timedelta(days=1 if local.hour >= 8 else 0)).replace(hour=8)
            if local <= now:
                at = local
        event["at"] = min(at, now).isoformat()
        previous = min(at, now)


def demo_orders(now: datetime, directory: Path = DEMO_DIR) -> list[OrderInput]:
    """About four months of orders in every state, dated relative to ``now`` (``days_ago``).

    Lines name only a SKU and a quantity; names and prices come from ``products.json``.
    """
    path = directory / "orders.jsonl"
    if not path.exists():
        return []
    products = {p["sku"]: p for p in json.loads((directory / "products.json").read_text(encoding="utf-8"))}
    items = []
    for number, row in read_rows(path):
        try:
            row["placed_at"] = _ago(now, row)
            for event in row.get("events", []):
                event["at"] = _ago(now, event)
            _working_hours(row.get("events", []), now=now)
            if "expected_in_days" in row:
                row["expected_delivery"] = (now + timedelta(days=float(row.pop("expected_in_days")))).date().isoformat()
            for line in row["lines"]:
                product = products[line["sku"]]
                line.setdefault("name", product["name"])
                line.setdefault("unit_price", product["price"])
                line.setdefault("vat_rate", product.get("vat_rate", 25.5))
            items.append(parse_order(row))
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidInput(f"malformed demo order ({error!r})", source=str(path), line=number) from None
        except InvalidInput as error:
            raise InvalidInput(error.message, field=error.field, source=str(path), line=number) from None
    return items


def load_orders(session: Session, *, now: datetime) -> list[Order]:
    """The demo orders, their invoices, and every product of the catalogue (some never ordered)."""
    orders, _ = upsert_orders(session, demo_orders(now), now=now)
    known = set(session.scalars(select(Product.sku)))
    for row in json.loads((DEMO_DIR / "products.json").read_text(encoding="utf-8")):
        if row["sku"] not in known:
            session.add(Product(sku=row["sku"], name=row["name"], available=True,
                                unit_price_cents=int(row["price"].replace(",", "").replace(".", "")),
                                vat_rate_bp=int(float(row.get("vat_rate", 25.5)) * 100)))
    session.flush()
    return orders


def load_accounts(session: Session, *, now: datetime) -> list[str]:
    """Demo log-ins: three customers and one agent, editor and admin (passwords in the README)."""
    for email, role, name, language in DEMO_ACCOUNTS:
        create_user(session, email, role=role, password=demo_password(role), name=name, language=language, now=now)
    return [email for email, *_ in DEMO_ACCOUNTS]
