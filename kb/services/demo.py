"""The built-in demo shop "Tupa": categories, articles in fi/sv/en, channels and hours.

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
from kb.models import Article, Category, Channel, ChannelKind, SpecialDay, Ticket
from kb.services.articles import ArticleInput, upsert_articles
from kb.services.errors import InvalidInput
from kb.services.importing import parse_article, read_rows
from kb.services.tickets import InquiryInput, parse_inquiry, upsert_inquiries
from kb.services.shop import get_setting, set_setting

DEMO_DIR = Path(__file__).resolve().parent.parent / "demo"


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
                error.source = str(path)
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
    return {"articles": created, "categories": len(session.scalars(select(Category.id)).all()),
            "inquiries": len(tickets)}


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
