"""An inquiry that names a customer's address without proof (security review, issue 15): anyone can type an
address into the contact form or forge a mail's From line. Such an inquiry is not shown under that
customer's "My messages" until its sender opens the link mailed to the address, and the agent sees that the
sender is unproven next to the address's orders."""
from __future__ import annotations

import re

from sqlalchemy import select

from kb.db import commit, session, utcnow
from kb.models import ChannelKind, Ticket
from tests.support.auth_helpers import customer_factory, log_in
from tests.support.html_forms import csrf_token
from tests.fixtures.mail_helpers import sent_mail
from tests.support.contact_helpers import form_data, send

AINO = "aino@example.com"
FORGED = "Peruuta tilaukseni ja vaihda osoite"


def my_messages(app, email: str = AINO) -> tuple:
    client = app.test_client()
    log_in(client, email)
    return client, client.get("/tili/yhteydenotot").get_data(as_text=True)


def confirm_link(app) -> str:
    [mail] = [m for m in sent_mail(app) if m["To"] == AINO]
    return re.search(r"http://localhost(/yhteydenotto/vahvista/[\w.-]+)", mail.get_content()).group(1)


def test_a_form_message_typed_with_a_customers_address_stays_out_of_their_messages_until_confirmed(app) -> None:
    customer_factory(app)(AINO)
    assert send(app.test_client(), form_data(subject=FORGED)).status_code == 302  # not logged in
    with app.app_context():
        ticket = session().scalar(select(Ticket))
        assert ticket.customer_email == AINO and ticket.sender_confirmed_at is None
        auto_copy = ticket.messages[-1].body
    client, page = my_messages(app)
    assert FORGED not in page
    from kb.services.inquiries.replies import reference

    with app.app_context():
        ref = reference(session().scalar(select(Ticket)))
    assert client.get(f"/tili/yhteydenotot/{ref}").status_code == 404

    # the confirmation goes to the address; its owner proves it with the link (a button, not the GET)
    link = confirm_link(app)
    assert "/yhteydenotto/vahvista/" not in auto_copy  # the ticket's copy, which agents read, leaves it out
    visitor = app.test_client()
    asked = visitor.get(link)
    assert asked.status_code == 200 and FORGED in asked.get_data(as_text=True)
    assert FORGED not in client.get("/tili/yhteydenotot").get_data(as_text=True)
    assert visitor.post(link, data={"csrf_token": csrf_token(asked.get_data(as_text=True))}).status_code == 200
    assert FORGED in client.get("/tili/yhteydenotot").get_data(as_text=True)
    assert client.get(f"/tili/yhteydenotot/{ref}").status_code == 200


def test_a_logged_in_sender_is_proven_at_once(app) -> None:
    customer_factory(app)(AINO)
    client, _ = my_messages(app)
    assert send(client, form_data(subject="Kirjautuneena")).status_code == 302
    assert "Kirjautuneena" in client.get("/tili/yhteydenotot").get_data(as_text=True)
    [mail] = [m for m in sent_mail(app) if m["To"] == AINO]
    assert "/yhteydenotto/vahvista/" not in mail.get_content()


def test_mail_from_a_customers_address_is_unproven_too(app, make_ticket) -> None:
    """A From header is as easy to forge as a form field (DKIM is not checked): the same rule."""
    customer_factory(app)(AINO)
    make_ticket(customer_email=AINO, subject="Sähköpostista", channel=ChannelKind.EMAIL,
                external_id="forged@mail.example.com")
    make_ticket(customer_email=AINO, subject="Kaupan tuoma", sender_confirmed_at=utcnow())  # import, shop API
    _, page = my_messages(app)
    assert "Sähköpostista" not in page and "Kaupan tuoma" in page


def test_a_link_for_another_address_or_a_forged_one_is_refused(app, make_ticket) -> None:
    from kb.services.inquiries.customer_inquiries import sender_token

    ticket_id = make_ticket(customer_email=AINO)
    client = app.test_client()
    with app.app_context():
        ticket = session().get(Ticket, ticket_id)
        token = sender_token(app.config["SECRET_KEY"], ticket)
        ticket.customer_email = "eero@example.com"  # the address changed since the link was sent
        commit()
    assert client.get(f"/yhteydenotto/vahvista/{token}").status_code == 404
    assert client.get(f"/yhteydenotto/vahvista/{token[:-2]}xx").status_code == 404


def test_the_agent_sees_that_the_sender_is_unproven_beside_the_addresss_order(app, client, agent, make_ticket,
                                                                           create_order) -> None:
    create_order(AINO, status="paid")
    unproven = make_ticket(customer_email=AINO, subject=FORGED)
    proven = make_ticket(customer_email=AINO, subject="Kirjautuneen kysymys", sender_confirmed_at=utcnow())
    page = client.get(f"/agent/tickets/{unproven}").get_data(as_text=True)
    customer = page.split('id="customer"', 1)[1].split("</section>", 1)[0]
    assert "data-sender-unconfirmed" in customer and "Hämeenkatu 1" in customer
    assert customer.index("data-sender-unconfirmed") < customer.index("Hämeenkatu 1")  # the mark comes first
    assert "data-sender-unconfirmed" not in client.get(f"/agent/tickets/{proven}").get_data(as_text=True)
