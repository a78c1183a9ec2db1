"""Service figures for the dashboard: read-only functions over the session.

Every figure is computed for a :class:`Period` ``[since, until)`` (aware UTC
datetimes), optionally narrowed to one channel and to one assignee (an agent's
own figures). Definitions, which the dashboard page repeats:

- **Inquiries**: tickets created in the period; per *local* calendar day of the
  shop's time zone, by channel, and by inquiry type ("" = not classified).
- **First response time**: for tickets created in the period whose first
  response was given before ``until``: ``first_response_at - created_at``.
- **Time to resolution**: for tickets created in the period and solved before
  ``until``: ``solved_at - created_at``.
- Both durations are **wall-clock** time (nights, weekends and holidays count),
  not business hours. The **median** is the middle value (the mean of the two
  middle values for an even count); the **90th percentile** is the nearest
  rank: the smallest value that at least 90 % of the values do not exceed,
  ``sorted(values)[ceil(0.9 * n) - 1]``.
- **Replies per inquiry**: over tickets created in the period with at least
  one agent reply (message kind ``reply``) sent before ``until``, the mean
  number of such replies. Internal notes and automatic messages do not count.
- **Backlog**: tickets created before ``until`` that were not solved at
  ``until``: no ``solved_at`` and status neither solved nor closed, or solved
  only at or after ``until``. Not limited by ``since``. A ticket closed without
  a ``solved_at`` counts as done (its closing time is not recorded).
- **CSAT** (1-5) and **CES** (1-7): survey answers given in the period
  (``answered_at``), the mean of the answers given, with their count.
- **Deflection rate** (help-center figure, ignores channel and assignee):
  tickets carry no visitor id, so help-center sessions cannot be matched to
  contacts. We count events: ``(deflected + solved) / (deflected + solved +
  form tickets)``, where *deflected* are article events "opened from the
  contact form, and the form was not sent", *solved* are "this solved it" from
  the auto-reply, and *form tickets* are tickets created through the contact
  form, all in the period.
- **Top searches** and **zero-result searches** (help-center figures):
  queries of the period grouped case-insensitively, most frequent first.
"""
from __future__ import annotations

import csv
import io
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from kb.models import (ArticleEvent, ArticleEventKind, ChannelKind, MessageKind, SearchLog, SurveyResponse, Ticket,
                       TicketMessage, TicketStatus)
from kb.services.errors import InvalidInput

#: Longest period the dashboard computes, in days (inclusive of both ends).
MAX_DAYS = 366
#: Period shown when none is asked for: the last 30 days including today.
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Period:
    """What the figures cover: ``[since, until)`` and optional channel and assignee filters."""

    since: datetime
    until: datetime
    channel: ChannelKind | None = None
    assignee_id: int | None = None


@dataclass(frozen=True)
class DurationStats:
    """Median and 90th percentile (nearest rank) of durations in seconds, over ``count`` tickets."""

    count: int
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class ReplyStats:
    tickets: int
    replies: int
    mean: float | None


@dataclass(frozen=True)
class SurveyStats:
    csat_mean: float | None
    csat_count: int
    ces_mean: float | None
    ces_count: int


@dataclass(frozen=True)
class Deflection:
    deflected: int
    solved: int
    form_tickets: int

    @property
    def avoided(self) -> int:
        return self.deflected + self.solved

    @property
    def rate(self) -> float | None:
        total = self.avoided + self.form_tickets
        return self.avoided / total if total else None


@dataclass(frozen=True)
class Dashboard:
    """Every figure of the dashboard; help-center figures are None in an agent's own view."""

    period: Period
    inquiries: int
    per_day: list[tuple[date, int]]
    by_channel: list[tuple[str, int]]
    by_type: list[tuple[str, int]]
    first_response: DurationStats
    resolution: DurationStats
    replies: ReplyStats
    backlog: int
    survey: SurveyStats
    deflection: Deflection | None
    top_searches: list[tuple[str, int, int]] | None
    zero_result_searches: list[tuple[str, int]] | None


# ---------- periods

