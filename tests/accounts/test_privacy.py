"""Personal data under the GDPR: a customer downloads their own data and deletes their account from the
profile page, an admin exports or erases a person from the command line, and solved inquiries are erased
after the retention period. What must hold: the person's details are gone from every inquiry, message,
attachment and e-mail; what was asked stays (for figures and the suggester); orders stay for bookkeeping;
nobody else's data is touched."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kb.db import commit, session, utcnow
from kb.models import (Attachment, MailStatus, Order, OutgoingMail, Role, Ticket, TicketMessage, TicketStatus,
                       User)
from kb.models.conversation import MessageKind
from kb.services.accounts.privacy import MASK, mask, purge_expired
from tests.support.auth_helpers import PASSWORD, customer_factory, form_token, log_in
from tests.conftest import both_backends, translated

AINO = "aino@example.com"
BODY = ("Hei! Paketti ei tullut. Soittakaa 040 123 4567 tai +358 9 876 5432, sähköposti aino.v@posti.fi. "
        "Tilinumero FI21 1234 5600 0007 85, hetu 010190-123A. Terveisin Aino Virtanen")


def a_ticket(app, make_ticket, *, email: str = AINO, name: str = "Aino Virtanen", order_number: str = "100123",
             status: TicketStatus = TicketStatus.NEW, days_old: int = 0) -> int:
    ticket_id = make_ticket(customer_email=email, customer_name=name, order_number=order_number, body=BODY,
                            subject=f"Tilaus {order_number}", status=status)
    with app.app_context():
        ticket = session().get(Ticket, ticket_id)
        message = TicketMessage(kind=MessageKind.REPLY, body=f"Hei {name.split()[0]}, paketti on matkalla.",
                                created_at=utcnow())
        message.attachments.append(Attachment(filename="kuitti.pdf", content_type="application/pdf", size=5,
                                              data=b"%PDF-"))
        ticket.messages.append(message)
        session().add(OutgoingMail(kind="reply", sender="tupa@example.fi", recipient=email, subject="Re: Tilaus",
                                   body=message.body, message_id=f"<m{ticket_id}@tupa>", ticket_id=ticket_id,
                                   status=MailStatus.SENT, created_at=utcnow() - timedelta(days=days_old),
                                   next_attempt_at=utcnow(), attempts=1, last_error=""))
        ticket.updated_at = utcnow() - timedelta(days=days_old)
        commit()
    return ticket_id


def test_masking_hides_contact_details_and_names_but_not_what_was_asked() -> None:
    masked = mask(BODY, emails=[AINO], names=["Aino Virtanen"], order_numbers=["100123"])
    for detail in ("040 123 4567", "+358 9 876 5432", "aino.v@posti.fi", "FI21", "010190-123A", "Aino", "Virtanen"):
        assert detail not in masked, detail
    assert "Paketti ei tullut." in masked and "Terveisin" in masked
    kept = "Tilasin 2 kpl hintaan 59,90 € 12.3.2026 (2026-03-12), postinumero 33100."
    assert mask(kept, names=["Aino"]) == kept


@both_backends
def test_a_customer_downloads_only_their_own_data(app, client, make_ticket, create_order) -> None:
    customer_factory(app)(AINO, name="Aino Virtanen")
    mine, theirs = a_ticket(app, make_ticket), a_ticket(app, make_ticket, email="eero@example.com", name="Eero")
    create_order(AINO, number="200001")
    create_order("eero@example.com", number="200002")
    log_in(client, AINO)
    response = client.get("/auth/profile/data")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == AINO
    with app.app_context():
        references = {session().get(Ticket, i).external_id: i for i in (mine, theirs)}
    assert [t["reference"] for t in data["inquiries"]] == [k for k, v in references.items() if v == mine]
    assert data["inquiries"][0]["conversation"][0]["attachments"] == ["kuitti.pdf"]
    assert [o["number"] for o in data["orders"]] == ["200001"]
    assert "eero" not in response.get_data(as_text=True).lower()


@both_backends
def test_a_customer_deletes_their_account(app, client, make_ticket, create_order) -> None:
    customer_factory(app)(AINO, name="Aino Virtanen")
    mine, theirs = a_ticket(app, make_ticket), a_ticket(app, make_ticket, email="eero@example.com", name="Eero Esim")
    create_order(AINO, number="200001")
    log_in(client, AINO)
    token = form_token(client, "/auth/profile")

    client.post("/auth/profile/delete", data={"csrf_token": token, "password": "wrong password 1", "confirm": "y"})
    client.post("/auth/profile/delete", data={"csrf_token": token, "password": PASSWORD})  # not confirmed
    with app.app_context():
        assert session().scalar(select(User).where(User.email == AINO)) is not None

    r = client.post("/auth/profile/delete", data={"csrf_token": token, "password": PASSWORD, "confirm": "y"})
    assert r.status_code == 302
    assert client.get("/auth/profile").status_code == 302  # logged out
    assert log_in(client, AINO).status_code == 200  # the account is gone
    with app.app_context():
        db = session()
        assert db.scalar(select(User).where(User.email == AINO)) is None
        erased, untouched = db.get(Ticket, mine), db.get(Ticket, theirs)
        assert (erased.customer_email, erased.customer_name, erased.order_number, erased.user_id) == ("", "", "", None)
        assert erased.anonymised_at is not None and erased.inquiry_type  # still counted by type
        assert "Paketti ei tullut." in erased.body and "Aino" not in erased.body and "040" not in erased.body
        assert all("Aino" not in m.body for m in erased.messages) and MASK in erased.messages[0].body
        assert db.scalar(select(func.count(Attachment.id))) == 1  # Eero's
        assert db.scalar(select(func.count(OutgoingMail.id)).where(func.lower(OutgoingMail.recipient) == AINO)) == 0
        assert untouched.customer_email == "eero@example.com" and "Aino Virtanen" in untouched.body
        assert db.scalar(select(Order.number).where(Order.email == AINO)) == "200001"  # bookkeeping


def test_staff_cannot_delete_their_own_account(app, make_user) -> None:
    from tests.support.agent_helpers import PASSWORD as STAFF_PASSWORD

    make_user("agentti@example.fi", Role.AGENT)
    client = app.test_client()
    log_in(client, "agentti@example.fi", STAFF_PASSWORD)
    assert "Delete my account" not in client.get("/auth/profile").get_data(as_text=True)
    client.post("/auth/profile/delete", data={"csrf_token": form_token(client, "/auth/profile"),
                                              "password": STAFF_PASSWORD, "confirm": "y"})
    with app.app_context():
        assert session().scalar(select(User).where(User.email == "agentti@example.fi")) is not None
    page = client.get("/auth/profile").get_data(as_text=True)
    assert translated(app, "Staff accounts are removed by an administrator.", "en") in page


def test_the_cli_exports_and_erases_a_person_on_request(app, runner, make_ticket, create_order) -> None:
    ticket_id = a_ticket(app, make_ticket)
    create_order(AINO, number="200001")
    exported = runner.invoke(args=["privacy", "export", "Aino@Example.com"])
    assert exported.exit_code == 0
    assert json.loads(exported.stdout)["inquiries"][0]["message"] == BODY

    declined = runner.invoke(args=["privacy", "erase", AINO], input="n\n")
    assert declined.exit_code == 2
    with app.app_context():
        assert session().get(Ticket, ticket_id).customer_email == AINO

    erased = runner.invoke(args=["privacy", "erase", AINO, "--yes"])
    assert erased.exit_code == 0, erased.output
    assert "1 inquiries anonymised" in erased.output and "200001" in erased.output
    with app.app_context():
        assert session().get(Ticket, ticket_id).customer_email == ""

    assert runner.invoke(args=["privacy", "erase", "nobody@example.com", "--yes"]).exit_code == 2


def test_the_cli_refuses_to_erase_a_staff_account(app, runner, make_user) -> None:
    make_user("agentti@example.fi", Role.AGENT)
    result = runner.invoke(args=["privacy", "erase", "agentti@example.fi", "--yes"])
    assert result.exit_code == 2 and "staff account" in result.output
    with app.app_context():
        assert session().scalar(select(User).where(User.email == "agentti@example.fi")) is not None


@both_backends
def test_solved_inquiries_are_erased_after_the_retention_period(app, runner, make_ticket) -> None:
    old_solved = a_ticket(app, make_ticket, status=TicketStatus.SOLVED, days_old=800)
    old_open = a_ticket(app, make_ticket, email="eero@example.com", name="Eero", status=TicketStatus.OPEN,
                        days_old=800)
    recent = a_ticket(app, make_ticket, email="liisa@example.com", name="Liisa", status=TicketStatus.CLOSED,
                      days_old=10)
    result = runner.invoke(args=["privacy", "purge", "--days", "730"])
    assert result.exit_code == 0, result.output
    assert "1 inquiries anonymised" in result.output
    with app.app_context():
        db = session()
        assert db.get(Ticket, old_solved).customer_email == ""
        assert db.get(Ticket, old_open).customer_email == "eero@example.com"  # still being handled
        assert db.get(Ticket, recent).customer_email == "liisa@example.com"
        assert db.scalar(select(func.count(OutgoingMail.id))) == 1  # only the recent reply is kept
        again = purge_expired(db, now=utcnow(), days=730)
        assert (again.tickets, again.mails) == (0, 0)


def test_purge_needs_a_retention_period(app, runner) -> None:
    app.config["PERSONAL_DATA_RETENTION_DAYS"] = 0
    result = runner.invoke(args=["privacy", "purge"])
    assert result.exit_code == 2 and "retention" in result.output


def test_the_worker_runs_the_retention_period_when_due(app, make_ticket) -> None:
    from kb import jobs

    old = a_ticket(app, make_ticket, status=TicketStatus.CLOSED, days_old=800)
    jobs._last_purge.clear()
    with app.app_context():
        first = jobs.purge_personal_data_if_due()
        assert first is not None and first.tickets == 1
        assert jobs.purge_personal_data_if_due() is None  # not due again for a while
        assert session().get(Ticket, old).anonymised_at is not None
    app.config["PERSONAL_DATA_RETENTION_DAYS"] = 0
    jobs._last_purge.clear()
    with app.app_context():
        assert jobs.purge_personal_data_if_due() is None


@pytest.mark.parametrize("address", ["", "not-an-address"])
def test_bad_addresses_are_refused(runner, address: str) -> None:
    assert runner.invoke(args=["privacy", "export", address]).exit_code == 2


def test_the_editors_suggestion_runs_forget_the_person_too(app, runner, make_ticket) -> None:
    from kb.models import GapDecision, GapDecisionKind, GapSnapshot

    ticket_id = a_ticket(app, make_ticket)
    with app.app_context():
        reference = session().get(Ticket, ticket_id).external_id
        quoted = {"title": "Missä Aino Virtasen paketti on?", "examples": [BODY], "inquiry_ids": [reference]}
        other = {"title": "Voiko Eero maksaa laskulla?", "examples": ["Eero kysyy"], "inquiry_ids": ["T-999"]}
        session().add(GapSnapshot(window_start=utcnow(), window_end=utcnow(), report={"topics": [quoted, other]}))
        session().add(GapDecision(kind=GapDecisionKind.DISMISSED, title=quoted["title"], inquiry_ids=[reference]))
        commit()
    assert runner.invoke(args=["privacy", "erase", AINO, "--yes"]).exit_code == 0
    with app.app_context():
        [snapshot] = session().scalars(select(GapSnapshot)).all()
        first, second = snapshot.report["topics"]
        assert "Aino" not in first["title"] and "040 123 4567" not in first["examples"][0]
        assert second == other
        assert "Aino" not in session().scalar(select(GapDecision.title))
