"""The mail queue: queued in the request's transaction, sent later by `neuvo mail send` / the worker,
retried with backoff, given up after the last attempt, never sent twice by two senders, and resent
with the same Message-ID after a sender dies between the server's "OK" and its commit."""
from __future__ import annotations

import os
import signal
import subprocess
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kb.db import commit, session, utcnow
from kb.mailing.emailing import mail_config
from kb.models import MailStatus, OutgoingMail, Role
from kb.services.errors import InvalidInput
from kb.services.mail.queue import MIN_CLAIM, deliver_queued, queue_mail
from tests.support.auth_helpers import csrf_of, log_in
from tests.support.cli_helpers import NEUVO
from tests.conftest import both_backends, translated
from tests.support.editor_helpers import PASSWORD
from tests.fixtures.mail_helpers import (
    SMTPRecorder,
    free_port,
    fresh_apps,
    sent_mail,
    smtp_config,
    smtp_server,
)

SENDER = "Tupa <asiakaspalvelu@tupa.example>"


def queue(app, *recipients: str, when=None) -> list[int]:
    """Queue one message per recipient and commit; returns the ids."""
    with app.app_context():
        rows = [queue_mail(session(), to, f"Hei {to}", f"Viesti osoitteeseen {to}\n", kind="test", sender=SENDER,
                           now=when or utcnow()) for to in recipients]
        commit()
        return [row.id for row in rows]


def rows(app) -> dict[str, OutgoingMail]:
    with app.app_context():
        return {row.recipient: row for row in session().scalars(select(OutgoingMail))}


def deliver(app, *, now, **settings):
    """One run of the real delivery with the app's mail settings (plus ``settings``)."""
    with app.app_context():
        return deliver_queued(session(), {**mail_config(), **settings}, now=now)


@pytest.fixture
def make_app(tmp_path, new_database):
    """Factory: an app with extra settings (a mail server) on a fresh database."""
    with fresh_apps(tmp_path, new_database) as make:
        yield make


# ---------- queueing

@both_backends
def test_a_rollback_queues_nothing_and_a_commit_queues_once(app, backend: str) -> None:
    with app.app_context():
        queue_mail(session(), "aino@example.com", "Hei", "Teksti", kind="test", sender=SENDER, now=utcnow())
        session().rollback()
        assert session().scalar(select(func.count(OutgoingMail.id))) == 0
    queue(app, "aino@example.com")
    [row] = rows(app).values()
    assert (row.status, row.attempts, row.sent_at) == (MailStatus.QUEUED, 0, None)
    assert row.message_id.startswith("<") and row.message_id.endswith("@tupa.example>")


def test_a_header_that_would_need_a_line_break_is_refused_when_queued(app) -> None:
    with app.app_context(), pytest.raises(InvalidInput):
        queue_mail(session(), "aino@example.com", "Hei\nBcc: kaikki@example.com", "Teksti", kind="test",
                   sender=SENDER, now=utcnow())


# ---------- delivery

@both_backends
def test_delivery_sends_each_message_once_and_marks_it_sent(app, backend: str) -> None:
    queued_at = utcnow() - timedelta(minutes=1)
    queue(app, "aino@example.com", "mikko@example.com", when=queued_at)
    report = deliver(app, now=utcnow())
    assert (report.sent, report.failed, report.retrying) == (2, 0, 0)
    stored = rows(app)
    mails = {m["To"]: m for m in sent_mail(app)}
    assert set(mails) == {"aino@example.com", "mikko@example.com"}
    for address, mail in mails.items():
        row = stored[address]
        assert mail["Message-ID"] == row.message_id and mail["From"] == SENDER
        assert mail.get_content() == f"Viesti osoitteeseen {address}\n"
        assert (row.status, row.attempts, row.claimed_by) == (MailStatus.SENT, 1, None)
        assert row.sent_at is not None and row.body == ""  # the text (maybe a single-use link) is not kept
    assert deliver(app, now=utcnow()).sent == 0
    assert len(sent_mail(app)) == 2