def parse_days(start: str | None, end: str | None, *, today: date, max_days: int = MAX_DAYS,
               default_days: int = DEFAULT_DAYS) -> tuple[date, date]:
    """The inclusive local days of ``from``/``to`` (YYYY-MM-DD); raises InvalidInput naming the field."""
    def parse(value: str, field: str) -> date:
        try:
            if len(value) != 10:
                raise ValueError(value)
            return date.fromisoformat(value)
        except ValueError:
            raise InvalidInput("not a date in the form YYYY-MM-DD", field=field) from None

    last = parse(end.strip(), "to") if end and end.strip() else today
    first = parse(start.strip(), "from") if start and start.strip() else last - timedelta(days=default_days - 1)
    if first > last:
        raise InvalidInput("the start date is after the end date", field="from")
    if (last - first).days + 1 > max_days:
        raise InvalidInput(f"the period is longer than {max_days} days", field="to")
    return first, last


def period_for_days(first: date, last: date, *, timezone: str, channel: ChannelKind | None = None,
                    assignee_id: int | None = None) -> Period:
    """The period from local midnight of ``first`` to local midnight after ``last``."""
    zone = ZoneInfo(timezone)
    since = datetime.combine(first, time(), zone)
    until = datetime.combine(last + timedelta(days=1), time(), zone)
    return Period(since, until, channel, assignee_id)


def parse_channel(value: str | None) -> ChannelKind | None:
    """A channel filter from a query string: empty means all channels."""
    if not value:
        return None
    try:
        return ChannelKind(value)
    except ValueError:
        raise InvalidInput("unknown channel", field="channel") from None


# ---------- statistics

def median(values: Sequence[float]) -> float | None:
    """The middle value; the mean of the two middle ones for an even count; None when empty."""
    ordered = sorted(values)
    n = len(ordered)
    if not n:
        return None
    mid = n // 2
    return float(ordered[mid]) if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (``0 < q <= 100``): the smallest value with q % of values at or below it."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return float(ordered[rank - 1])


def _durations(values: Iterable[float]) -> DurationStats:
    items = list(values)
    return DurationStats(len(items), median(items), percentile(items, 90))


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


# ---------- ticket figures

def _scope(period: Period) -> list[ColumnElement[bool]]:
    """Channel and assignee conditions (no time)."""
    conditions: list[ColumnElement[bool]] = [Ticket.inquiry_type != "spam"]  # the honeypot's queue
    if period.channel is not None:
        conditions.append(Ticket.channel == period.channel)
    if period.assignee_id is not None:
        conditions.append(Ticket.assignee_id == period.assignee_id)
    return conditions


def _created_in(period: Period) -> list[ColumnElement[bool]]:
    return [Ticket.created_at >= period.since, Ticket.created_at < period.until, *_scope(period)]


def inquiry_count(session: Session, period: Period) -> int:
    return session.scalar(select(func.count(Ticket.id)).where(*_created_in(period))) or 0


def inquiries_per_day(session: Session, period: Period, *, timezone: str) -> list[tuple[date, int]]:
    """(local day, tickets created) for every day of the period, days without tickets included."""
    zone = ZoneInfo(timezone)
    counts = Counter(at.astimezone(zone).date()
                     for at in session.scalars(select(Ticket.created_at).where(*_created_in(period))))
    day = period.since.astimezone(zone).date()
    last = (period.until - timedelta(microseconds=1)).astimezone(zone).date()
    days = []
    while day <= last:
        days.append((day, counts.get(day, 0)))
        day += timedelta(days=1)
    return days


def inquiries_by_channel(session: Session, period: Period) -> list[tuple[str, int]]:
    """(channel, tickets) most first, then by name."""
    rows = session.execute(select(Ticket.channel, func.count(Ticket.id)).where(*_created_in(period))
                           .group_by(Ticket.channel)).all()
    return sorted(((ChannelKind(c).value, n) for c, n in rows), key=lambda r: (-r[1], r[0]))


def inquiries_by_type(session: Session, period: Period) -> list[tuple[str, int]]:
    """(inquiry type, tickets) most first; "" is the type of unclassified tickets."""
    rows = session.execute(select(Ticket.inquiry_type, func.count(Ticket.id)).where(*_created_in(period))
                           .group_by(Ticket.inquiry_type)).all()
    return sorted(((t or "", n) for t, n in rows), key=lambda r: (-r[1], r[0]))


