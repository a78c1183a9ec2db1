"""Log-ins per device (ASVS 3.3.4): where an account is logged in, and ending one of them.

Each log-in gets a row with a random key; the session cookie, and the remember-me cookie,
carry the key in the user's identity (``User.get_id``). The user loader accepts the cookie
only while the row is live, so ending a row logs that device out at its next request,
even a remembered one. Logging out, changing or resetting the password, and an admin
disabling the account end every row (with the session version, as before).

Plain functions over a session: they flush but never commit, and take the time as ``now``.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from kb.models import LoginSession, User
from kb.services.errors import NotFound

#: The last-seen time is written at most this often per log-in (each write is a database write).
TOUCH_EVERY = timedelta(minutes=1)
#: Ended and abandoned rows are deleted after this long (they hold a client address).
KEEP_ENDED = timedelta(days=30)


@dataclass(frozen=True)
class Device:
    """A log-in as its owner recognises it: browser, system, address and times."""

    id: int
    browser: str
    system: str
    ip: str
    created_at: datetime
    last_seen_at: datetime
    remembered: bool
    current: bool


def start(session: Session, user: User, *, ip: str, user_agent: str, remembered: bool, now: datetime) -> LoginSession:
    """Record a new log-in and hand its key to the user's identity."""
    login = LoginSession(key=secrets.token_urlsafe(32), user_id=user.id, created_at=now, last_seen_at=now,
                         ip=(ip or "")[:45], user_agent=(user_agent or "")[:300], remembered=remembered)
    session.add(login)
    session.flush()
    user.login_key = login.key  # type: ignore[misc]
    return login


def live(session: Session, user_id: int, key: str) -> LoginSession | None:
    """The user's log-in with this key, unless it was ended."""
    return session.scalar(select(LoginSession).where(LoginSession.key == key, LoginSession.user_id == user_id,
                                                     LoginSession.ended_at.is_(None)))


def touch(session: Session, key: str, *, now: datetime) -> None:
    """Note that the log-in was used now (one UPDATE, skipped within TOUCH_EVERY)."""
    session.execute(update(LoginSession).where(LoginSession.key == key, LoginSession.ended_at.is_(None),
                                               LoginSession.last_seen_at < now - TOUCH_EVERY)
                    .values(last_seen_at=now))


def end(session: Session, user: User, login_id: int, *, now: datetime) -> LoginSession:
    """End one of the user's own log-ins; NotFound for anyone else's (or an unknown id)."""
    login = session.get(LoginSession, login_id)
    if login is None or login.user_id != user.id or login.ended_at is not None:
        raise NotFound("log-in")
    login.ended_at = now
    session.flush()
    return login


def end_key(session: Session, key: str, *, now: datetime) -> None:
    """End the log-in with this key (its session expired)."""
    session.execute(update(LoginSession).where(LoginSession.key == key, LoginSession.ended_at.is_(None))
                    .values(ended_at=now))


def end_all(session: Session, user: User, *, now: datetime) -> None:
    session.execute(update(LoginSession).where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
                    .values(ended_at=now))


def prune(session: Session, *, now: datetime, idle: timedelta) -> int:
    """Delete rows ended, or unused for ``idle`` (their cookies have expired), more than KEEP_ENDED ago."""
    cutoff = now - KEEP_ENDED
    return session.execute(delete(LoginSession).where(or_(
        LoginSession.ended_at < cutoff, LoginSession.last_seen_at < cutoff - idle))).rowcount or 0


@lru_cache(maxsize=256)
def _parse(user_agent: str) -> tuple[str, str]:
    from ua_parser import parse

    result = parse(user_agent)
    browser = result.user_agent.family if result.user_agent and result.user_agent.family != "Other" else ""
    system = result.os.family if result.os and result.os.family != "Other" else ""
    if result.device and result.device.family not in ("Other", "Spider") and result.device.family not in system:
        system = f"{system}, {result.device.family}" if system else result.device.family
    return browser, system


def devices(session: Session, user: User, *, now: datetime, idle: timedelta, remembered_idle: timedelta) -> list[Device]:
    """The user's live log-ins, most recently used first.

    One unused for longer than its cookie lasts (``idle``; ``remembered_idle`` for "keep me
    logged in") is over, whether or not it was ended.
    """
    rows = session.scalars(select(LoginSession).where(
        LoginSession.user_id == user.id, LoginSession.ended_at.is_(None),
        LoginSession.last_seen_at >= now - max(idle, remembered_idle))
        .order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc()))
    found = []
    for row in rows:
        if now - row.last_seen_at > (remembered_idle if row.remembered else idle):
            continue
        browser, system = _parse(row.user_agent)
        found.append(Device(row.id, browser, system, row.ip, row.created_at, row.last_seen_at, row.remembered,
                            current=row.key == user.login_key))
    return found
