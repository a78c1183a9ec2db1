"""API tokens for the shop platform: handed out once, stored as SHA-256, revocable.

A token is looked up by its hash (a unique index), so comparing never touches
the secret itself and takes the same time whatever the token's prefix; the
secret is 256 random bits, so a hash needs no salt.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.models import ApiToken
from kb.services.errors import InvalidInput, NotFound

PREFIX = "neuvo_"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, name: str, *, now: datetime) -> tuple[ApiToken, str]:
    """A new token named ``name``; returns the row and the secret (shown once, never stored)."""
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise InvalidInput("give a name of 1 to 80 characters", field="name")
    taken = session.scalar(select(ApiToken.id).where(ApiToken.name == name, ApiToken.revoked_at.is_(None)))
    if taken is not None:
        raise InvalidInput("a token with this name exists; revoke it first", field="name")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(name=name, token_hash=token_hash(secret), created_at=now)
    session.add(token)
    session.flush()
    return token, secret


def authenticate(session: Session, secret: str, *, now: datetime) -> ApiToken | None:
    """The live token with this secret (its last use recorded), or None."""
    if not secret or len(secret) > 200:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(secret),
                                                  ApiToken.revoked_at.is_(None)))
    if token is not None:
        token.last_used_at = now
    return token


def revoke_token(session: Session, name: str, *, now: datetime) -> int:
    """Revoke every live token named ``name``; NotFound if there is none."""
    tokens = session.scalars(select(ApiToken).where(ApiToken.name == name.strip(),
                                                    ApiToken.revoked_at.is_(None))).all()
    if not tokens:
        raise NotFound(f"no live token named {name!r}")
    for token in tokens:
        token.revoked_at = now
    session.flush()
    return len(tokens)
