"""The shop's IMAP mailbox: fetching unseen mail, marking it seen once stored, one poller at a time.

The messages fetched here are parsed and stored by :mod:`kb.services.inquiries.email_intake`;
:func:`kb.jobs.poll_mailbox` drives the round.
"""
from __future__ import annotations

import imaplib
import ssl
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import text as sql
from sqlalchemy.orm import Session

#: The PostgreSQL advisory lock that serialises storing polled mail (any number: one per purpose).
INTAKE_LOCK = 0x6E7576_6F0001


def hold_intake_lock(session: Session) -> None:
    """Wait until no other process is storing polled mail, until this transaction ends.

    Two pollers (two ``neuvo worker`` processes, or a worker and ``neuvo mail poll``) may fetch the
    same unseen messages before either marks them seen. Stored one after the other, the second
    finds each message's ticket (by Message-ID) and each reply already on its ticket, so nothing
    is taken twice. SQLite's write transactions are serialised already (``BEGIN IMMEDIATE``).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sql("SELECT pg_advisory_xact_lock(:key)"), {"key": INTAKE_LOCK})


def imap_configured(config: Mapping[str, Any]) -> bool:
    return bool(config.get("IMAP_HOST") and config.get("IMAP_USERNAME") and config.get("IMAP_PASSWORD"))


class Mailbox:
    """An IMAP mailbox over SSL: fetch unseen messages without marking them, mark them after storing."""

    def __init__(self, config: Mapping[str, Any]):
        self.config = config
        self.conn: imaplib.IMAP4_SSL | None = None

    def __enter__(self) -> Mailbox:
        config = self.config
        self.conn = imaplib.IMAP4_SSL(config["IMAP_HOST"], int(config.get("IMAP_PORT") or 993),
                                      ssl_context=ssl.create_default_context(),
                                      timeout=float(config.get("IMAP_TIMEOUT") or 30))
        try:
            self.conn.login(config["IMAP_USERNAME"], config["IMAP_PASSWORD"])
            status, _ = self.conn.select(config.get("IMAP_FOLDER") or "INBOX")
            if status != "OK":
                raise imaplib.IMAP4.error(f"cannot open folder {config.get('IMAP_FOLDER') or 'INBOX'}")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.conn is not None:
            try:
                self.conn.logout()
            except (imaplib.IMAP4.error, OSError):
                # a dropped connection fails LOGOUT before imaplib closes its socket: close it here
                try:
                    self.conn.shutdown()
                except OSError:
                    pass
            self.conn = None

    def unseen(self, limit: int = 200) -> list[tuple[bytes, bytes]]:
        """(uid, raw message) of unseen messages, oldest first; BODY.PEEK leaves them unseen."""
        assert self.conn is not None  # nosec B101 # type narrowing: used only after connect()
        status, data = self.conn.uid("search", None, "UNSEEN")
        if status != "OK":
            raise imaplib.IMAP4.error("UNSEEN search failed")
        result = []
        for uid in (data[0] or b"").split()[:limit]:
            status, parts = self.conn.uid("fetch", uid, "(BODY.PEEK[])")
            raw = next((p[1] for p in parts if isinstance(p, tuple)), None) if status == "OK" else None
            if raw:
                result.append((uid, raw))
        return result

    def mark_seen(self, uids: Sequence[bytes]) -> None:
        assert self.conn is not None  # nosec B101 # type narrowing: used only after connect()
        for uid in uids:
            self.conn.uid("store", uid, "+FLAGS", r"(\Seen)")
