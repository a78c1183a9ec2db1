"""`neuvo mail poll` against a real IMAP server (Dovecot, started for this module; tests/fixtures/imap_helpers.py).

New mail becomes tickets, a reply joins its ticket, a message is taken once however many pollers
run, and a connection dropped mid-poll loses nothing. What a ticket's text says (how the body is
split into new words, quote and signature) is tests/mail/test_email_intake.py's business.
"""
from __future__ import annotations

import os
import threading
from collections import Counter

import pytest
from sqlalchemy import select

from kb.db import session
from kb.models import MessageKind, Ticket, TicketMessage
from kb.models.shop import ChannelKind
from kb.services.inquiries.imap_mailbox import Mailbox
from tests.conftest import both_backends
from tests.fixtures.imap_helpers import ImapServer, dovecot, message
from tests.fixtures.mail_helpers import queued
from tests.fixtures.servers import ServerUnavailable


@pytest.fixture(scope="module")
def imap_server():
    try:
        server = dovecot()
        running = server.__enter__()
    except ServerUnavailable as error:
        if os.environ.get("NEUVO_REQUIRE_IMAP"):
            pytest.fail(f"Dovecot is required (NEUVO_REQUIRE_IMAP) but cannot start: {error}")
        pytest.skip(f"Dovecot unavailable: {error}")
    try:
        yield running
    finally:
        server.__exit__(None, None, None)


@pytest.fixture
def mailbox(app, imap_server: ImapServer, monkeypatch) -> ImapServer:
    """The app set to poll the server's empty INBOX, trusting its certificate as it would a real CA's."""
    imap_server.empty()
    app.config.update(imap_server.config())
    monkeypatch.setenv("SSL_CERT_FILE", imap_server.ca_file)
    return imap_server


def poll(runner):
    return runner.invoke(args=["mail", "poll"])


def email_tickets(app) -> list[Ticket]:
    with app.app_context():
        return list(session().scalars(select(Ticket).where(Ticket.channel == ChannelKind.EMAIL).order_by(Ticket.id)))


def customer_messages(app, ticket_id: int) -> int:
    with app.app_context():
        return len(session().scalars(select(TicketMessage).where(
            TicketMessage.ticket_id == ticket_id, TicketMessage.kind == MessageKind.CUSTOMER)).all())


def acknowledged(app) -> Counter:
    """How many acknowledgements wait for each address."""
    return Counter(row.recipient for row in queued(app) if row.kind == "acknowledgement")


@both_backends
def test_new_mail_becomes_tickets_and_is_marked_seen(app, runner, mailbox: ImapServer, backend: str) -> None:
    first, first_id = message(subject="Missä tilaukseni 100234 on?")
    second, second_id = message(subject="Palautus", sender="Eero Korhonen <eero@example.com>",
                                body="Haluan palauttaa maton.")
    mailbox.deliver(first)
    mailbox.deliver(second)
    result = poll(runner)
    assert result.exit_code == 0, result.output
    assert "Fetched 2 messages: 2 new tickets" in result.output
    tickets = email_tickets(app)
    assert [(t.external_id, t.customer_email, t.subject) for t in tickets] == [
        (first_id, "aino@example.com", "Missä tilaukseni 100234 on?"), (second_id, "eero@example.com", "Palautus")]
    assert mailbox.unseen() == 0
    assert acknowledged(app) == {"aino@example.com": 1, "eero@example.com": 1}
    # nothing new: nothing taken again
    again = poll(runner)
    assert again.exit_code == 0 and "Fetched 0 messages" in again.output
    assert len(email_tickets(app)) == 2