def first_response_times(session: Session, period: Period) -> DurationStats:
    """Wall-clock seconds from creation to the first response (see the module docstring)."""
    rows = session.execute(select(Ticket.created_at, Ticket.first_response_at).where(
        *_created_in(period), Ticket.first_response_at.is_not(None), Ticket.first_response_at < period.until))
    return _durations(max(0.0, (done - created).total_seconds()) for created, done in rows)


def resolution_times(session: Session, period: Period) -> DurationStats:
    """Wall-clock seconds from creation to solving (see the module docstring)."""
    rows = session.execute(select(Ticket.created_at, Ticket.solved_at).where(
        *_created_in(period), Ticket.solved_at.is_not(None), Ticket.solved_at < period.until))
    return _durations(max(0.0, (done - created).total_seconds()) for created, done in rows)


def replies_per_inquiry(session: Session, period: Period) -> ReplyStats:
    """Mean agent replies over the period's tickets that got at least one."""
    rows = session.execute(
        select(TicketMessage.ticket_id, func.count(TicketMessage.id))
        .join(Ticket, Ticket.id == TicketMessage.ticket_id)
        .where(*_created_in(period), TicketMessage.kind == MessageKind.REPLY,
               TicketMessage.created_at < period.until)
        .group_by(TicketMessage.ticket_id)).all()
    counts = [n for _, n in rows]
    return ReplyStats(len(counts), sum(counts), _mean(counts))


def backlog(session: Session, period: Period) -> int:
    """Tickets created before ``until`` and not solved at ``until``."""
    unsolved = or_(and_(Ticket.solved_at.is_(None), Ticket.status.not_in((TicketStatus.SOLVED, TicketStatus.CLOSED))),
                   Ticket.solved_at >= period.until)
    return session.scalar(select(func.count(Ticket.id)).where(
        Ticket.created_at < period.until, unsolved, *_scope(period))) or 0


def survey_scores(session: Session, period: Period) -> SurveyStats:
    """CSAT and CES means of the answers given in the period, with their counts."""
    rows = session.execute(
        select(SurveyResponse.csat, SurveyResponse.ces).join(Ticket, Ticket.id == SurveyResponse.ticket_id)
        .where(SurveyResponse.answered_at >= period.since, SurveyResponse.answered_at < period.until,
               *_scope(period))).all()
    csat = [c for c, _ in rows if c is not None]
    ces = [e for _, e in rows if e is not None]
    return SurveyStats(_mean(csat), len(csat), _mean(ces), len(ces))


# ---------- help-center figures

def deflection(session: Session, period: Period) -> Deflection:
    """Contacts avoided by articles against contact-form tickets (see the module docstring)."""
    rows = dict(session.execute(
        select(ArticleEvent.kind, func.count(ArticleEvent.id))
        .where(ArticleEvent.kind.in_((ArticleEventKind.DEFLECTED, ArticleEventKind.SOLVED)),
               ArticleEvent.created_at >= period.since, ArticleEvent.created_at < period.until)
        .group_by(ArticleEvent.kind)).all())
    form = session.scalar(select(func.count(Ticket.id)).where(
        Ticket.channel == ChannelKind.FORM, Ticket.inquiry_type != "spam", Ticket.created_at >= period.since,
        Ticket.created_at < period.until)) or 0
    # contact-form suggestions opened and not followed by an inquiry (intake's rule) + explicit events
    from kb.services.inquiries.intake import deflection_counts

    opened = deflection_counts(session, period.since, period.until).deflected
    return Deflection(rows.get(ArticleEventKind.DEFLECTED, 0) + opened, rows.get(ArticleEventKind.SOLVED, 0), form)


def top_searches(session: Session, period: Period, *, limit: int = 10) -> list[tuple[str, int, int]]:
    """(query, searches, of which found nothing), most searched first."""
    query = func.lower(SearchLog.query)
    zero = func.sum(case((SearchLog.result_count == 0, 1), else_=0))
    rows = session.execute(
        select(query, func.count(SearchLog.id), zero)
        .where(SearchLog.created_at >= period.since, SearchLog.created_at < period.until)
        .group_by(query).order_by(func.count(SearchLog.id).desc(), query).limit(limit)).all()
    return [(q, n, int(z or 0)) for q, n, z in rows]


