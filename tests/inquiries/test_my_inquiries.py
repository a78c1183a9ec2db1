"""A logged-in customer follows their own inquiries on the site: every channel's, with the agents' replies
and the automatic answers but never the internal notes, and adds to one, which opens it again for the
agents. Nobody sees another customer's inquiry, and erased or spam inquiries are not listed."""
from __future__ import annotations

from sqlalchemy import select

from kb.db import commit, session, utcnow
from kb.models import ChannelKind, MessageKind, Ticket, TicketMessage, TicketStatus
from tests.support.auth_helpers import customer_factory, form_token, log_in
from tests.conftest import both_backends, translated

AINO = "aino@example.com"


def with_messages(app, ticket_id: int, *pairs: tuple[MessageKind, str]) -> None:
    with app.app_context():
        ticket = session().get(Ticket, ticket_id)
        for kind, body in pairs:
            ticket.messages.append(TicketMessage(kind=kind, body=body, created_at=utcnow()))
        commit()


def reference_of(app, ticket_id: int) -> str:
    from kb.services.inquiries.replies import reference

    with app.app_context():
        return reference(session().get(Ticket, ticket_id))


@both_backends
def test_the_customer_sees_their_inquiries_from_every_channel_and_only_theirs(app, make_ticket) -> None:
    customer_factory(app)(AINO)
    # senders who proved the address (tests/inquiries/test_unproven_senders.py: the others stay out)
    form = make_ticket(customer_email=AINO, subject="Missä paketti?", sender_confirmed_at=utcnow())
    by_mail = make_ticket(customer_email="Aino@Example.com", subject="Lasku", channel=ChannelKind.EMAIL,
                          external_id="CAF123@mail.example.com", sender_confirmed_at=utcnow())
    make_ticket(customer_email="eero@example.com", subject="Eeron kysymys")
    make_ticket(customer_email=AINO, subject="Roskaa", inquiry_type="spam", sender_confirmed_at=utcnow())
    erased = make_ticket(customer_email=AINO, subject="Poistettu", sender_confirmed_at=utcnow())
    with app.app_context():
        session().get(Ticket, erased).anonymised_at = utcnow()
        commit()
    client = app.test_client()
    log_in(client, AINO)
    page = client.get("/tili/yhteydenotot").get_data(as_text=True)
    assert "Missä paketti?" in page and "Lasku" in page
    assert "Eeron kysymys" not in page and "Roskaa" not in page and "Poistettu" not in page
    assert f"/tili/yhteydenotot/{reference_of(app, by_mail)}" in page  # T-…, not the Message-ID
    assert client.get(f"/tili/yhteydenotot/{reference_of(app, by_mail)}").status_code == 200
    assert client.get(f"/tili/yhteydenotot/{reference_of(app, form)}").status_code == 200


def test_the_conversation_shows_replies_but_never_internal_notes(app, make_ticket) -> None:
    customer_factory(app)(AINO)
    ticket_id = make_ticket(customer_email=AINO, body="Missä tilaukseni on?", sender_confirmed_at=utcnow())
    with_messages(app, ticket_id, (MessageKind.AUTO, "Kiitos viestistäsi."),
                  (MessageKind.NOTE, "Asiakas soitti jo kahdesti, ärsyyntynyt"),
                  (MessageKind.REPLY, "Paketti on matkalla."))
    client = app.test_client()
    log_in(client, AINO)
    page = client.get(f"/tili/yhteydenotot/{reference_of(app, ticket_id)}").get_data(as_text=True)
    for text in ("Missä tilaukseni on?", "Kiitos viestistäsi.", "Paketti on matkalla."):
        assert text in page
    assert "ärsyyntynyt" not in page


def test_another_customers_inquiry_is_not_found(app, make_ticket) -> None:
    customer_factory(app)(AINO)
    theirs = make_ticket(customer_email="eero@example.com")
    client = app.test_client()
    log_in(client, AINO)
    url = f"/tili/yhteydenotot/{reference_of(app, theirs)}"
    assert client.get(url).status_code == 404
    assert client.post(url, data={"csrf_token": form_token(client, "/tili/yhteydenotot"),
                                  "message": "Minäkin!"}).status_code == 404
    assert client.get("/tili/yhteydenotot/T-999999").status_code == 404
    assert app.test_client().get(url).headers["Location"].startswith("/auth/login")


def test_adding_to_a_waiting_inquiry_opens_it_again(app, make_ticket) -> None:
    customer_factory(app)(AINO)
    ticket_id = make_ticket(customer_email=AINO, status=TicketStatus.WAITING, sender_confirmed_at=utcnow())
    client = app.test_client()
    log_in(client, AINO)
    url = f"/tili/yhteydenotot/{reference_of(app, ticket_id)}"
    empty = client.post(url, data={"csrf_token": form_token(client, url), "message": "  "})
    assert empty.status_code == 400
    assert translated(app, "Write your message.") in empty.get_data(as_text=True)
    r = client.post(url, data={"csrf_token": form_token(client, url), "message": "Tilausnumero on 100123."})
    assert r.status_code == 302
    with app.app_context():
        ticket = session().get(Ticket, ticket_id)
        assert ticket.status is TicketStatus.OPEN
        assert [m.body for m in ticket.messages if m.kind is MessageKind.CUSTOMER] == ["Tilausnumero on 100123."]
    assert "Tilausnumero on 100123." in client.get(url).get_data(as_text=True)


def test_the_customers_navigation_links_their_messages(app) -> None:
    customer_factory(app)(AINO)
    client = app.test_client()
    log_in(client, AINO)
    assert 'href="/tili/yhteydenotot"' in client.get("/auth/profile").get_data(as_text=True)
    with app.app_context():
        assert session().scalar(select(Ticket)) is None
    assert translated(app, "You have not written to customer service yet.") in \
        client.get("/tili/yhteydenotot").get_data(as_text=True)
