"""The agent workspace through the real log-in form: inbox, ticket page, presence, assignment, roles
and XSS. Replies, notes and the reply rules: tests/inquiries/test_agent_replies.py."""
from __future__ import annotations

import html as html_lib
import re

import pytest
from sqlalchemy import func, select

from kb.db import commit, session
from kb.models import (ArticleEvent, ArticleEventKind, Attachment, Macro, MessageKind, Order, Return, Role, Ticket,
                       TicketMessage, TicketStatus, TicketSuggestion, TicketViewer)
from kb.models.shop import ChannelKind
from kb.services.inquiries import inbox
from tests.support.agent_helpers import CUSTOMER, get_ticket, outbox, page_part, sign_in, suggest
from tests.support.auth_helpers import csrf_of, log_in
from tests.conftest import both_backends, translated
from tests.support.html_safety import script_risks
from tests.support.xss_payloads import PAYLOADS


# ---------- inbox

@both_backends
def test_inbox_filters_and_counts(app, client, agent, make_user, make_ticket) -> None:
    other = make_user("pekka@tupa.example", name="Pekka")
    make_ticket(subject="Uusi kysymys")
    make_ticket(subject="Minun tikettini", status=TicketStatus.OPEN, assignee_id=agent)
    make_ticket(subject="Pekan tiketti", status=TicketStatus.OPEN, assignee_id=other, channel=ChannelKind.EMAIL)
    make_ticket(subject="Odottaa asiakasta", status=TicketStatus.WAITING, language="sv", inquiry_type="payment")
    make_ticket(subject="VIHAINEN ASIAKAS", upset=True, channel=ChannelKind.CHAT)
    make_ticket(subject="Ratkaistu jo", status=TicketStatus.SOLVED)

    with app.app_context():
        counts = inbox.view_counts(session(), user_id=agent)
    assert counts == {**counts, "new": 2, "open": 2, "waiting": 1, "solved": 1, "closed": 0, "active": 5,
                      "mine": 1, "unassigned": 3, "upset": 1, "all": 6}

    html = client.get("/agent/").get_data(as_text=True)
    assert re.search(r'data-count="upset">1<', html) and re.search(r'data-count="mine">1<', html)
    table = page_part(html, '<table class="data inbox"', "</table>")
    assert "Ratkaistu jo" not in table  # default view: needs attention
    assert table.count('class="ticket-row') == 5
    assert 'class="ticket-row upset"' in table and "upset-mark" in table
    # oldest waiting first by default, newest first on request
    subjects = re.findall(r'/agent/tickets/\d+"[^>]*>([^<]+)<', table)
    assert subjects[0] == "VIHAINEN ASIAKAS" and subjects[-1] == "Uusi kysymys"
    newest = client.get("/agent/", query_string={"sort": "newest"}).get_data(as_text=True)
    assert re.findall(r'/agent/tickets/\d+"[^>]*>([^<]+)<', newest)[0] == "Uusi kysymys"

    def shown(**args) -> set[str]:
        page = client.get("/agent/", query_string=args)
        assert page.status_code == 200
        return set(re.findall(r'/agent/tickets/\d+"[^>]*>([^<]+)<', page.get_data(as_text=True)))

    assert shown(view="mine") == {"Minun tikettini"}
    assert shown(assignee="me") == {"Minun tikettini"}
    assert shown(assignee="unassigned") == {"Uusi kysymys", "Odottaa asiakasta", "VIHAINEN ASIAKAS"}
    assert shown(status="solved") == {"Ratkaistu jo"}
    assert shown(view="waiting") == {"Odottaa asiakasta"}
    assert shown(channel="email") == {"Pekan tiketti"}
    assert shown(language="sv") == {"Odottaa asiakasta"}
    assert shown(type="payment") == {"Odottaa asiakasta"}
    assert shown(view="upset") == {"VIHAINEN ASIAKAS"}
    assert shown(view="all") == shown(view="active") | {"Ratkaistu jo"}
    # nonsense in the query string is ignored, never an error
    assert shown(status="<x>", channel="fax", page="-3", sort="sideways") == shown()


def test_inbox_and_ticket_page_quote_the_same_reference(app, client, agent, make_ticket) -> None:
    from kb.models.shop import ChannelKind

    # an e-mail ticket's external id is the customer's Message-ID: both pages quote T- and its number
    ticket_id = make_ticket(channel=ChannelKind.EMAIL, external_id="<abc.123@mail.example>")
    reference = f"T-{ticket_id:06d}"
    inbox = client.get("/agent/").get_data(as_text=True)
    assert reference in inbox and "abc.123@mail.example" not in inbox
    assert reference in client.get(f"/agent/tickets/{ticket_id}").get_data(as_text=True)


