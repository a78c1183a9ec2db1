"""Opening hours: open now, and when service opens next."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from kb.services.shop.opening_hours import status_at, validate_hours

HEL = ZoneInfo("Europe/Helsinki")
WEEKDAYS = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
WEEKLY = {**WEEKDAYS, "sat": [["10:00", "14:00"]], "sun": []}


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=HEL)


def test_open_during_hours_until_closing() -> None:
    s = status_at(at(2026, 11, 23, 10, 30), WEEKLY, {}, "Europe/Helsinki")  # Monday
    assert s.is_open and s.closes_at == at(2026, 11, 23, 17, 0)


def test_closing_time_is_exclusive() -> None:
    s = status_at(at(2026, 11, 23, 17, 0), WEEKLY, {}, "Europe/Helsinki")
    assert not s.is_open and s.opens_at == at(2026, 11, 24, 9, 0)


def test_saturday_evening_opens_on_monday() -> None:
    s = status_at(at(2026, 11, 28, 15, 0), WEEKLY, {}, "Europe/Helsinki")
    assert not s.is_open and s.opens_at == at(2026, 11, 30, 9, 0)


def test_holiday_is_closed_and_skipped() -> None:
    special = {date(2026, 12, 24): [], date(2026, 12, 25): [], date(2026, 12, 26): []}
    s = status_at(at(2026, 12, 23, 18, 0), WEEKLY, special, "Europe/Helsinki")
    assert s.opens_at == at(2026, 12, 28, 9, 0)


def test_shortened_day_uses_special_hours() -> None:
    special = {date(2026, 12, 31): [["10:00", "14:00"]]}
    s = status_at(at(2026, 12, 31, 13, 0), WEEKLY, special, "Europe/Helsinki")
    assert s.is_open and s.closes_at == at(2026, 12, 31, 14, 0)
    assert not status_at(at(2026, 12, 31, 15, 0), WEEKLY, special, "Europe/Helsinki").is_open


def test_utc_input_is_judged_in_shop_time() -> None:
    # 07:30 UTC is 09:30 in Helsinki in winter
    assert status_at(datetime(2026, 11, 23, 7, 30, tzinfo=timezone.utc), WEEKLY, {}, "Europe/Helsinki").is_open


def test_never_open_has_no_next_opening() -> None:
    s = status_at(at(2026, 11, 23, 10, 0), {}, {}, "Europe/Helsinki")
    assert not s.is_open and s.opens_at is None


@pytest.mark.parametrize("hours", [{"mon": [["17:00", "09:00"]]}, {"funday": []}, {"mon": [["9", "25:00"]]}])
def test_malformed_hours_are_refused(hours: dict) -> None:
    with pytest.raises(ValueError):
        validate_hours(hours)
