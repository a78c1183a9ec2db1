"""People who sign in: customers, agents, editors and admins."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import ClassVar

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from kb.db import Base, UTCDateTime, enum_column, utcnow


class Role(enum.StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    EDITOR = "editor"
    MANAGER = "manager"
    ADMIN = "admin"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    language: Mapped[str] = mapped_column(String(2), default="fi")
    #: Bumped on logout, password change and disabling; sessions carry it and die when it moves.
    session_version: Mapped[int] = mapped_column(default=1)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the owner proved the address is theirs (a link mailed to it); None: the account cannot log
    #: in yet, since orders, invoices and returns are found by that address.
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Two-step verification: the TOTP secret, encrypted (kb.services.accounts.two_factor); None when it is off.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The last 30-second time step a code was accepted for: a code is good once (RFC 6238 section 5.2).
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)

    #: The key of the log-in (LoginSession) this request belongs to; set on log-in and by the user loader.
    login_key: ClassVar[str | None] = None

    def get_id(self) -> str:
        """Flask-Login identity: the id, the session version and the log-in's key together."""
        identity = f"{self.id}:{self.session_version}"
        return f"{identity}:{self.login_key}" if self.login_key else identity

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    @property
    def is_staff(self) -> bool:
        return self.role is not Role.CUSTOMER

    @property
    def two_step_enabled(self) -> bool:
        return self.totp_enabled_at is not None and self.totp_secret is not None

    def has_role(self, *roles: Role) -> bool:
        """Admins may do everything; others only what their role names."""
        return self.role is Role.ADMIN or self.role in roles
