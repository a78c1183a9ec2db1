"""User accounts and passwords (Argon2id, rehashed on log-in when parameters change)."""
from __future__ import annotations

import functools
import re
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb.models import Role, User
from kb.services.errors import InvalidInput
from kb.services.accounts.password_policy import check_new_password

_hasher = PasswordHasher()


def configure_hasher(*, time_cost: int, memory_cost: int) -> None:
    """Set Argon2id's cost (from config); stored hashes with other parameters are upgraded on log-in."""
    global _hasher
    if (_hasher.time_cost, _hasher.memory_cost) != (time_cost, memory_cost):
        _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_email(email: str) -> str:
    email = (email or "").strip()
    if len(email) > 254 or not EMAIL_RE.match(email):
        raise InvalidInput("not a valid e-mail address", field="email")
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def hash_password(password: str, *, email: str = "", name: str = "") -> str:
    """Hash a new password of the account with this address and name; raises InvalidInput if the rule refuses it."""
    check_new_password(password, email=email, name=name)
    return _hasher.hash(password)


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(session: Session, email: str, *, role: Role, password: str | None, name: str = "",
                language: str = "fi", now: datetime, email_verified: bool = True) -> User:
    """Create an account; raises InvalidInput if the address is taken or malformed.

    ``email_verified``: an admin, the command line or an import vouches for the address; a
    sign-up does not (its owner confirms it through a mailed link).
    """
    email = normalise_email(email)
    if find_user(session, email):
        raise InvalidInput("an account with this e-mail already exists", field="email")
    user = User(email=email, role=role, name=name, language=language, created_at=now,
                email_verified_at=now if email_verified else None,
                password_hash=hash_password(password, email=email, name=name) if password else None)
    session.add(user)
    session.flush()
    return user


@functools.cache
def _dummy_hash(time_cost: int, memory_cost: int) -> str:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost).hash(secrets.token_urlsafe(16))


def spend_hashing_time(password: str) -> None:
    """Verify against a throwaway hash made with the current cost, so unknown accounts take as long."""
    try:
        _hasher.verify(_dummy_hash(_hasher.time_cost, _hasher.memory_cost), password)
    except (VerificationError, InvalidHashError):
        pass


def check_password(user: User, password: str) -> bool:
    """Verify, upgrading the stored hash if the hasher's parameters have moved on."""
    if not user.password_hash:
        return False
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return True