def test_a_ticket_without_a_subject_is_titled_by_its_first_words(app, client, agent, make_ticket) -> None:
    from kb.models.shop import ChannelKind

    ticket_id = make_ticket(channel=ChannelKind.CHAT, subject="", inquiry_type=None,
                            body="Hei! Onko teillä lahjapaketointia tilauksiin?")
    html = client.get(f"/agent/tickets/{ticket_id}").get_data(as_text=True)
    heading = html.split("<h1>", 1)[1].split("</h1>", 1)[0]
    assert "Hei! Onko teillä lahjapaketointia tilauksiin?" in heading
    info = html.split('<p class="muted">', 1)[1].split("</p>", 1)[0]
    assert "· –" not in info and "–  ·" not in info  # no empty place for a type it does not have


def test_inbox_paginates(app, client, agent, make_ticket) -> None:
    for _ in range(27):
        make_ticket()
    first = client.get("/agent/").get_data(as_text=True)
    assert first.count('class="ticket-row') == 25 and 'rel="next"' in first
    second = client.get("/agent/", query_string={"page": 2}).get_data(as_text=True)
    assert second.count('class="ticket-row') == 2 and 'rel="prev"' in second


@both_backends
def test_take_and_assign_to_a_colleague(app, client, agent, make_user, make_ticket) -> None:
    colleague = make_user("pekka@tupa.example", name="Pekka")
    customer = make_user("asiakas@example.com", Role.CUSTOMER)
    ticket_id = make_ticket()
    page = client.get(f"/agent/tickets/{ticket_id}").get_data(as_text=True)
    token = csrf_of(page)
    r = client.post(f"/agent/tickets/{ticket_id}/take", data={"csrf_token": token})
    assert r.status_code == 302
    taken = get_ticket(app, ticket_id)
    assert taken.assignee_id == agent and taken.status is TicketStatus.OPEN and taken.version == 2
    assert "You have this ticket." in client.get(f"/agent/tickets/{ticket_id}").get_data(as_text=True)

    r = client.post(f"/agent/tickets/{ticket_id}/assign", data={"csrf_token": token, "assignee": str(colleague)})
    assert "Pekka has this ticket." in client.get(f"/agent/tickets/{ticket_id}").get_data(as_text=True)
    assert r.status_code == 302 and get_ticket(app, ticket_id).assignee_id == colleague
    # a customer cannot be given tickets; the assignment stays as it was
    client.post(f"/agent/tickets/{ticket_id}/assign", data={"csrf_token": token, "assignee": str(customer)})
    client.post(f"/agent/tickets/{ticket_id}/assign", data={"csrf_token": token, "assignee": "x"})
    assert get_ticket(app, ticket_id).assignee_id == colleague
    # numbers past PostgreSQL's integer range are refused like other bad values, never a 500
    r = client.post(f"/agent/tickets/{ticket_id}/assign", data={"csrf_token": token, "assignee": "2147483648"})
    assert r.status_code == 302 and get_ticket(app, ticket_id).assignee_id == colleague
    r = client.post(f"/agent/tickets/{ticket_id}/solve", data={"csrf_token": token, "version": "2147483648"})
    assert r.status_code == 400 and get_ticket(app, ticket_id).status is TicketStatus.OPEN
    client.post(f"/agent/tickets/{ticket_id}/assign", data={"csrf_token": token, "assignee": ""})
    assert get_ticket(app, ticket_id).assignee_id is None


# ---------- the ticket page

def test_ticket_page_shows_customer_context_and_suggestions(app, client, agent, make_ticket, create_order,
                                                          articles) -> None:
    old = create_order(CUSTOMER, status="delivered", delivered_days_ago=30)
    latest = create_order(CUSTOMER.upper(), status="shipped", delivered_days_ago=0)
    create_order("eero@example.com", status="packing")
    with app.app_context():
        order = session().scalar(select(Order).where(Order.number == old))
        session().add(Return(rma="RMA-12345", order_id=order.id, idempotency_key="k1", resolution="refund",
                             reason="wrong_size"))
        commit()
    earlier = make_ticket(subject="Aiempi kysymys", status=TicketStatus.SOLVED)
    make_ticket(subject="Toisen asiakkaan asia", customer_email="eero@example.com")
    ticket_id = make_ticket(language="en", subject="Where is my parcel?")
    suggest(app, ticket_id, (articles["fi"], 0.61), (articles["draft"], 0.40))

    html = client.get(f"/agent/tickets/{ticket_id}").get_data(as_text=True)
    customer = page_part(html, '<section id="customer"', "</section>")
    assert f"Order {latest}" in customer and 'data-order-status="shipped"' in customer
    assert "JJFI6437200000012345" in customer and "Posti" in customer and "Hämeenkatu 1" in customer
    assert "RMA-12345" in customer
    assert f"/agent/tickets/{earlier}" in customer and "Toisen asiakkaan asia" not in customer
    suggestions = page_part(html, '<section id="suggestions"', "</section>")
    assert "Possible match" in suggestions and "0.61" not in suggestions  # words, not a bare score
    assert "Luonnos" not in suggestions  # drafts are never offered
    # the ticket is in English: the English translation is what gets inserted and linked
    button = re.search(r'<button[^>]*class="secondary insert-answer"[^>]*>', suggestions).group(0)
    assert f'data-article-id="{articles["en"]}"' in button
    answer = html_lib.unescape(re.search(r'data-answer="([^"]*)"', button).group(1))
    assert answer.startswith("Follow your parcel") and answer.endswith("\nhttp://localhost/en/a/tracking-your-order")
    # viewing records the suggestions once per ticket, and the agent's presence
    client.get(f"/agent/tickets/{ticket_id}")
    with app.app_context():
        events = session().scalars(select(ArticleEvent).where(ArticleEvent.kind == ArticleEventKind.SUGGESTED)).all()
        assert [(e.article_id, e.ticket_id) for e in events] == [(articles["fi"], ticket_id)]
        assert session().scalar(select(func.count(TicketViewer.id))) == 1