def zero_result_searches(session: Session, period: Period, *, limit: int = 10) -> list[tuple[str, int]]:
    """(query, searches) that found nothing, most searched first."""
    query = func.lower(SearchLog.query)
    rows = session.execute(
        select(query, func.count(SearchLog.id))
        .where(SearchLog.result_count == 0, SearchLog.created_at >= period.since,
               SearchLog.created_at < period.until)
        .group_by(query).order_by(func.count(SearchLog.id).desc(), query).limit(limit)).all()
    return [(q, n) for q, n in rows]


def build_dashboard(session: Session, period: Period, *, timezone: str, help_center: bool = True,
                    limit: int = 10) -> Dashboard:
    """All figures at once; ``help_center=False`` leaves out deflection and searches (agents' view)."""
    return Dashboard(
        period=period,
        inquiries=inquiry_count(session, period),
        per_day=inquiries_per_day(session, period, timezone=timezone),
        by_channel=inquiries_by_channel(session, period),
        by_type=inquiries_by_type(session, period),
        first_response=first_response_times(session, period),
        resolution=resolution_times(session, period),
        replies=replies_per_inquiry(session, period),
        backlog=backlog(session, period),
        survey=survey_scores(session, period),
        deflection=deflection(session, period) if help_center else None,
        top_searches=top_searches(session, period, limit=limit) if help_center else None,
        zero_result_searches=zero_result_searches(session, period, limit=limit) if help_center else None,
    )


# ---------- tables and CSV

def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def tables(board: Dashboard) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """Every table of the dashboard as (header, rows), keyed by its CSV name."""
    summary: list[list[Any]] = [
        ["inquiries", board.inquiries, board.inquiries],
        ["first_response_median_hours", _hours(board.first_response.median), board.first_response.count],
        ["first_response_p90_hours", _hours(board.first_response.p90), board.first_response.count],
        ["resolution_median_hours", _hours(board.resolution.median), board.resolution.count],
        ["resolution_p90_hours", _hours(board.resolution.p90), board.resolution.count],
        ["replies_per_inquiry", _round(board.replies.mean), board.replies.tickets],
        ["backlog", board.backlog, board.backlog],
        ["csat_mean", _round(board.survey.csat_mean), board.survey.csat_count],
        ["ces_mean", _round(board.survey.ces_mean), board.survey.ces_count],
    ]
    if board.deflection is not None:
        d = board.deflection
        summary.append(["deflection_rate", _round(d.rate, 4), d.avoided + d.form_tickets])
    result: dict[str, tuple[list[str], list[list[Any]]]] = {
        "summary": (["metric", "value", "count"], summary),
        "per_day": (["date", "inquiries"], [[d.isoformat(), n] for d, n in board.per_day]),
        "by_channel": (["channel", "inquiries"], [list(r) for r in board.by_channel]),
        "by_type": (["inquiry_type", "inquiries"], [list(r) for r in board.by_type]),
    }
    if board.top_searches is not None:
        result["top_searches"] = (["query", "searches", "zero_result"], [list(r) for r in board.top_searches])
    if board.zero_result_searches is not None:
        result["zero_result_searches"] = (["query", "searches"], [list(r) for r in board.zero_result_searches])
    return result


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any, *, decimal_comma: bool = False) -> str:
    """A cell that spreadsheets show as text: formulas (= + - @, tab, CR) get a leading quote.

    ``decimal_comma`` writes fractions as Finnish and Swedish spreadsheets read them (1,6)."""
    if value is None:
        return ""
    text = str(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return text.replace(".", ",") if decimal_comma else text  # numbers stay numbers, negative ones included
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]], *, excel_nordic: bool = False) -> str:
    """RFC 4180 CSV (CRLF line ends), every text cell defused against formula injection.

    ``excel_nordic``: what Excel opens directly in Finland and Sweden, where the comma is the decimal
    separator: semicolons between cells, decimal commas, and a UTF-8 byte order mark (without it
    Excel reads the file as Windows-1252 and breaks ä and ö)."""
    buffer = io.StringIO()
    if excel_nordic:
        buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";" if excel_nordic else ",", lineterminator="\r\n")
    writer.writerow([csv_cell(h) for h in header])
    for row in rows:
        writer.writerow([csv_cell(v, decimal_comma=excel_nordic) for v in row])
    return buffer.getvalue()
