"""Two-step verification: a code from an authenticator app (TOTP, RFC 6238) after the password.

- The secret is stored encrypted (Fernet) under a key derived from the app's secret key,
  so a copy of the database alone does not give the codes away. Keys named in
  ``SECRET_KEY_FALLBACKS`` still decrypt, and a secret read with one is encrypted again
  with the current key at the next log-in: the secret key can be rotated without
  locking anyone out.
- A code is accepted for the current 30-second step and one on either side (clock
  drift), and only once: a step at or before the last accepted one is refused, so a
  code seen over someone's shoulder cannot be used again (RFC 6238 section 5.2).
- Ten recovery codes, each good once, stand in for a lost phone; only their SHA-256 is
  stored, and they are shown once, when made.

Plain functions over a session: they flush but never commit, and take the time as ``now``.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import datetime

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from kb.models import RecoveryCode, User
from kb.services.errors import DomainError, InvalidInput

RECOVERY_CODES = 10
#: Accepted steps around the current one (each 30 s): the phone's clock may be a little off.
DRIFT_STEPS = 1
_KEY_CONTEXT = b"neuvo.two-step.v1:"


class WrongCode(DomainError):
    """The code is not the app's current one, was used already, or is not a recovery code."""


class SecretUnreadable(DomainError):
    """The stored secret cannot be decrypted with any configured key: an administrator must reset it."""


def _fernet(keys: Sequence[str | bytes]) -> MultiFernet:
    derived = []
    for key in keys:
        raw = key.encode() if isinstance(key, str) else key
        derived.append(Fernet(base64.urlsafe_b64encode(hashlib.sha256(_KEY_CONTEXT + raw).digest())))
    return MultiFernet(derived)


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def qr_svg_data_uri(uri: str) -> str:
    """The QR code of ``uri`` as an SVG data URI (the page's CSP allows data: images, not inline script)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def _normalise(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def _code_hash(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    code = _normalise(code)
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _new_recovery_codes(session: Session, user: User, *, now: datetime) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    session.add_all(RecoveryCode(user_id=user.id, code_hash=_code_hash(code), created_at=now) for code in codes)
    session.flush()
    return codes


def enable(session: Session, user: User, secret: str, code: str, *, keys: Sequence[str | bytes],
           now: datetime) -> list[str]:
    """Turn two-step verification on once ``code`` proves the app has ``secret``; returns the recovery codes."""
    step = _matching_step(secret, code, now)
    if step is None:
        raise InvalidInput("the code does not match; check the time on your phone and try the newest code",
                           field="code")
    user.totp_secret = _fernet(keys).encrypt(secret.encode()).decode()
    user.totp_enabled_at = now
    user.totp_last_step = step
    return _new_recovery_codes(session, user, now=now)


def _secret(user: User, keys: Sequence[str | bytes]) -> tuple[str, bool]:
    """The decrypted secret, and whether it was encrypted with an older key."""
    if not user.totp_secret:
        raise SecretUnreadable("two-step verification is not set up")
    fernet = _fernet(keys)
    try:
        secret = fernet.decrypt(user.totp_secret.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("the secret was encrypted with a key that is no longer configured") from None
    current_only = _fernet(keys[:1])
    try:
        current_only.decrypt(user.totp_secret.encode())
        return secret, False
    except InvalidToken:
        return secret, True


def verify(session: Session, user: User, code: str, *, keys: Sequence[str | bytes], now: datetime) -> str:
    """Check a log-in code: "app" or "recovery" by what matched; WrongCode otherwise.

    SecretUnreadable when the secret key changed without the old one kept as a fallback.
    """
    secret, old_key = _secret(user, keys)
    step = _matching_step(secret, code, now)
    if step is not None:
        if user.totp_last_step is not None and step <= user.totp_last_step:
            raise WrongCode("this code was used already; wait for the next one")
        user.totp_last_step = step
        if old_key:
            user.totp_secret = _fernet(keys).rotate(user.totp_secret.encode()).decode()
        session.flush()
        return "app"
    recovery = session.scalar(select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _code_hash(code), RecoveryCode.used_at.is_(None)))
    if recovery is None:
        raise WrongCode("the code is not correct")
    recovery.used_at = now
    session.flush()
    return "recovery"


def remaining_recovery_codes(session: Session, user: User) -> int:
    return session.scalar(select(func.count(RecoveryCode.id)).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def new_recovery_codes(session: Session, user: User, *, now: datetime) -> list[str]:
    """Replace every recovery code (the old ones stop working)."""
    if not user.two_step_enabled:
        raise InvalidInput("two-step verification is not on", field="code")
    return _new_recovery_codes(session, user, now=now)


def disable(session: Session, user: User) -> None:
    """Turn it off and forget the secret and the recovery codes (also an administrator's reset)."""
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.flush()
