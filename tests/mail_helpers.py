"""Mail in tests: what the app sent (the queue delivered through the real delivery function, then
the outbox folder read back), what is still queued, and a small SMTP server to deliver to."""
from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

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


class _Handler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT (no TLS, no log-in)."""

    def _reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        recorder: SMTPRecorder = self.server.recorder  # type: ignore[attr-defined]
        with recorder.lock:
            recorder.connections += 1
        self._reply("220 fake.example ESMTP")
        accepted: list[str] = []
        for raw in self.rfile:
            command = raw.decode("ascii", "replace").strip()
            verb = command[:4].upper()
            if verb == "EHLO":
                self._reply("250-fake.example")
                self._reply("250 8BITMIME")
            elif verb == "HELO":
                self._reply("250 fake.example")
            elif verb == "MAIL":
                accepted = []
                self._reply("250 OK")
            elif verb == "RCPT":
                address = command.split(":", 1)[1].strip().strip("<>").split(">")[0]
                code = recorder.refuse.get(address)
                if code:
                    self._reply(f"{code} refused")
                else:
                    accepted.append(address)
                    self._reply("250 OK")
            elif verb == "DATA":
                self._reply("354 go ahead")
                lines = []
                for line in self.rfile:
                    if line in (b".\r\n", b".\n"):
                        break
                    lines.append(line[1:] if line.startswith(b"..") else line)
                message = BytesParser(policy=policy.default).parsebytes(b"".join(lines))
                with recorder.lock:
                    recorder.messages.append(message)  # type: ignore[arg-type]
                recorder.received.set()
                if recorder.stall:
                    recorder.release.wait(30)
                try:
                    self._reply("250 queued")
                except OSError:  # the client is gone
                    return
            elif verb == "QUIT":
                self._reply("221 bye")
                return
            else:  # RSET, NOOP and anything else
                self._reply("250 OK")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextmanager
def smtp_server(recorder: SMTPRecorder | None = None) -> Iterator[tuple[SMTPRecorder, int]]:
    """A local SMTP server on a free port; yields (recorder, port)."""
    recorder = recorder or SMTPRecorder()
    server = _Server(("127.0.0.1", 0), _Handler)
    server.recorder = recorder  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorder, server.server_address[1]
    finally:
        recorder.release.set()
        server.shutdown()
        server.server_close()
        thread.join()


def free_port() -> int:
    """A port nothing listens on (for a mail server that is down)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def smtp_config(port: int, **extra) -> dict:
    """App settings that send through the local server (no TLS, no log-in)."""
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_USE_TLS": False, "MAIL_TIMEOUT": 5, **extra}
