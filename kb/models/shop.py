"""The shop's contact channels, opening hours and settings."""
from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import JSON, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from kb.db import Base, enum_column


class ChannelKind(enum.StrEnum):
    EMAIL = "email"
    CHAT = "chat"
    FORM = "form"
    SOCIAL = "social"
    PHONE = "phone"


class Channel(Base):
    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ChannelKind] = mapped_column(
        enum_column(ChannelKind)
    )
    position: Mapped[int] = mapped_column(default=100)
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    address: Mapped[str] = mapped_column(String(300), default="")
    response_times: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    #: Weekly hours: {"mon": [["09:00", "17:00"]], ..., "sun": []} in the shop's time zone.
    hours: Mapped[dict[str, list[list[str]]]] = mapped_column(JSON, default=dict)

    def label(self, language: str) -> str:
        return self.labels.get(language) or self.labels.get("fi") or self.kind.value

    def response_time(self, language: str) -> str:
        return self.response_times.get(language) or self.response_times.get("fi") or ""


class SpecialDay(Base):
    """A holiday or a day with other hours, for every channel."""

    __tablename__ = "special_days"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    #: [] means closed; otherwise [["10:00", "14:00"]].
    hours: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    notes: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)


class Setting(Base):
    """Shop-wide settings edited by admins (name, return window...)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(String(2000), default="")
