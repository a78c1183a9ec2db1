"""Mail in tests: what the app sent (the queue delivered through the real delivery function, then
the outbox folder read back), what is still queued, and a real SMTP server (aiosmtpd) to deliver to."""
from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from sqlalchemy import select

from kb import create_app
from kb.db import database, session, utcnow
from kb.mailing.emailing import mail_config
from kb.models import MailStatus, OutgoingMail
from kb.services.mail.transport import read_outbox
from kb.services.mail.queue import deliver_queued
from tests.conftest import _config


@contextmanager
def fresh_apps(tmp_path: Path, new_database) -> Iterator:
    """A factory of apps, each on a fresh database of the test's backend with extra settings."""
    made = []

    def make(**settings):
        instance = tmp_path / f"instance-{len(made)}"
        made.append(create_app({**_config(instance, new_database(instance)), **settings}))
        return made[-1]

    try:
        yield make
    finally:
        for app in made:
            database(app).dispose()


def sent_mail(app) -> list[EmailMessage]:
    """Deliver every due message (as `neuvo mail send` does), then all messages in the outbox folder."""
    from kb.mailing.account_requests import handle_account_requests

    with app.app_context():
        handle_account_requests()  # reset links asked for on the site, made by the worker before it sends
        deliver_queued(session(), mail_config(), now=utcnow(), limit=10_000)
    return read_outbox(Path(app.instance_path) / "outbox")


def queued(app) -> list[OutgoingMail]:
    """The messages waiting in the queue, oldest first."""
    with app.app_context():
        return list(session().scalars(select(OutgoingMail).where(OutgoingMail.status == MailStatus.QUEUED)
                                      .order_by(OutgoingMail.id)))


@dataclass
class SMTPRecorder:
    """What the fake server saw, and which recipients it refuses with which code."""

    refuse: dict[str, int] = field(default_factory=dict)
    #: Hold the answer to DATA (the message is already recorded) until ``release`` is set.
    stall: bool = False
    connections: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    received: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


class _Handler:
    """aiosmtpd's hooks: refuse the recipients the recorder names, record each message, stall on request."""

    def __init__(self, recorder: SMTPRecorder) -> None:
        self.recorder = recorder

    async def handle_RCPT(self, server, session, envelope, address: str, rcpt_options: list[str]) -> str:
        code = self.recorder.refuse.get(address)
        if code:
            return f"{code} refused"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content or envelope.content)
        with self.recorder.lock:
            self.recorder.messages.append(message)  # type: ignore[arg-type]
        self.recorder.received.set()
        if self.recorder.stall:
            await asyncio.get_running_loop().run_in_executor(None, self.recorder.release.wait, 30)
        return "250 queued"


class _CountingSMTP(SMTP):
    def connection_made(self, transport) -> None:  # type: ignore[no-untyped-def]
        with self.event_handler.recorder.lock:
            self.event_handler.recorder.connections += 1
        super().connection_made(transport)


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _CountingSMTP(self.handler, **self.SMTP_kwargs)


@contextmanager
def smtp_server(recorder: SMTPRecorder | None = None) -> Iterator[tuple[SMTPRecorder, int]]:
    """A local SMTP server (aiosmtpd) on a free port; yields (recorder, port)."""
    recorder = recorder or SMTPRecorder()
    port = free_port()
    controller = _Controller(_Handler(recorder), hostname="127.0.0.1", port=port)
    controller.start()
    with recorder.lock:
        recorder.connections = 0  # not the controller's own check that the server answers
    try:
        yield recorder, port
    finally:
        recorder.release.set()
        controller.stop()


def free_port() -> int:
    """A port nothing listens on (for a mail server that is down)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def smtp_config(port: int, **extra) -> dict:
    """App settings that send through the local server (no TLS, no log-in)."""
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_USE_TLS": False, "MAIL_TIMEOUT": 5, **extra}
