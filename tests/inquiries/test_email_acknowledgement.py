"""A new e-mail from a customer is answered at once, as the contact form is: the reference, when an answer
can be expected, the order's own page and the articles that may help. Mail from machines never is, so
two auto-responders cannot answer each other; replies thread back into the ticket; references quoted from
another address do not. Real messages go through the parser and the same function `neuvo mail poll` uses."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from kb.db import commit, session, utcnow
from kb.jobs import receive_mails
from kb.models import Channel, ChannelKind, MessageKind, OutgoingMail, Ticket, TicketStatus
from kb.services.inquiries.email_intake import parse_message
from kb.services.mail.queue import as_message
from tests.conftest import both_backends


def mail(*, sender: str = "Aino Virtanen <aino@example.com>", subject: str = "Missä tilaukseni on?",
         message_id: str = "m-1@mail.example.com", body: str = "Hei, pakettini ei ole vielä tullut. Missä se on?",
         headers: str = "") -> bytes:
    return (f"From: {sender}\nTo: asiakaspalvelu@tupa.example\nSubject: {subject}\n"
            f"Date: {utcnow().strftime('%a, %d %b %Y %H:%M:%S +0000')}\nMessage-ID: <{message_id}>\n{headers}"
            f"Content-Type: text/plain; charset=\"utf-8\"\n\n{body}\n").encode()


def receive(app, *raws: bytes) -> int:
    with app.app_context():
        _, acknowledged = receive_mails([parse_message(raw) for raw in raws])
        commit()
        return acknowledged


def queued(app) -> list:
    with app.app_context():
        rows = session().scalars(select(OutgoingMail).order_by(OutgoingMail.id)).all()
        return [(row.kind, as_message(row)) for row in rows]


@pytest.fixture(autouse=True)
def _public_address(app):
    app.config.update(MAIL_BASE_URL="https://apu.tupa.example",
                      MAIL_DEFAULT_SENDER="Tupa asiakaspalvelu <asiakaspalvelu@tupa.example>")


@both_backends
def test_a_customers_mail_is_acknowledged_in_its_thread_and_language(app) -> None:
    with app.app_context():
        always_open = {day: [["00:00", "23:59"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
        session().add_all([
            Channel(kind=ChannelKind.FORM, response_times={"fi": "Lomakkeeseen vastaamme viikon sisällä."},
                    hours=always_open),
            Channel(kind=ChannelKind.EMAIL, response_times={"fi": "Sähköpostiin vastaamme arkisin vuorokaudessa."},
                    hours=always_open)])
        commit()
    assert receive(app, mail()) == 1

    [(kind, message)] = queued(app)
    with app.app_context():
        ticket = session().scalar(select(Ticket))
        auto = [m for m in ticket.messages if m.kind is MessageKind.AUTO]
        reference = f"T-{ticket.id:06d}"
        assert ticket.status is TicketStatus.NEW  # an automatic answer is not the first response
        assert ticket.first_response_at is None
    assert kind == "acknowledgement"
    assert message["To"] == "aino@example.com"
    assert message["Subject"] == f"Re: Missä tilaukseni on? [{reference}]"
    assert message["In-Reply-To"] == "<m-1@mail.example.com>"
    assert message["Auto-Submitted"] == "auto-replied"
    text = message.get_content()
    assert text.startswith("Hei Aino Virtanen,")
    assert reference in text
    assert "Sähköpostiin vastaamme arkisin vuorokaudessa." in text  # the e-mail channel's own promise
    assert "Lomakkeeseen" not in text
    # the agents see what was sent, but for the link that proves the sender's address (kb/mailing/sender_links.py)
    sent_text, proof = text.split("\n\nJos lähetit tämän viestin", 1)
    assert [a.body for a in auto] == [sent_text + "\n"] and "/yhteydenotto/vahvista/" in proof


def test_the_customers_reply_to_the_acknowledgement_joins_the_ticket(app) -> None:
    receive(app, mail())
    [(_, acknowledgement)] = queued(app)
    reply = mail(subject=acknowledgement["Subject"], message_id="m-2@mail.example.com", body="Tilausnumero 100123.",
                 headers=f"In-Reply-To: {acknowledgement['Message-ID']}\n"
                         f"References: <m-1@mail.example.com> {acknowledgement['Message-ID']}\n")
    assert receive(app, reply) == 0
    with app.app_context():
        [ticket] = session().scalars(select(Ticket)).all()
        assert [m.body for m in ticket.messages if m.kind is MessageKind.CUSTOMER] == ["Tilausnumero 100123."]


@pytest.mark.parametrize("sender, headers, subject", [
    ("Aino <aino@example.com>", "Auto-Submitted: auto-replied\n", "Missä tilaukseni on?"),
    ("Aino <aino@example.com>", "", "Automatic reply: Missä tilaukseni on?"),
    ("Aino <aino@example.com>", "", "Automaattinen vastaus: Tilaus"),
    ("Aino <aino@example.com>", "Precedence: bulk\n", "Uutiskirje"),
    ("Lista <lista@example.com>", "List-Id: <uutiset.example.com>\n", "Viikon tarjoukset"),
    ("Mail Delivery System <MAILER-DAEMON@mx.example.com>", "", "Undelivered Mail Returned to Sender"),
    ("Kauppa <no-reply@kauppa.example>", "", "Tilausvahvistus"),
    ("Aino <aino@example.com>", "Return-Path: <>\n", "Missä tilaukseni on?"),
    ("Outlook <aino@example.com>", "X-Auto-Response-Suppress: All\n", "Out of Office"),
])
def test_mail_from_machines_is_stored_but_never_answered(app, sender: str, headers: str, subject: str) -> None:
    assert receive(app, mail(sender=sender, headers=headers, subject=subject)) == 0
    assert queued(app) == []
    with app.app_context():
        assert session().scalar(select(Ticket)).channel is ChannelKind.EMAIL


def test_an_automatic_reply_does_not_reopen_a_waiting_ticket(app) -> None:
    receive(app, mail())
    with app.app_context():
        ticket = session().scalar(select(Ticket))
        ticket.status = TicketStatus.WAITING
        commit()
    away = mail(subject="Automatic reply: Missä tilaukseni on?", message_id="ooo@mail.example.com",
                body="Olen lomalla.", headers="Auto-Submitted: auto-replied\nIn-Reply-To: <m-1@mail.example.com>\n")
    receive(app, away)
    with app.app_context():
        ticket = session().scalar(select(Ticket))
        assert ticket.status is TicketStatus.WAITING
        assert "Olen lomalla." in [m.body for m in ticket.messages]


def test_one_address_gets_one_acknowledgement_an_hour(app) -> None:
    assert receive(app, mail(), mail(message_id="m-2@mail.example.com", subject="Toinen asia",
                                     body="Vielä yksi kysymys palautuksesta.")) == 1
    assert receive(app, mail(sender="eino@example.com", message_id="m-3@mail.example.com")) == 1
    with app.app_context():
        # an hour later the same customer is answered again
        for ticket in session().scalars(select(Ticket)).all():
            for message in ticket.messages:
                message.created_at -= timedelta(hours=1, minutes=1)
        commit()
    assert receive(app, mail(message_id="m-4@mail.example.com", subject="Kolmas asia")) == 1
    assert [m["To"] for _, m in queued(app)] == ["aino@example.com", "eino@example.com", "aino@example.com"]


def test_the_shops_own_address_and_a_switched_off_setting_get_no_answer(app) -> None:
    assert receive(app, mail(sender="Tupa <asiakaspalvelu@tupa.example>")) == 0
    app.config["EMAIL_ACKNOWLEDGEMENT"] = False
    assert receive(app, mail(message_id="m-2@mail.example.com")) == 0
    assert queued(app) == []


def test_importing_old_mail_answers_nobody(app, runner, tmp_path) -> None:
    path = tmp_path / "vanhat.eml"
    path.write_bytes(mail())
    assert runner.invoke(args=["import", "email", str(path)]).exit_code == 0
    assert queued(app) == []


def test_a_reference_quoted_from_another_address_starts_a_new_ticket(app) -> None:
    receive(app, mail())
    with app.app_context():
        reference = f"T-{session().scalar(select(Ticket.id)):06d}"
    intruder = mail(sender="mallory@example.net", subject=f"Re: Missä tilaukseni on? [{reference}]",
                    message_id="x-1@example.net", body="Vaihtakaa toimitusosoite, kiitos.")
    same = mail(subject=f"Re: Missä tilaukseni on? [{reference}]", message_id="m-2@mail.example.com",
                body="Lisätieto: tilaus 100123.")
    receive(app, intruder, same)
    with app.app_context():
        by_sender = {t.customer_email: t for t in session().scalars(select(Ticket))}
        assert set(by_sender) == {"aino@example.com", "mallory@example.net"}
        customer_messages = [m.body for m in by_sender["aino@example.com"].messages if m.kind is MessageKind.CUSTOMER]
        assert customer_messages == ["Lisätieto: tilaus 100123."]


def test_only_mail_a_person_wrote_goes_without_auto_submitted() -> None:
    from kb.services.mail.queue import auto_submitted

    assert auto_submitted("reply") is None
    assert auto_submitted("confirmation") == auto_submitted("acknowledgement") == "auto-replied"
    assert auto_submitted("password_changed") == auto_submitted("survey") == "auto-generated"
