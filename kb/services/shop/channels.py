"""The shop's contact channels with their live open/closed state, and settings."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.models import Channel, ChannelKind, Setting, SpecialDay
from kb.services.shop.opening_hours import OpenStatus, status_at


@dataclass(frozen=True)
class ChannelState:
    channel: Channel
    status: OpenStatus
    special_note: str | None

    def shown(self, language: str) -> tuple:
        """Every value the contact block shows of this channel in ``language`` (a cache key)."""
        c = self.channel
        hours = tuple((day, tuple(tuple(span) for span in spans)) for day, spans in sorted(c.hours.items()))
        return (c.id, c.kind.value, c.label(language), c.address, c.response_time(language), hours,
                self.status, self.special_note)


def special_days(session: Session, start: date) -> list[SpecialDay]:
    return list(session.scalars(select(SpecialDay).where(SpecialDay.day >= start).order_by(SpecialDay.day)))


def contact_channels(session: Session, *, now: datetime, timezone: str, language: str) -> list[ChannelState]:
    """Every channel in display order, open or closed at ``now``."""
    from zoneinfo import ZoneInfo

    today = now.astimezone(ZoneInfo(timezone)).date()
    upcoming = special_days(session, today)
    special = {d.day: d.hours for d in upcoming}
    note = next((d.notes.get(language) or d.notes.get("fi") for d in upcoming if d.day == today), None)
    channels = session.scalars(select(Channel).order_by(Channel.position, Channel.id)).all()
    return [ChannelState(c, status_at(now, c.hours, special, timezone), note) for c in channels]


def get_setting(session: Session, key: str, default: str = "") -> str:
    row = session.get(Setting, key)
    return row.value if row else default


def set_setting(session: Session, key: str, value: str) -> None:
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value


def shop_sender(session: Session, *, default_name: str) -> str | None:
    """"Shop <customer-service address>" from the shop's e-mail channel; None when the shop has none.

    Every message the shop sends comes from this address and is answered to it, so a
    customer's reply reaches customer service (never a no-reply address).
    """
    from email.headerregistry import Address

    from kb.services.accounts.users import EMAIL_RE

    address = session.scalar(select(Channel.address).where(Channel.kind == ChannelKind.EMAIL)
                             .order_by(Channel.position, Channel.id).limit(1))
    address = (address or "").strip()
    if not EMAIL_RE.match(address):
        return None
    name = get_setting(session, "shop_name", default_name) or default_name
    local, _, domain = address.rpartition("@")
    return str(Address(display_name=name, username=local, domain=domain))

