"""Accounts: sign-up, log-in checks, ending sessions, password change and password reset.

Plain functions over a session: they flush but never commit, and take the
time as ``now``. A session (cookie) is ended by moving ``User.session_version``:
the user loader refuses any identity that carries an older version, so
logging out, changing or resetting a password ends every copy of the cookie.

Nothing here tells an unknown e-mail address from a wrong password: the
callers show the same message for both, and the unknown case spends the same
hashing time.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from kb.config import LANGUAGES
from kb.models import PasswordResetToken, Role, User
from kb.services import single_use
from kb.services.accounts import login_sessions
from kb.services.errors import DomainError, InvalidInput
from kb.services.accounts.users import (check_password, create_user, find_user, hash_password, normalise_email,
                              spend_hashing_time)

RESET_LIFETIME = timedelta(hours=1)
#: Longer strings are not tokens we issued; refuse them before hashing.


class InvalidToken(DomainError):
    """The reset link is unknown, already used or expired (the three look the same)."""


class WrongPassword(DomainError):
    """The current password given to confirm a change does not match."""


@dataclass(frozen=True)
class SignUp:
    """The outcome of a sign-up; ``created`` is False when the address already had an account."""

    user: User
    created: bool


@dataclass(frozen=True)
class IssuedReset:
    """A new reset token (shown only once: the database keeps its SHA-256)."""

    user: User
    token: str
    expires_at: datetime


def _spend_hashing_time(password: str) -> None:
    """Verify against a throwaway hash so unknown addresses take as long as known ones."""
    spend_hashing_time(password)



def _check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise InvalidInput("unsupported language", field="language")
    return language


def sign_up(session: Session, email: str, password: str, *, name: str = "", language: str = "fi",
            now: datetime) -> SignUp:
    """Create a customer account, or return the existing one for the caller to notify its owner.

    Raises InvalidInput for a malformed address, a short or easily guessed password or an unknown language.
    """
    address = normalise_email(email)
    _check_language(language)
    existing = find_user(session, address)
    if existing is not None:
        # validates as for a new account (same address and name), and costs the same time
        hash_password(password, email=address, name=name.strip()[:120])
        return SignUp(existing, created=False)
    try:
        with session.begin_nested():
            user = create_user(session, address, role=Role.CUSTOMER, password=password, name=name.strip()[:120],
                               language=language, now=now, email_verified=False)
    except IntegrityError:
        # a concurrent sign-up for the same address won the race
        existing = find_user(session, address)
        if existing is None:
            raise
        return SignUp(existing, created=False)
    return SignUp(user, created=True)


def authenticate(session: Session, email: str, password: str, *, now: datetime) -> User | None:
    """The active user with this e-mail and password, or None (for every kind of failure alike)."""
    try:
        address = normalise_email(email)
    except InvalidInput:
        address = None
    user = find_user(session, address) if address else None
    if user is None or not user.is_active or not user.password_hash:
        _spend_hashing_time(password)
        return None
    if not check_password(user, password):
        return None
    user.last_login_at = now
    session.flush()
    return user


def end_sessions(user: User, *, now: datetime) -> None:
    """Invalidate every session and remember-me cookie of this user, and end every recorded log-in."""
    user.session_version = (user.session_version or 1) + 1
    db = object_session(user)
    if db is not None:
        login_sessions.end_all(db, user, now=now)


def update_profile(session: Session, user: User, *, name: str, language: str) -> None:
    """Change the display name and the language of the interface and of e-mails."""
    user.name = name.strip()[:120]
    user.language = _check_language(language)
    session.flush()


def change_password(session: Session, user: User, current_password: str, new_password: str, *,
                    now: datetime) -> None:
    """Set a new password after checking the current one; ends all sessions, revokes reset links.

    Raises WrongPassword, or InvalidInput when the new password is too short or easily guessed.
    """
    if not check_password(user, current_password):
        raise WrongPassword("the current password does not match")
    user.password_hash = hash_password(new_password, email=user.email, name=user.name)
    _revoke_reset_tokens(session, user, now=now)
    end_sessions(user, now=now)
    session.flush()


def _revoke_reset_tokens(session: Session, user: User, *, now: datetime) -> None:
    session.execute(update(PasswordResetToken)
                    .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
                    .values(used_at=now))


def start_password_reset(session: Session, email: str, *, now: datetime,
                         lifetime: timedelta = RESET_LIFETIME) -> IssuedReset | None:
    """Issue a single-use reset token for an active account; None when there is none to reset.

    Earlier unused tokens of the user stop working: only the newest link counts.
    """
    try:
        address = normalise_email(email)
    except InvalidInput:
        return None
    user = find_user(session, address)
    if user is None or not user.is_active:
        return None
    _revoke_reset_tokens(session, user, now=now)
    token, row = single_use.issue(session, PasswordResetToken, now=now, lifetime=lifetime, user_id=user.id)
    return IssuedReset(user, token, row.expires_at)


def _valid_token(session: Session, token: str, *, now: datetime) -> tuple[PasswordResetToken, User]:
    row = single_use.unspent(session, PasswordResetToken, token, now=now)
    if row is None:
        raise InvalidToken("unknown, used or expired reset token")
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise InvalidToken("the account cannot be reset")
    return row, user


def check_reset_token(session: Session, token: str, *, now: datetime) -> User:
    """The user a still-valid token belongs to; raises InvalidToken otherwise."""
    return _valid_token(session, token, now=now)[1]


def finish_password_reset(session: Session, token: str, password: str, *, now: datetime) -> User:
    """Set the password through a reset token, using the token up and ending all sessions.

    Raises InvalidToken (unknown, used, expired) or InvalidInput (password too
    short or easily guessed; the token then stays usable).
    """
    row, user = _valid_token(session, token, now=now)
    new_hash = hash_password(password, email=user.email, name=user.name)
    # claim the token with a conditional UPDATE: of two concurrent uses only one matches
    claimed = session.execute(update(PasswordResetToken)
                              .where(PasswordResetToken.id == row.id, PasswordResetToken.used_at.is_(None))
                              .values(used_at=now)
                              .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise InvalidToken("reset token already used")
    user.password_hash = new_hash
    user.email_verified_at = user.email_verified_at or now  # the link came to this address
    _revoke_reset_tokens(session, user, now=now)
    end_sessions(user, now=now)
    session.flush()
    return user


# ---------- confirming the address of a new account

def _verification_serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="neuvo.verify-email")


def verification_token(secret: str, user: User) -> str:
    """A signed link token naming the account and its address (a changed address makes it useless)."""
    return _verification_serializer(secret).dumps([user.id, user.email])


def verify_email(session: Session, secret: str, token: str, *, now: datetime, max_age: timedelta) -> User:
    """Mark the account's address as confirmed; InvalidToken for a forged, expired or stale link."""
    if len(token) > 300:
        raise InvalidToken("not a token we issued")
    try:
        user_id, email = _verification_serializer(secret).loads(token, max_age=int(max_age.total_seconds()))
    except (BadSignature, ValueError, TypeError):
        raise InvalidToken("the link is not valid or has expired") from None
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or user.email != email or not user.is_active:
        raise InvalidToken("the link is not valid or has expired")
    user.email_verified_at = user.email_verified_at or now
    session.flush()
    return user