def test_finnish_ticket_links_the_finnish_original(app, client, agent, make_ticket, articles) -> None:
    ticket_id = make_ticket(language="fi")
    suggest(app, ticket_id, (articles["en"], 0.5))
    html = client.get(f"/agent/tickets/{ticket_id}").get_data(as_text=True)
    assert re.search(r'data-answer="[^"]*\nhttp://localhost/fi/a/tilauksen-seuranta"', html)


def test_an_answer_and_its_translation_are_offered_once(app, client, agent, make_ticket, articles) -> None:
    # suggestions stored before translations counted as one answer: the original and its translation
    ticket_id = make_ticket(language="en")
    suggest(app, ticket_id, (articles["en"], 0.5), (articles["fi"], 0.4))
    html = client.get(f"/agent/tickets/{ticket_id}").get_data(as_text=True)
    suggestions = page_part(html, '<section id="suggestions"', "</section>")
    assert suggestions.count('class="secondary insert-answer"') == 1
    assert f'data-article-id="{articles["en"]}"' in suggestions


def test_conversation_shows_notes_differently_and_attachments_download(app, client, agent, make_ticket) -> None:
    ticket_id = make_ticket(body="Ensimmäinen viesti")
    with app.app_context():
        message = TicketMessage(ticket_id=ticket_id, kind=MessageKind.CUSTOMER, body="Tässä kuva")
        message.attachments = [Attachment(filename="kuva.png", content_type="image/png", size=4, data=b"\x89PNG"),
                               Attachment(filename="x.html", content_type="text/html", size=5, data=b"<b>x</b>")]
        session().add(message)
        session().add(TicketMessage(ticket_id=ticket_id, kind=MessageKind.NOTE, author_id=agent, body="Sisäinen"))
        commit()
        png, page_file = [a.id for a in message.attachments]
    html = client.get(f"/agent/tickets/{ticket_id}").get_data(as_text=True)
    conversation = page_part(html, '<section id="conversation"', "</section>")
    assert conversation.index("Ensimmäinen viesti") < conversation.index("Tässä kuva") < conversation.index("Sisäinen")
    assert re.search(r'class="notice message message-note"[^>]*>\s*<p class="small">\s*<strong>Internal note',
                     conversation)
    r = client.get(f"/agent/attachments/{png}")
    assert r.status_code == 200 and r.data == b"\x89PNG" and r.mimetype == "image/png"
    assert r.headers["Content-Disposition"].startswith("attachment") and "kuva.png" in r.headers["Content-Disposition"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    risky = client.get(f"/agent/attachments/{page_file}")
    assert risky.mimetype == "application/octet-stream" and "sandbox" in risky.headers["Content-Security-Policy"]
    assert client.get("/agent/attachments/999999").status_code == 404


# ---------- roles

ROUTES = [("GET", "/agent/"), ("GET", "/agent/tickets/{id}"), ("GET", "/agent/tickets/{id}/presence"),
          ("GET", "/agent/attachments/{att}"), ("POST", "/agent/tickets/{id}/reply"),
          ("POST", "/agent/tickets/{id}/note"), ("POST", "/agent/tickets/{id}/solve"),
          ("POST", "/agent/tickets/{id}/close"), ("POST", "/agent/tickets/{id}/reopen"),
          ("POST", "/agent/tickets/{id}/take"), ("POST", "/agent/tickets/{id}/assign")]


def test_every_agent_route_is_in_the_role_table(app) -> None:
    """A new agent route fails here until it is added to ROUTES (and so to the role tests)."""
    adapter = app.url_map.bind("localhost")
    covered = {adapter.match(url.format(id=1, att=1), method=method)[0] for method, url in ROUTES}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("agent."):
            assert rule.endpoint in covered, rule
            assert getattr(app.view_functions[rule.endpoint], "allowed_roles", None) == (Role.AGENT,), rule


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.EDITOR, None])
def test_other_roles_and_guests_are_kept_out(app, client, make_user, make_ticket, role) -> None:
    ticket_id = make_ticket()
    with app.app_context():
        message = TicketMessage(ticket_id=ticket_id, kind=MessageKind.CUSTOMER, body="x")
        message.attachments = [Attachment(filename="a.txt", content_type="text/plain", size=1, data=b"a")]
        session().add(message)
        commit()
        att = message.attachments[0].id
    if role is not None:
        make_user("someone@example.com", role)
        sign_in(client, "someone@example.com")
    token = csrf_of(client.get("/auth/login").get_data(as_text=True)) if role is None else \
        csrf_of(client.get("/auth/profile").get_data(as_text=True))
    for method, url in ROUTES:
        url = url.format(id=ticket_id, att=att)
        r = client.get(url) if method == "GET" else client.post(url, data={"csrf_token": token, "version": "1",
                                                                           "body": "x", "note": "x"})
        if role is None:
            assert r.status_code == 302 and r.headers["Location"].startswith("/auth/login"), (url, r.status_code)
        else:
            assert r.status_code == 403, (url, r.status_code)
    ticket = get_ticket(app, ticket_id)
    assert ticket.version == 1 and ticket.assignee_id is None and outbox(app) == []


