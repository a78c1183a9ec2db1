"""Whether customer service is open now, and when it opens next.

Plain functions on weekly hours and special days, in the shop's time zone, so
the rule is testable at any instant (a Friday evening, a public holiday, the
switch to summer time).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Hours = list[list[str]]


@dataclass(frozen=True)
class OpenStatus:
    is_open: bool
    #: When the current opening ends (if open) in the shop's zone.
    closes_at: datetime | None
    #: When service opens next (if closed), or None if no opening within two weeks.
    opens_at: datetime | None


def _intervals(day: date, weekly: dict[str, Hours], special: dict[date, Hours],
               zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    spans = special[day] if day in special else weekly.get(WEEKDAYS[day.weekday()], [])
    result = []
    for start, end in spans:
        opens = datetime.combine(day, time.fromisoformat(start), zone)
        closes = datetime.combine(day, time.fromisoformat(end), zone)
        if closes > opens:
            result.append((opens, closes))
    return sorted(result)


def status_at(now: datetime, weekly: dict[str, Hours], special: dict[date, Hours],
              timezone: str) -> OpenStatus:
    """Open/closed at ``now`` (aware) for a channel with these hours."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    for offset in range(15):
        day = local.date() + timedelta(days=offset)
        for opens, closes in _intervals(day, weekly, special, zone):
            if opens <= local < closes:
                return OpenStatus(True, closes, None)
            if local < opens:
                return OpenStatus(False, None, opens)
    return OpenStatus(False, None, None)


def week_table(weekly: dict[str, Hours]) -> list[tuple[str, Hours]]:
    """(weekday key, spans) Monday first, for showing the regular hours."""
    return [(day, weekly.get(day, [])) for day in WEEKDAYS]


def validate_hours(weekly: dict[str, Hours]) -> None:
    """Raise ValueError if a day key or time is malformed."""
    for day, spans in weekly.items():
        if day not in WEEKDAYS:
            raise ValueError(f"unknown weekday {day!r}")
        for start, end in spans:
            if time.fromisoformat(start) >= time.fromisoformat(end):
                raise ValueError(f"{day}: {start} is not before {end}")
