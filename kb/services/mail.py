"""Outgoing e-mail: SMTP when ``MAIL_SERVER`` is configured, otherwise .eml files in an outbox folder.

The outbox is for development and tests: every message is written whole to
``<MAIL_OUTBOX>/<timestamp>-<uuid>.eml`` (temp file, then ``os.replace``) and
can be read back with :func:`read_outbox`.
"""
from __future__ import annotations

import os
import smtplib
import ssl
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any


def build_message(to: str, subject: str, body_text: str, *, sender: str) -> EmailMessage:
    """A plain-text UTF-8 message with Date and Message-ID set."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or "localhost")
    message.set_content(body_text)
    return message


def send_mail(to: str, subject: str, body_text: str, *, config: Mapping[str, Any]) -> EmailMessage:
    """Send one message; ``config`` holds the MAIL_* settings (MAIL_OUTBOX when there is no server)."""
    message = build_message(to, subject, body_text, sender=config["MAIL_DEFAULT_SENDER"])
    if config.get("MAIL_SERVER"):
        _send_smtp(message, config)
    else:
        if not config.get("MAIL_OUTBOX"):
            raise ValueError("MAIL_OUTBOX is required when MAIL_SERVER is not set")
        write_eml(message, Path(config["MAIL_OUTBOX"]))
    return message


def _send_smtp(message: EmailMessage, config: Mapping[str, Any]) -> None:
    with smtplib.SMTP(config["MAIL_SERVER"], int(config.get("MAIL_PORT") or 587),
                      timeout=float(config.get("MAIL_TIMEOUT") or 10)) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        smtp.send_message(message)


def write_eml(message: EmailMessage, outbox: Path) -> Path:
    """Write the message atomically into ``outbox``; names sort by time of writing."""
    outbox.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
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
    """The MAIL_* settings with the outbox folder resolved (for :func:`send_mail`)."""
    settings = {key: value for key, value in config.items() if key.startswith("MAIL_")}
    settings["MAIL_OUTBOX"] = config.get("MAIL_OUTBOX") or str(Path(instance_path) / "outbox")
    return settings