def test_a_temporary_refusal_is_retried_with_backoff_then_given_up(make_app) -> None:
    with smtp_server(SMTPRecorder(refuse={"aino@example.com": 451})) as (server, port):
        app = make_app(**smtp_config(port), MAIL_RETRY_SECONDS=60, MAIL_MAX_ATTEMPTS=3)
        start = utcnow()
        queue(app, "aino@example.com", "mikko@example.com", when=start)

        report = deliver(app, now=start)
        assert (report.sent, report.failed, report.retrying) == (1, 0, 1) and "451" in report.last_error
        assert [m["To"] for m in server.messages] == ["mikko@example.com"]  # one refusal stops no other mail
        aino = rows(app)["aino@example.com"]
        assert (aino.status, aino.attempts) == (MailStatus.QUEUED, 1)
        first_retry = aino.next_attempt_at
        assert timedelta(seconds=60) <= first_retry - start < timedelta(seconds=70)

        assert deliver(app, now=first_retry - timedelta(seconds=1)).retrying == 0  # not due yet
        assert deliver(app, now=first_retry).retrying == 1
        aino = rows(app)["aino@example.com"]
        assert aino.attempts == 2 and timedelta(seconds=120) <= aino.next_attempt_at - first_retry
        report = deliver(app, now=aino.next_attempt_at)
        assert (report.failed, report.retrying) == (1, 0)
        aino = rows(app)["aino@example.com"]
        assert (aino.status, aino.attempts) == (MailStatus.FAILED, 3)
        assert aino.failed_at is not None and "451" in aino.last_error and aino.body  # kept for a look
        assert deliver(app, now=aino.next_attempt_at + timedelta(days=1)).failed == 0
        assert [m["To"] for m in server.messages] == ["mikko@example.com"]


def test_a_permanent_refusal_is_given_up_at_once(make_app) -> None:
    with smtp_server(SMTPRecorder(refuse={"ei-ole@example.com": 550})) as (_server, port):
        app = make_app(**smtp_config(port))
        queue(app, "ei-ole@example.com")
        report = deliver(app, now=utcnow())
    assert (report.sent, report.failed, report.retrying) == (0, 1, 0)
    row = rows(app)["ei-ole@example.com"]
    assert (row.status, row.attempts) == (MailStatus.FAILED, 1) and "550" in row.last_error


def test_an_unreachable_server_stops_the_run_and_the_mail_waits(make_app) -> None:
    app = make_app(**smtp_config(free_port()))
    queue(app, "aino@example.com", "mikko@example.com", when=utcnow() - timedelta(seconds=1))
    report = deliver(app, now=utcnow())
    assert (report.sent, report.failed, report.retrying) == (0, 0, 1)
    assert "127.0.0.1" in report.last_error
    attempts = sorted(row.attempts for row in rows(app).values())
    assert attempts == [0, 1]  # the second message was not tried against a server that is down
    assert all(row.status is MailStatus.QUEUED for row in rows(app).values())