def test_a_reply_joins_its_ticket_and_reopens_nothing_twice(app, runner, mailbox: ImapServer) -> None:
    original, original_id = message(subject="Lahjakortti")
    mailbox.deliver(original)
    assert poll(runner).exit_code == 0
    [ticket] = email_tickets(app)
    reply, _ = message(subject="Re: Lahjakortti", body="Unohdin kertoa koodin: 1234.", in_reply_to=original_id)
    mailbox.deliver(reply)
    result = poll(runner)
    assert result.exit_code == 0, result.output
    assert "1 replies added to existing tickets" in result.output
    assert [t.id for t in email_tickets(app)] == [ticket.id]
    assert customer_messages(app, ticket.id) == 1
    assert acknowledged(app) == {"aino@example.com": 1}  # the reply is not acknowledged as a new inquiry


@both_backends
def test_two_pollers_at_once_take_each_message_once(app, mailbox: ImapServer, monkeypatch, backend: str) -> None:
    """Both pollers fetch the same unseen messages before either stores them (a barrier holds the
    first until the second has fetched too): still one ticket and one acknowledgement per message."""
    from kb.jobs import MailboxError, poll_mailbox

    ids = []
    for n in range(5):
        raw, message_id = message(subject=f"Kysymys {n}", sender=f"Asiakas {n} <asiakas{n}@example.com>")
        mailbox.deliver(raw)
        ids.append(message_id)
    both_fetched = threading.Barrier(2, timeout=30)
    real_unseen = Mailbox.unseen

    def unseen(self, limit: int = 200):
        found = real_unseen(self, limit)
        both_fetched.wait()
        return found

    monkeypatch.setattr(Mailbox, "unseen", unseen)
    outcomes: list[object] = []

    def poller() -> None:
        with app.app_context():
            try:
                outcomes.append(poll_mailbox())
            except MailboxError as error:  # the loser may say so; it must not store anything twice
                outcomes.append(error)
            except Exception as error:  # noqa: BLE001 - recorded and asserted below
                outcomes.append(error)

    threads = [threading.Thread(target=poller) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(outcomes) == 2
    assert not [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, MailboxError)], outcomes
    assert sorted(t.external_id for t in email_tickets(app)) == sorted(ids)
    assert sum(o.created for o in outcomes if not isinstance(o, Exception)) == 5
    assert acknowledged(app) == {f"asiakas{n}@example.com": 1 for n in range(5)}
    assert mailbox.unseen() == 0


@both_backends
@pytest.mark.parametrize("when", ["while fetching", "before marking seen"])
def test_a_dropped_connection_loses_nothing(app, runner, mailbox: ImapServer, monkeypatch, backend: str,
                                           when: str) -> None:
    """The server drops the session after the first of two messages was fetched, or after both were
    fetched and stored but before they were marked seen: the poll fails, the messages stay unseen,
    and the next poll takes them, each once."""
    first, first_id = message(subject="Laskun eräpäivä")
    second, second_id = message(subject="Toimitusaika", sender="Eero Korhonen <eero@example.com>")
    mailbox.deliver(first)
    mailbox.deliver(second)
    real_unseen = Mailbox.unseen

    def unseen_then_drop(self, limit: int = 200):
        real_uid, fetches = self.conn.uid, []

        def uid(command: str, *args):
            if command == "fetch":
                fetches.append(args[0])
                if when == "while fetching" and len(fetches) == 2:
                    assert mailbox.drop_connections() == 1
            return real_uid(command, *args)

        self.conn.uid = uid
        found = real_unseen(self, limit)
        if when == "before marking seen":
            assert mailbox.drop_connections() == 1
        return found

    monkeypatch.setattr(Mailbox, "unseen", unseen_then_drop)
    dropped = poll(runner)
    assert dropped.exit_code == 1 and f"IMAP {mailbox.host}" in dropped.output, dropped.output
    assert mailbox.unseen() == 2  # not marked: they will be taken again
    assert len(email_tickets(app)) == (0 if when == "while fetching" else 2)
    monkeypatch.setattr(Mailbox, "unseen", real_unseen)
    result = poll(runner)
    assert result.exit_code == 0, result.output
    assert sorted(t.external_id for t in email_tickets(app)) == sorted([first_id, second_id])
    assert acknowledged(app) == {"aino@example.com": 1, "eero@example.com": 1}
    assert mailbox.unseen() == 0
