"""The expected response time told to a customer, from real first responses and opening hours.

Rule: take the tickets of the channel created in the last :data:`WINDOW` that have a
first response, measure each wait in the channel's *opening* hours (a ticket sent on
Friday evening and answered Monday at 10 waited one working hour, not 62 hours), and
take the median. With fewer than :data:`MIN_SAMPLES` such tickets the channel's own
stated response time (free text set by the admin) is told instead. The estimate
also says whether service is open now, when it opens next, and by when the answer
is expected (the median added to now in opening hours).

The functions on plain values (:func:`working_seconds`, :func:`add_working_time`,
:func:`estimate_from`) are testable at any instant; :func:`expected_response` reads
the database.
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.models import Channel, ChannelKind, SpecialDay, Ticket
from kb.services.shop.opening_hours import WEEKDAYS, Hours, status_at

WINDOW = timedelta(days=30)
MIN_SAMPLES = 5
#: How far ahead opening hours are searched (holidays included).
HORIZON_DAYS = 60


@dataclass(frozen=True)
class ResponseEstimate:
    """Whether service is open, and the expected answer: measured hours or the stated text."""

    is_open: bool
    opens_at: datetime | None
    #: Median first response in working hours, rounded up (None: too few samples).
    working_hours: int | None
    #: When the answer is expected, counted from now in opening hours (None without a measure).
    answer_by: datetime | None
    #: The channel's own stated response time, used without enough samples.
    stated: str
    samples: int


def _day_spans(day: date, weekly: dict[str, Hours], special: dict[date, Hours],
               zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    spans = special[day] if day in special else weekly.get(WEEKDAYS[day.weekday()], [])
    result = [(datetime.combine(day, time.fromisoformat(a), zone), datetime.combine(day, time.fromisoformat(b), zone))
              for a, b in spans]
    return sorted((a, b) for a, b in result if b > a)


def _spans(start: datetime, end: datetime, weekly: dict[str, Hours], special: dict[date, Hours],
           zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """Opening spans on every local day from ``start`` to ``end`` (at most a year)."""
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    days = min((last - first).days, 366)
    return [span for offset in range(days + 1)
            for span in _day_spans(first + timedelta(days=offset), weekly, special, zone)]


def working_seconds(start: datetime, end: datetime, weekly: dict[str, Hours], special: dict[date, Hours],
                    timezone: str) -> float:
    """Seconds between ``start`` and ``end`` that fall inside opening hours."""
    if end <= start:
        return 0.0
    total = 0.0
    for opens, closes in _spans(start, end, weekly, special, ZoneInfo(timezone)):
        overlap = (min(closes, end) - max(opens, start)).total_seconds()
        total += max(0.0, overlap)
    return total


def add_working_time(start: datetime, seconds: float, weekly: dict[str, Hours], special: dict[date, Hours],
                     timezone: str) -> datetime | None:
    """The instant when ``seconds`` of opening hours have passed after ``start`` (None: no hours ahead)."""
    zone = ZoneInfo(timezone)
    remaining = seconds
    for opens, closes in _spans(start, start + timedelta(days=HORIZON_DAYS), weekly, special, zone):
        begin = max(opens, start)
        if closes <= begin:
            continue
        available = (closes - begin).total_seconds()
        if remaining <= available:
            return begin + timedelta(seconds=remaining)
        remaining -= available
    return None


def estimate_from(samples: Sequence[tuple[datetime, datetime]], *, now: datetime, weekly: dict[str, Hours],
                  special: dict[date, Hours], timezone: str, stated: str = "") -> ResponseEstimate:
    """The estimate from (created, first response) pairs and the channel's hours."""
    status = status_at(now, weekly, special, timezone)
    waits = [working_seconds(created, answered, weekly, special, timezone) for created, answered in samples]
    if len(waits) < MIN_SAMPLES:
        return ResponseEstimate(status.is_open, status.opens_at, None, None, stated, len(waits))
    median = statistics.median(waits)
    hours = max(1, math.ceil(median / 3600 - 1e-9))
    answer_by = add_working_time(now, median, weekly, special, timezone)
    return ResponseEstimate(status.is_open, status.opens_at, hours, answer_by, stated, len(waits))


def expected_response(session: Session, kind: ChannelKind, *, now: datetime, timezone: str,
                      language: str) -> ResponseEstimate:
    """The estimate for a channel from its tickets of the last 30 days (see the module's rule)."""
    channel = session.scalar(select(Channel).where(Channel.kind == kind).order_by(Channel.position, Channel.id)
                             .limit(1))
    weekly = channel.hours if channel else {}
    stated = channel.response_time(language) if channel else ""
    local_today = now.astimezone(ZoneInfo(timezone)).date()
    special = {d.day: d.hours for d in session.scalars(
        select(SpecialDay).where(SpecialDay.day >= local_today - WINDOW - timedelta(days=1)))}
    samples = session.execute(
        select(Ticket.created_at, Ticket.first_response_at)
        .where(Ticket.channel == kind, Ticket.first_response_at.is_not(None), Ticket.created_at >= now - WINDOW,
               Ticket.created_at <= now)).all()
    return estimate_from([(c, f) for c, f in samples if f is not None], now=now, weekly=weekly, special=special,
                         timezone=timezone, stated=stated)
