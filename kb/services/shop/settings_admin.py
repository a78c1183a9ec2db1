"""Admin settings: staff accounts and roles, contact channels with their weekly hours,
special days (holidays), and shop-wide settings.

Every ``save_*``/``update_*`` function validates all of its input before it
changes anything and raises :class:`InvalidInput` naming the form field, so a
bad form stores nothing. Functions flush but never commit.

Hours are written as text, one field per weekday: ``09:00-17:00`` or several
spans ``09:00-12:00, 13:00-17:00`` (``9.00`` is accepted and stored as
``09:00``); an empty field means closed. Stored form: ``[["09:00", "17:00"]]``,
checked again with :func:`kb.services.shop.opening_hours.validate_hours`.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb.config import LANGUAGES
from kb.models import Channel, ChannelKind, Role, SpecialDay, User
from kb.services.helpcenter import articles as kb_articles
from kb.services.accounts.auth import end_sessions
from kb.services.errors import InvalidInput, NotFound
from kb.services.shop.opening_hours import WEEKDAYS, Hours, validate_hours
from kb.services.helpcenter.self_service import PAGES
from kb.services.shop.channels import get_setting, set_setting
from kb.services.shop.shop_details import clean_address, clean_business_id
from kb.services.accounts.users import EMAIL_RE, create_user

STAFF_ROLES = (Role.AGENT, Role.EDITOR, Role.MANAGER, Role.ADMIN)
_CLOCK = re.compile(r"^(\d{1,2})[:.](\d{2})$")
_PHONE = re.compile(r"^\+?[0-9 ()\-]{5,30}$")


# ---------- users and roles

def list_users(session: Session, *, role: Role | None = None, limit: int = 500) -> list[User]:
    """Staff accounts (or only ``role``), by role and e-mail."""
    roles = (role,) if role else STAFF_ROLES
    return list(session.scalars(select(User).where(User.role.in_(roles))
                                .order_by(User.role, func.lower(User.email)).limit(limit)))


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    return user


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidInput("unknown role", field="role") from None


def add_user(session: Session, email: str, *, role: Role, name: str, language: str, password: str | None,
             now: datetime) -> User:
    """Create an account with a temporary password, or without one (the caller sends an invitation)."""
    if language not in LANGUAGES:
        raise InvalidInput("unsupported language", field="language")
    if len(name.strip()) > 120:
        raise InvalidInput("at most 120 characters", field="name")
    return create_user(session, email, role=role, password=password or None, name=name.strip(),
                       language=language, now=now)


def _active_admins(session: Session) -> int:
    return session.scalar(select(func.count(User.id)).where(User.role == Role.ADMIN, User.is_active)) or 0


def _keep_an_admin(session: Session, user: User, *, by: User) -> None:
    if user.id == by.id:
        raise InvalidInput("you cannot change or disable your own account here", field="user")
    if user.role is Role.ADMIN and user.is_active and _active_admins(session) <= 1:
        raise InvalidInput("the shop must keep at least one active admin", field="user")


def change_role(session: Session, user_id: int, role: Role, *, by: User) -> User:
    """Give a user another role; admins cannot demote themselves or the last admin."""
    user = get_user(session, user_id)
    if user.role is role:
        return user
    _keep_an_admin(session, user, by=by)
    user.role = role
    session.flush()
    return user


def set_active(session: Session, user_id: int, active: bool, *, by: User, now: datetime) -> User:
    """Enable or disable an account; disabling ends every session of the user at once."""
    user = get_user(session, user_id)
    if user.is_active == active:
        return user
    if not active:
        _keep_an_admin(session, user, by=by)
        end_sessions(user, now=now)
    user.is_active = active
    session.flush()
    return user


# ---------- channels and hours

def parse_spans(text: str, *, field: str) -> Hours:
    """``"09:00-12:00, 13:00-17:00"`` as sorted, non-overlapping [[start, end], ...]; "" is closed."""
    spans: Hours = []
    for part in (p.strip() for p in text.replace("–", "-").split(",")):
        if not part:
            continue
        start, dash, end = (s.strip() for s in part.partition("-"))
        if not dash:
            raise InvalidInput("write hours as 09:00-17:00", field=field)
        spans.append([_clock(start, field), _clock(end, field)])
    spans.sort()
    try:
        validate_hours({"mon": spans})
    except ValueError:
        raise InvalidInput("a closing time must be after its opening time", field=field) from None
    for (_, end), (start, _) in zip(spans, spans[1:]):
        if start < end:
            raise InvalidInput("the spans overlap", field=field)
    return spans


def _clock(value: str, field: str) -> str:
    match = _CLOCK.match(value)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise InvalidInput(f"{value!r} is not a time such as 09:00 (use 23:59 for midnight)", field=field)
    return f"{int(match[1]):02d}:{match[2]}"


def spans_text(spans: Hours) -> str:
    """Stored spans back as the text of the form."""
    return ", ".join(f"{start}-{end}" for start, end in spans)


@dataclass
class ChannelInput:
    """The channel form: kind, per-language label and response time, address, hours per weekday."""

    kind: str
    address: str = ""
    position: str = "100"
    labels: dict[str, str] = field(default_factory=dict)
    response_times: dict[str, str] = field(default_factory=dict)
    hours: dict[str, str] = field(default_factory=dict)


def _texts(values: Mapping[str, str], prefix: str, max_length: int) -> dict[str, str]:
    result = {}
    for language in LANGUAGES:
        value = (values.get(language) or "").strip()
        if len(value) > max_length:
            raise InvalidInput(f"at most {max_length} characters", field=f"{prefix}_{language}")
        if value:
            result[language] = value
    return result


def _address(kind: ChannelKind, address: str) -> str:
    address = address.strip()
    if not address:
        return ""
    if len(address) > 300:
        raise InvalidInput("at most 300 characters", field="address")
    if kind is ChannelKind.EMAIL and not EMAIL_RE.match(address):
        raise InvalidInput("not a valid e-mail address", field="address")
    if kind is ChannelKind.PHONE and not _PHONE.match(address):
        raise InvalidInput("not a phone number such as +358 9 123 4567", field="address")
    if kind in (ChannelKind.CHAT, ChannelKind.FORM, ChannelKind.SOCIAL):
        local = address.startswith("/") and not address.startswith(("//", "/\\"))
        if not (local or re.match(r"^https://[^\s/]+\S*$", address)) or any(ch.isspace() for ch in address):
            raise InvalidInput("an https:// address or a path on this site", field="address")
    return address


def save_channel(session: Session, channel_id: int | None, data: ChannelInput) -> Channel:
    """Create (``channel_id`` None) or update a channel after validating every field."""
    try:
        kind = ChannelKind(data.kind)
    except ValueError:
        raise InvalidInput("unknown channel type", field="kind") from None
    position = data.position.strip()
    if not (position.isascii() and position.isdigit()) or len(position) > 5 or int(position) > 10_000:
        raise InvalidInput("a whole number from 0 to 10000", field="position")
    labels = _texts(data.labels, "label", 80)
    response_times = _texts(data.response_times, "response_time", 200)
    address = _address(kind, data.address)
    hours = {day: parse_spans(data.hours.get(day, ""), field=f"hours_{day}") for day in WEEKDAYS}
    validate_hours(hours)
    channel = session.get(Channel, channel_id) if channel_id is not None else Channel()
    if channel is None:
        raise NotFound("no such channel")
    channel.kind, channel.position, channel.address = kind, int(data.position), address
    channel.labels, channel.response_times, channel.hours = labels, response_times, hours
    if channel_id is None:
        session.add(channel)
    session.flush()
    return channel


def delete_channel(session: Session, channel_id: int) -> None:
    channel = session.get(Channel, channel_id)
    if channel is None:
        raise NotFound("no such channel")
    session.delete(channel)
    session.flush()


# ---------- special days

def save_special_day(session: Session, day: str, *, closed: bool, hours: str, notes: Mapping[str, str]) -> SpecialDay:
    """Set a holiday (closed) or other hours for one date, replacing what that date had."""
    try:
        when = date.fromisoformat(day.strip()) if len(day.strip()) == 10 else None
    except ValueError:
        when = None
    if when is None:
        raise InvalidInput("not a date in the form YYYY-MM-DD", field="day")
    spans = [] if closed else parse_spans(hours, field="hours")
    if not closed and not spans:
        raise InvalidInput("give the hours, or mark the day closed", field="hours")
    texts = _texts(notes, "note", 200)
    row = session.scalar(select(SpecialDay).where(SpecialDay.day == when))
    if row is None:
        row = SpecialDay(day=when)
        session.add(row)
    row.hours, row.notes = spans, texts
    session.flush()
    return row


def delete_special_day(session: Session, day_id: int) -> None:
    row = session.get(SpecialDay, day_id)
    if row is None:
        raise NotFound("no such special day")
    session.delete(row)
    session.flush()


def list_special_days(session: Session, *, since: date) -> list[SpecialDay]:
    return list(session.scalars(select(SpecialDay).where(SpecialDay.day >= since).order_by(SpecialDay.day)))


# ---------- shop settings

#: The shop settings admins edit: key -> default.
SHOP_SETTINGS = {"shop_name": "", "legal_name": "", "business_id": "", "shop_address": "", "return_address": "",
                 "return_window_days": "14", **{f"help_article_{page}": "" for page in PAGES}}


def shop_settings(session: Session, *, default_name: str) -> dict[str, str]:
    values = {key: get_setting(session, key, default) for key, default in SHOP_SETTINGS.items()}
    values["shop_name"] = values["shop_name"] or default_name
    return values


def update_shop_settings(session: Session, values: Mapping[str, str]) -> None:
    """Validate every setting, then store them all (shop name, return window, help article slugs)."""
    clean = {key: (values.get(key) or "").strip() for key in SHOP_SETTINGS}
    if not clean["shop_name"] or len(clean["shop_name"]) > 120:
        raise InvalidInput("required, at most 120 characters", field="shop_name")
    if len(clean["legal_name"]) > 200:
        raise InvalidInput("at most 200 characters", field="legal_name")
    clean["business_id"] = clean_business_id(clean["business_id"])
    for key in ("shop_address", "return_address"):
        clean[key] = clean_address(values.get(key) or "", field=key)
    days = clean["return_window_days"]
    if not (days.isascii() and days.isdigit()) or len(days) > 3 or not 0 <= int(days) <= 365:
        raise InvalidInput("a whole number of days from 0 to 365", field="return_window_days")
    clean["return_window_days"] = str(int(days))
    for page in PAGES:
        key = f"help_article_{page}"
        if clean[key]:
            try:
                kb_articles.published_article(session, clean[key])
            except NotFound:
                raise InvalidInput(f"no published article with the slug {clean[key]!r}", field=key) from None
    for key, value in clean.items():
        set_setting(session, key, value)
    session.flush()
