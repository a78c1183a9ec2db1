"""Outgoing e-mail transport: SMTP when ``MAIL_SERVER`` is configured, otherwise .eml files in an outbox folder.

Only the mail queue's delivery (:func:`kb.services.mail.queue.deliver_queued`) sends:
web requests queue their messages and never talk to the mail server.

The outbox is for development and tests: every message is written whole to
``<MAIL_OUTBOX>/<timestamp>-<uuid>.eml`` (temp file, then ``os.replace``) and
can be read back with :func:`read_outbox`.
"""
from __future__ import annotations

import contextlib
import os
import re
import smtplib
import ssl
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid
from pathlib import Path
from types import TracebackType
from typing import Any, Self


#: Local parts of addresses that take no answers: such a sender gets no Reply-To.
_NO_REPLY = re.compile(r"^(?:no-?reply|do-?not-?reply|mailer-daemon)$", re.IGNORECASE)


class MailServerUnavailable(Exception):
    """The server could not be reached, refused the connection, TLS or the log-in: nothing can be sent now."""


def sender_domain(sender: str) -> str:
    """The domain of a From address ("Tupa <no-reply@tupa.example>" → "tupa.example")."""
    return sender.rpartition("@")[2].strip("> ") or "localhost"


def new_message_id(sender: str) -> str:
    """A globally unique Message-ID in the sender's domain."""
    return make_msgid(domain=sender_domain(sender))


def build_message(to: str, subject: str, body_text: str, *, sender: str, message_id: str | None = None,
                  date: datetime | None = None, in_reply_to: str | None = None,
                  auto_submitted: str | None = None) -> EmailMessage:
    """A plain-text UTF-8 message; ValueError for header values a message cannot carry (line breaks).

    ``auto_submitted`` ("auto-replied", "auto-generated"; RFC 3834) marks mail that no person
    wrote, so that well-behaved auto-responders (out-of-office replies) do not answer it.
    """
    message = EmailMessage()
    message["From"] = sender
    if not _NO_REPLY.match(sender.rpartition("@")[0].rpartition("<")[2].strip()):
        message["Reply-To"] = sender  # an answer reaches customer service even where a client prefers Reply-To
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime((date or datetime.now(UTC)).astimezone(UTC), usegmt=True)
    message["Message-ID"] = message_id or new_message_id(sender)
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    if auto_submitted:
        message["Auto-Submitted"] = auto_submitted
    message.set_content(body_text)
    return message


class MailTransport:
    """Sends messages over one SMTP connection, opened on first use (or into the outbox folder).

    Use as a context manager; after a failed send the connection is dropped and the
    next message opens a new one. :class:`MailServerUnavailable` means the server (or
    the outbox folder) cannot take anything now; other errors concern one message.
    """

    def __init__(self, config: Mapping[str, Any]):
        self.config = config
        self._stack = contextlib.ExitStack()
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def send(self, message: EmailMessage) -> None:
        if not self.config.get("MAIL_SERVER"):
            self._write_to_outbox(message)
            return
        smtp = self._connection()
        try:
            smtp.send_message(message)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        self._smtp = None
        with contextlib.suppress(OSError, smtplib.SMTPException):
            self._stack.close()

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        config = self.config
        try:
            smtp = self._stack.enter_context(smtplib.SMTP(
                config["MAIL_SERVER"], int(config.get("MAIL_PORT") or 587),
                timeout=float(config.get("MAIL_TIMEOUT") or 10)))
            if config.get("MAIL_USE_TLS"):
                smtp.starttls(context=ssl.create_default_context())
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        except (OSError, smtplib.SMTPException) as error:
            self.close()
            raise MailServerUnavailable(f"{config['MAIL_SERVER']}: {_describe(error)}") from error
        self._smtp = smtp
        return smtp

    def _write_to_outbox(self, message: EmailMessage) -> None:
        if not self.config.get("MAIL_OUTBOX"):
            raise MailServerUnavailable("MAIL_OUTBOX is required when MAIL_SERVER is not set")
        try:
            write_eml(message, Path(self.config["MAIL_OUTBOX"]))
        except OSError as error:
            raise MailServerUnavailable(f"outbox {self.config['MAIL_OUTBOX']}: {_describe(error)}") from error


def _describe(error: BaseException) -> str:
    return f"{error.__class__.__name__}: {error}".strip().rstrip(":")


def write_eml(message: EmailMessage, outbox: Path) -> Path:
    """Write the message atomically into ``outbox``; names sort by time of writing."""
    outbox.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = outbox / f"{stamp}-{uuid.uuid4().hex}.eml"
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(message.as_bytes())
    os.replace(tmp, path)
    return path


def read_outbox(outbox: Path | str) -> list[EmailMessage]:
    """All messages in the outbox, oldest first (for tests and development)."""
    folder = Path(outbox)
    if not folder.is_dir():
        return []
    parser = BytesParser(policy=policy.default)
    return [parser.parsebytes(path.read_bytes()) for path in sorted(folder.glob("*.eml"))]  # type: ignore[misc]


def mail_settings(config: Mapping[str, Any], instance_path: str) -> dict[str, Any]:
    """The MAIL_* settings with the outbox folder resolved (for :class:`MailTransport`)."""
    settings = {key: value for key, value in config.items() if key.startswith("MAIL_")}
    settings["MAIL_OUTBOX"] = config.get("MAIL_OUTBOX") or str(Path(instance_path) / "outbox")
    return settings