@both_backends
def test_two_concurrent_senders_never_send_one_message_twice(make_app, backend: str) -> None:
    with smtp_server() as (server, port):
        app = make_app(**smtp_config(port))
        queue(app, *[f"asiakas{i}@example.com" for i in range(60)])
        start = threading.Barrier(2)
        reports, errors = [], []

        def sender() -> None:
            try:
                start.wait()
                reports.append(deliver(app, now=utcnow()))
            except Exception as error:  # noqa: BLE001 - reported by the assertion below
                errors.append(error)

        threads = [threading.Thread(target=sender) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    assert errors == []
    ids = [m["Message-ID"] for m in server.messages]
    assert len(ids) == 60 and len(set(ids)) == 60
    assert sum(r.sent for r in reports) == 60
    assert {row.status for row in rows(app).values()} == {MailStatus.SENT}


@both_backends
def test_a_sender_killed_after_the_server_took_the_message_resends_it_with_the_same_message_id(
        make_app, backend: str) -> None:
    """At least once: the lost "sent" is found by the claim expiring, and the copy is recognisably the same."""
    with smtp_server(SMTPRecorder(stall=True)) as (server, port):
        app = make_app(**smtp_config(port))
        queue(app, "aino@example.com")
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEUVO_")}
        env.update(NEUVO_INSTANCE_PATH=app.instance_path, NEUVO_DATABASE_URL=app.config["DATABASE_URL"],
                   NEUVO_MAIL_SERVER="127.0.0.1", NEUVO_MAIL_PORT=str(port), NEUVO_MAIL_USE_TLS="false")
        process = subprocess.Popen([NEUVO, "mail", "send"], env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        try:
            assert server.received.wait(60)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
        row = rows(app)["aino@example.com"]
        assert (row.status, row.attempts) == (MailStatus.QUEUED, 1) and row.claimed_until is not None
        server.stall = False
        assert deliver(app, now=utcnow()).sent == 0  # the dead sender's claim still runs
        assert deliver(app, now=utcnow() + MIN_CLAIM + timedelta(seconds=1)).sent == 1
    first, second = server.messages
    assert first["Message-ID"] == second["Message-ID"] == row.message_id
    assert first["Date"] == second["Date"]
    assert rows(app)["aino@example.com"].status is MailStatus.SENT


# ---------- no mail server inside a web request

def _sign_up_and_ask_for_a_reset(client) -> None:
    page = client.get("/auth/signup").get_data(as_text=True)
    assert client.post("/auth/signup", data={
        "csrf_token": csrf_of(page), "name": "Aino", "email": "aino@example.com", "password": "pitkä-salasana-1",
        "confirm": "pitkä-salasana-1", "language": "fi"}).status_code == 302
    page = client.get("/auth/reset").get_data(as_text=True)
    assert client.post("/auth/reset", data={"csrf_token": csrf_of(page), "email": "aino@example.com"}).status_code == 302


def test_web_requests_only_queue_and_the_sender_delivers(make_app) -> None:
    with smtp_server() as (server, port):
        app = make_app(**smtp_config(port))
        _sign_up_and_ask_for_a_reset(app.test_client())
        assert server.connections == 0
        with app.app_context():
            kinds = session().scalars(select(OutgoingMail.kind).order_by(OutgoingMail.id)).all()
        assert kinds == ["welcome"]  # the reset link is made by the sender, like for an unknown address
        result = app.test_cli_runner().invoke(args=["mail", "send"])
        assert result.exit_code == 0 and "Sent 2, failed 0" in result.output, result.output
    assert [m["To"] for m in server.messages] == ["aino@example.com", "aino@example.com"]


def test_a_request_succeeds_when_the_mail_server_is_down_and_the_mail_waits(make_app) -> None:
    app = make_app(**smtp_config(free_port()))
    _sign_up_and_ask_for_a_reset(app.test_client())
    result = app.test_cli_runner().invoke(args=["mail", "send"])
    assert result.exit_code == 0 and "Sent 0, failed 0 (given up), 1 to retry later" in result.output, result.output
    assert "127.0.0.1" in result.output
    assert {row.status for row in rows(app).values()} == {MailStatus.QUEUED}


# ---------- admins see the queue

def test_admin_settings_show_queued_and_failed_mail(app, client, make_staff) -> None:
    queue(app, "aino@example.com", "mikko@example.com")
    with app.app_context():
        session().execute(OutgoingMail.__table__.update().where(OutgoingMail.recipient == "mikko@example.com")
                          .values(status=MailStatus.FAILED))
        commit()
    assert log_in(client, make_staff(Role.ADMIN), PASSWORD).status_code == 302
    html = client.get("/admin/settings").get_data(as_text=True)  # in the admin's language, Finnish
    assert translated(app, "Waiting to be sent: %(n)d", n=1) in html
    assert translated(app, "Given up: %(n)d", n=1) in html
