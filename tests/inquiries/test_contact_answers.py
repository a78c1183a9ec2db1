"""What the confirmation promises: articles only when the suggester is confident (otherwise an
agent answers, and when), and "this solved my question" only while nobody has written since."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from kb.db import commit, session, utcnow
from kb.models import ArticleEvent, ArticleEventKind, MessageKind, Ticket, TicketMessage, TicketStatus
from tests.conftest import both_backends, translated
from tests.support.contact_helpers import EN, outbox
from tests.support.html_forms import csrf_token
from tests.support.contact_helpers import STATED, form_data, send, shop  # noqa: F401  (shop is a fixture)

AGENT_ANSWERS = "A customer service agent will read your message and answer you."


def test_without_a_confident_suggestion_the_confirmation_says_an_agent_answers(app, client, shop) -> None:
    r = send(client, form_data(subject="Lahjapaketointi", message="Voitteko paketoida tilauksen lahjaksi ja "
                                                                  "lisätä mukaan kortin isoäidille?"))
    with app.app_context():
        ticket = session().scalar(select(Ticket))
        assert not ticket.suggestion_confident
        language = ticket.language
    html = client.get(r.headers["Location"], headers=EN).get_data(as_text=True)
    assert 'class="article-list offers"' not in html and "/yhteydenotto/ratkaistu/" not in html
    panel = html.split('aria-labelledby="reference-title"', 1)[1].split("</section>", 1)[0]
    assert AGENT_ANSWERS in panel and STATED in panel  # who answers, and the honest time
    body = outbox(app)[0].get_content()
    assert translated(app, AGENT_ANSWERS, language) in body and STATED in body
    assert "/yhteydenotto/ratkaistu/" not in body


def test_with_a_confident_suggestion_the_articles_are_offered(app, client, shop) -> None:
    r = send(client, form_data(message="How long does the delivery take to Tampere?"))
    with app.app_context():
        assert session().scalar(select(Ticket.suggestion_confident))
    html = client.get(r.headers["Location"], headers=EN).get_data(as_text=True)
    assert 'class="article-list offers"' in html and AGENT_ANSWERS not in html


def solved_link(app, client, create_order) -> tuple[str, int]:
    number = create_order("aino@example.com", status="delivered")
    r = send(client, form_data(order_number=number, message="Voinko perua tilaukseni?"))
    html = client.get(r.headers["Location"], headers=EN).get_data(as_text=True)
    with app.app_context():
        ticket_id = session().scalar(select(Ticket.id))
    return re.search(r'href="(/yhteydenotto/ratkaistu/[^"]+)"', html).group(1), ticket_id


def add_message(app, ticket_id: int, kind: MessageKind, body: str) -> None:
    with app.app_context():
        session().add(TicketMessage(ticket_id=ticket_id, kind=kind, body=body, created_at=utcnow()))
        commit()


def assert_still_open(app, ticket_id: int) -> None:
    with app.app_context():
        assert session().get(Ticket, ticket_id).status not in (TicketStatus.SOLVED, TicketStatus.CLOSED)
        assert session().scalar(select(func.count(ArticleEvent.id))
                                .where(ArticleEvent.kind == ArticleEventKind.SOLVED)) == 0


@both_backends
def test_this_solved_it_leaves_a_ticket_an_agent_has_answered_open(app, client, shop, create_order) -> None:
    link, ticket_id = solved_link(app, client, create_order)
    page = client.get(link, headers=EN).get_data(as_text=True)
    token = csrf_token(page)  # the customer opened the link before the agent's answer came
    add_message(app, ticket_id, MessageKind.REPLY, "Hei! Tilaus on jo toimitettu, joten perua ei voi.")
    r = client.post(link, data={"csrf_token": token}, headers=EN)
    html = r.get_data(as_text=True)
    assert r.status_code == 409 and "Your inquiry stays open" in html
    assert "Customer service has already answered your inquiry" in html
    assert_still_open(app, ticket_id)
    again = client.get(link, headers=EN).get_data(as_text=True)
    assert "Your inquiry stays open" in again and "Yes, close my inquiry" not in again


def test_this_solved_it_leaves_a_ticket_the_customer_wrote_to_open(app, client, shop, create_order) -> None:
    link, ticket_id = solved_link(app, client, create_order)
    add_message(app, ticket_id, MessageKind.CUSTOMER, "Lisäksi: toinen tuote puuttui paketista.")
    page = client.get(link, headers=EN)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Yes, close my inquiry" not in html
    assert "since our automatic answer, so we keep the inquiry open" in html
    assert client.post(link, data={"csrf_token": csrf_token(client.get("/yhteydenotto", headers=EN)
                                                            .get_data(as_text=True))}).status_code == 409
    assert_still_open(app, ticket_id)


def test_an_internal_note_does_not_keep_the_ticket_open(app, client, shop, create_order) -> None:
    link, ticket_id = solved_link(app, client, create_order)
    add_message(app, ticket_id, MessageKind.NOTE, "Asiakas kysyy perumisesta.")
    page = client.get(link, headers=EN).get_data(as_text=True)
    assert client.post(link, data={"csrf_token": csrf_token(page)}).status_code == 200
    with app.app_context():
        assert session().get(Ticket, ticket_id).status == TicketStatus.SOLVED