def test_admins_may_work_tickets(app, client, make_user, make_ticket) -> None:
    make_user("admin@tupa.example", Role.ADMIN)
    sign_in(client, "admin@tupa.example")
    assert client.get("/agent/").status_code == 200
    assert client.get(f"/agent/tickets/{make_ticket()}").status_code == 200


# ---------- XSS

def test_customer_fields_never_run_script_on_agent_pages(app, client, agent, make_ticket) -> None:
    for n, payload in enumerate(PAYLOADS):
        make_ticket(subject=payload[:300], body=payload, customer_name=payload[:120],
                    customer_email=f"x{n}@example.com", upset=bool(n % 2))
    ticket_id = make_ticket(subject=PAYLOADS[0], body="\n\n".join(PAYLOADS), customer_name=PAYLOADS[2],
                            customer_email='"<script>alert(1)</script>"@example.com')
    with app.app_context():
        session().add(TicketMessage(ticket_id=ticket_id, kind=MessageKind.CUSTOMER, body="\n".join(PAYLOADS)))
        commit()
    inbox_html = client.get("/agent/", query_string={"view": "all", "page": 1}).get_data(as_text=True)
    table = page_part(inbox_html, '<table class="data inbox"', "</table>")
    assert table.count('class="ticket-row') == 25
    assert script_risks(table) == []
    rows = 25
    for page in (2, 3):  # 59 tickets, 25 a page
        more = client.get("/agent/", query_string={"view": "all", "page": page}).get_data(as_text=True)
        table = page_part(more, '<table class="data inbox"', "</table>")
        rows += table.count('class="ticket-row')
        assert script_risks(table) == []
    assert rows == len(PAYLOADS) + 1
    html = client.get(f"/agent/tickets/{ticket_id}").get_data(as_text=True)
    assert script_risks(page_part(html, "<h1>", "</h1>")) == []
    assert script_risks(page_part(html, '<section id="conversation"', "</section>")) == []
    assert script_risks(page_part(html, '<section id="customer"', "</section>")) == []
    assert html.count("<script") == 2  # the site's script and agent.js, both in <head>


# ---------- the demo shop

def test_demo_agent_works_the_inbox(demo_app, demo_client) -> None:
    from kb.services.shop.demo import DEMO_STAFF_PASSWORD

    r = log_in(demo_client, "agent@tupa.example", DEMO_STAFF_PASSWORD)
    assert r.status_code == 302
    html = demo_client.get("/agent/", query_string={"view": "all"}).get_data(as_text=True)
    ticket_ids = re.findall(r'href="/agent/tickets/(\d+)"', html)
    assert len(ticket_ids) == 25
    with demo_app.app_context():
        with_suggestions = session().scalar(select(TicketSuggestion.ticket_id).limit(1))
        language = session().get(Ticket, with_suggestions).language
        macros = session().scalars(select(Macro.title).where(Macro.language == language)).all()
    page = demo_client.get(f"/agent/tickets/{with_suggestions}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    labels = (translated(demo_app, "Good match"), translated(demo_app, "Possible match"))
    assert any(label in text for label in labels) and 'class="secondary insert-answer"' in text
    assert macros and all(html_lib.escape(title) in text for title in macros)
