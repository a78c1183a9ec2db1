"""Single-use links mailed to people (password resets, guests' order links): a random token in the mail,
only its SHA-256 in the database, and a row that is unknown, used or expired opens nothing."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

#: Longer than any token we make: a longer one is refused before it is hashed.
MAX_TOKEN_LENGTH = 128

Row = TypeVar("Row")


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """(the token for the mail, the digest to store)."""
    token = secrets.token_urlsafe(32)
    return token, digest(token)


def issue(session: Session, model: type[Row], *, now: datetime, lifetime: timedelta,
          **fields: Any) -> tuple[str, Row]:
    """A new row of ``model`` (``fields`` plus the token's digest, created now, expiring after
    ``lifetime``), flushed; returns the token for the mail and the row."""
    token, token_hash = new_token()
    row = model(token_hash=token_hash, created_at=now, expires_at=now + lifetime, **fields)
    session.add(row)
    session.flush()
    return token, row


def unspent(session: Session, model: type[Row], token: str, *, now: datetime) -> Row | None:
    """The row of ``model`` (with ``token_hash``, ``used_at``, ``expires_at``) that ``token`` still opens."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    table: Any = model
    row = session.scalar(select(model).where(table.token_hash == digest(token)))
    if row is None or row.used_at is not None or row.expires_at <= now:  # type: ignore[attr-defined]
        return None
    return row
