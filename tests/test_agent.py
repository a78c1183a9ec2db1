"""The agent workspace through the real log-in form: inbox, ticket page, replies, notes, presence,
assignment, roles, CSRF and XSS; and the reply rules of kb.services.replies directly."""
from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kb.db import commit, session, utcnow
from kb.models import (ArticleEvent, ArticleEventKind, ArticleStatus, Attachment, LinkSource, Macro, MessageKind,
                       Order, Return, Role, Ticket, TicketArticleLink, TicketMessage, TicketStatus, TicketSuggestion,
                       TicketViewer, User)
from kb.models.shop import ChannelKind
from kb.services import inbox, replies
from kb.services.mail import read_outbox
from kb.services.users import create_user
from tests.conftest import both_backends, translated
from tests.html_safety import script_risks
from tests.test_auth import csrf_of, log_in
from tests.xss_payloads import PAYLOADS

PASSWORD = "correct horse battery"
CUSTOMER = "aino@example.com"


# ---------- helpers

@pytest.fixture
def make_user(app):
    """Factory: a committed user of ``role``; returns the id."""
    def make(email: str, role: Role = Role.AGENT, *, name: str = "") -> int:
        with app.app_context():
            user = create_user(session(), email, role=role, password=PASSWORD, name=name, language="en",
                               now=utcnow())
            commit()
            return user.id
    return make


@pytest.fixture
def make_ticket(app):
    """Factory: a committed ticket (defaults: a Finnish form inquiry from Aino); returns the id."""
    counter = iter(range(1, 10_000))

    def make(**fields) -> int:
        n = next(counter)
        values = {"external_id": f"T-{n:06d}", "channel": ChannelKind.FORM, "subject": f"Kysymys {n}",
                  "body": "Missä pakettini on?", "language": "fi", "customer_email": CUSTOMER,
                  "customer_name": "Aino Virtanen", "inquiry_type": "delivery",
                  "created_at": utcnow() - timedelta(hours=n)}
        values.update(fields)
        with app.app_context():
            ticket = Ticket(**values)
            session().add(ticket)
            commit()
            return ticket.id
    return make


def sign_in(client, email: str) -> None:
    r = log_in(client, email, PASSWORD)
    assert r.status_code == 302, r.get_data(as_text=True)


@pytest.fixture
def agent(app, client, make_user):
    """A logged-in agent (Liisa); returns her id."""
    user_id = make_user("liisa@tupa.example", name="Liisa")
    sign_in(client, "liisa@tupa.example")
    return user_id


def outbox(app) -> list:
    return read_outbox(Path(app.instance_path) / "outbox")


def surveys_installed(app) -> bool:
    """The survey service and its public page ship with the contact form (built alongside)."""
    try:
        import kb.services.surveys  # noqa: F401
    except ImportError:
        return False
    return "contact.survey" in app.view_functions


def page_part(html: str, start: str, end: str) -> str:
    return html.split(start, 1)[1].split(end, 1)[0]


def get_ticket(app, ticket_id: int) -> Ticket:
    with app.app_context():
        return session().get(Ticket, ticket_id)


def version_of(html: str) -> str:
    return re.search(r'name="version" value="(\d+)"', html).group(1)


def post_reply(client, ticket_id: int, body: str, *, page: str | None = None, **extra):
    page = page if page is not None else client.get(f"/agent/tickets/{ticket_id}").get_data(as_text=True)
    data = {"csrf_token": csrf_of(page), "version": version_of(page), "body": body, **extra}
    return client.post(f"/agent/tickets/{ticket_id}/reply", data=data)


@pytest.fixture
def articles(app, create_article):
    """A Finnish original with an English translation, and a draft; returns their ids."""
    fi = create_article(slug="tilauksen-seuranta", title="Tilauksen seuranta",
                        body="Seuraa pakettia **seurantakoodilla** Postin sivuilla. " * 10)
    en = create_article(slug="tracking-your-order", title="Tracking your order", language="en",
                        body="Follow your parcel with the tracking code on the carrier's site. " * 10,
                        translation_of="tilauksen-seuranta")
    draft = create_article(slug="luonnos", title="Luonnos", body="Ei vielä julki.", status=ArticleStatus.DRAFT)
    return {"fi": fi, "en": en, "draft": draft}


def suggest(app, ticket_id: int, *pairs: tuple[int, float]) -> None:
    with app.app_context():
        for rank, (article_id, score) in enumerate(pairs, 1):
            session().add(TicketSuggestion(ticket_id=ticket_id, article_id=article_id, rank=rank, score=score))
        commit()


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
    subjects = re.findall(r'/agent/tickets/\d+">([^<]+)<', table)
    assert subjects[0] == "VIHAINEN ASIAKAS" and subjects[-1] == "Uusi kysymys"
    newest = client.get("/agent/", query_string={"sort": "newest"}).get_data(as_text=True)
    assert re.findall(r'/agent/tickets/\d+">([^<]+)<', newest)[0] == "Uusi kysymys"

    def shown(**args) -> set[str]:
        page = client.get("/agent/", query_string=args)
        assert page.status_code == 200
        return set(re.findall(r'/agent/tickets/\d+">([^<]+)<', page.get_data(as_text=True)))

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
    assert "Liisa has this ticket" in client.get(f"/agent/tickets/{ticket_id}").get_data(as_text=True)

    r = client.post(f"/agent/tickets/{ticket_id}/assign", data={"csrf_token": token, "assignee": str(colleague)})
    assert r.status_code == 302 and get_ticket(app, ticket_id).assignee_id == colleague
    # a customer cannot be given tickets; the assignment stays as it was
    client.post(f"/agent/tickets/{ticket_id}/assign", data={"csrf_token": token, "assignee": str(customer)})
    client.post(f"/agent/tickets/{ticket_id}/assign", data={"csrf_token": token, "assignee": "x"})
    assert get_ticket(app, ticket_id).assignee_id == colleague
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
    assert "score 0.61" in suggestions
    assert "Luonnos" not in suggestions  # drafts are never offered
    # the ticket is in English: the English translation is what gets inserted and linked
    button = re.search(r'<button[^>]*class="secondary insert-answer"[^>]*>', suggestions).group(0)
    assert f'data-article-id="{articles["en"]}"' in button
    assert 'data-url="http://localhost/en/a/tracking-your-order"' in button
    excerpt = html_lib.unescape(re.search(r'data-excerpt="([^"]*)"', button).group(1))
    assert excerpt.startswith("Follow your parcel") and len(excerpt) <= 201
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
    assert 'data-url="http://localhost/fi/a/tilauksen-seuranta"' in html


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


# ---------- replies

@both_backends
def test_reply_with_linked_answer_is_mailed_and_recorded(app, client, agent, make_ticket, articles) -> None:
    ticket_id = make_ticket(language="en", subject="Where is my parcel?")
    suggest(app, ticket_id, (articles["fi"], 0.7))
    linked = f'{articles["en"]},{articles["draft"]},987654,abc'
    r = post_reply(client, ticket_id, "Hello Aino,\n\nsee http://localhost/en/a/tracking-your-order", linked=linked)
    assert r.status_code == 302
    ticket = get_ticket(app, ticket_id)
    assert ticket.status is TicketStatus.WAITING and ticket.first_response_at is not None and ticket.version == 2
    with app.app_context():
        links = session().scalars(select(TicketArticleLink)).all()
        assert [(l.article_id, l.source, l.linked_by_id) for l in links] == [(articles["en"], LinkSource.AGENT, agent)]
        inserted = session().scalars(select(ArticleEvent.article_id)
                                     .where(ArticleEvent.kind == ArticleEventKind.INSERTED)).all()
        assert inserted == [articles["en"]]
        reply = session().scalar(select(TicketMessage).where(TicketMessage.ticket_id == ticket_id))
        assert reply.kind is MessageKind.REPLY and reply.author_id == agent
    mails = outbox(app)
    assert len(mails) == 1 and mails[0]["To"] == CUSTOMER
    assert mails[0]["Subject"] == f"Re: Where is my parcel? [{ticket.external_id}]"
    assert "tracking-your-order" in mails[0].get_content()
    first = ticket.first_response_at
    # a second reply keeps the first response time
    post_reply(client, ticket_id, "One more thing.")
    assert get_ticket(app, ticket_id).first_response_at == first


def test_forged_linked_ids_create_no_links(app, client, agent, make_ticket, articles) -> None:
    ticket_id = make_ticket()
    r = post_reply(client, ticket_id, "Vastaus", linked=f'{articles["draft"]} 0 -1 99999999999999 <script>')
    assert r.status_code == 302
    with app.app_context():
        assert session().scalar(select(func.count(TicketArticleLink.id))) == 0
        assert session().scalar(select(func.count(ArticleEvent.id))
                                .where(ArticleEvent.kind == ArticleEventKind.INSERTED)) == 0


@both_backends
def test_stale_reply_is_refused_and_the_draft_kept(app, client, agent, make_user, make_ticket) -> None:
    make_user("pekka@tupa.example", name="Pekka")
    ticket_id = make_ticket()
    page_a = client.get(f"/agent/tickets/{ticket_id}").get_data(as_text=True)
    colleague = app.test_client()
    sign_in(colleague, "pekka@tupa.example")
    # Liisa is shown to Pekka as viewing the ticket
    page_b = colleague.get(f"/agent/tickets/{ticket_id}").get_data(as_text=True)
    assert "Also viewing now: Liisa" in page_b
    presence = colleague.get(f"/agent/tickets/{ticket_id}/presence").get_json()
    assert presence["version"] == 1 and [v["name"] for v in presence["viewers"]] == ["Liisa"]
    assert post_reply(colleague, ticket_id, "Pekan vastaus", page=page_b).status_code == 302
    assert client.get(f"/agent/tickets/{ticket_id}/presence").get_json()["version"] == 2

    r = post_reply(client, ticket_id, "Liisan luonnos <b>", page=page_a, linked="5")
    assert r.status_code == 409
    html = r.get_data(as_text=True)
    assert 'role="alert"' in html and "your draft is kept" in html
    assert "Liisan luonnos &lt;b&gt;</textarea>" in html  # the draft, as text
    assert "Pekan vastaus" in page_part(html, '<section id="conversation"', "</section>")  # the news
    assert version_of(html) == "2"
    with app.app_context():
        bodies = session().scalars(select(TicketMessage.body).where(TicketMessage.ticket_id == ticket_id)).all()
        assert bodies == ["Pekan vastaus"]
    assert len(outbox(app)) == 1


def test_empty_reply_is_refused_with_a_message(app, client, agent, make_ticket) -> None:
    ticket_id = make_ticket()
    r = post_reply(client, ticket_id, "   ")
    assert r.status_code == 400 and "Write a message first." in r.get_data(as_text=True)
    assert outbox(app) == []


def test_notes_are_never_mailed(app, client, agent, make_ticket) -> None:
    ticket_id = make_ticket()
    page = client.get(f"/agent/tickets/{ticket_id}").get_data(as_text=True)
    r = client.post(f"/agent/tickets/{ticket_id}/note", data={"csrf_token": csrf_of(page), "note": "Soitin asiakkaalle"})
    assert r.status_code == 302
    assert outbox(app) == []
    ticket = get_ticket(app, ticket_id)
    assert ticket.version == 1 and ticket.first_response_at is None
    with app.app_context():
        note = session().scalar(select(TicketMessage).where(TicketMessage.ticket_id == ticket_id))
        assert note.kind is MessageKind.NOTE and note.body == "Soitin asiakkaalle"


@both_backends
def test_solve_records_handling_time_and_sends_the_survey(app, client, agent, make_ticket) -> None:
    ticket_id = make_ticket(created_at=utcnow() - timedelta(hours=3))
    page = client.get(f"/agent/tickets/{ticket_id}").get_data(as_text=True)
    r = client.post(f"/agent/tickets/{ticket_id}/solve", data={"csrf_token": csrf_of(page), "version": version_of(page)})
    assert r.status_code == 302
    ticket = get_ticket(app, ticket_id)
    assert ticket.status is TicketStatus.SOLVED and ticket.solved_at is not None
    html = client.get(f"/agent/tickets/{ticket_id}").get_data(as_text=True)
    assert re.search(r"data-handling-time>3 h 0 min<", html)
    if surveys_installed(app):
        assert len(outbox(app)) == 1 and outbox(app)[0]["To"] == CUSTOMER
    else:
        assert outbox(app) == []
    # close, then reopen; a stale status change is refused
    page = client.get(f"/agent/tickets/{ticket_id}").get_data(as_text=True)
    client.post(f"/agent/tickets/{ticket_id}/close", data={"csrf_token": csrf_of(page), "version": version_of(page)})
    assert get_ticket(app, ticket_id).status is TicketStatus.CLOSED
    r = client.post(f"/agent/tickets/{ticket_id}/reopen", data={"csrf_token": csrf_of(page), "version": version_of(page)})
    assert r.status_code == 409 and get_ticket(app, ticket_id).status is TicketStatus.CLOSED


def test_macros_in_the_ticket_language_are_offered(app, client, agent, make_ticket) -> None:
    with app.app_context():
        session().add_all([Macro(title="Kiitos", language="fi", body="Kiitos viestistäsi!\nTerveisin"),
                           Macro(title="Thanks", language="en", body="Thank you")])
        commit()
    html = client.get(f"/agent/tickets/{make_ticket(language='fi')}").get_data(as_text=True)
    assert 'data-body="Kiitos viestistäsi!\nTerveisin"' in html and "Thank you" not in html


def test_csrf_missing_on_reply_is_400(app, client, agent, make_ticket) -> None:
    ticket_id = make_ticket()
    r = client.post(f"/agent/tickets/{ticket_id}/reply", data={"version": "1", "body": "Hei"})
    assert r.status_code == 400
    assert outbox(app) == [] and get_ticket(app, ticket_id).version == 1


def test_unknown_ticket_is_404(client, agent) -> None:
    assert client.get("/agent/tickets/424242").status_code == 404
    assert client.get("/agent/tickets/424242/presence").status_code == 404


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
    for page in (2, 3):
        more = client.get("/agent/", query_string={"view": "all", "page": page}).get_data(as_text=True)
        if '<table class="data inbox"' in more:
            assert script_risks(page_part(more, '<table class="data inbox"', "</table>")) == []
    html = client.get(f"/agent/tickets/{ticket_id}").get_data(as_text=True)
    assert script_risks(page_part(html, "<h1>", "</h1>")) == []
    assert script_risks(page_part(html, '<section id="conversation"', "</section>")) == []
    assert script_risks(page_part(html, '<section id="customer"', "</section>")) == []
    assert html.count("<script") == 2  # the site's script and agent.js, both in <head>


# ---------- the reply rules, without the web layer

@pytest.fixture
def rules(app, make_user, make_ticket):
    """(session, agent, ticket, mail config) inside an app context."""
    agent_id = make_user("liisa@tupa.example", name="Liisa")
    ticket_id = make_ticket()
    with app.test_request_context():  # the survey e-mail links to the public site
        db = session()
        yield db, db.get(User, agent_id), db.get(Ticket, ticket_id), {
            "MAIL_DEFAULT_SENDER": "Tupa <asiakaspalvelu@tupa.example>",
            "MAIL_OUTBOX": str(Path(app.instance_path) / "outbox")}


@both_backends
def test_send_reply_refuses_a_stale_version(app, rules) -> None:
    db, agent, ticket, mail = rules
    now = utcnow()
    replies.send_reply(db, ticket, "Ensimmäinen", by=agent, now=now, expected_version=1, mail_config=mail)
    assert ticket.version == 2 and ticket.first_response_at == now
    with pytest.raises(replies.StaleTicket) as refused:
        replies.send_reply(db, ticket, "Toinen", by=agent, now=now, expected_version=1, mail_config=mail)
    assert refused.value.current == 2
    db.flush()
    assert db.scalar(select(func.count(TicketMessage.id))) == 1 and len(outbox(app)) == 1


def test_send_reply_rules(app, rules) -> None:
    db, agent, ticket, mail = rules
    now = utcnow()
    with pytest.raises(Exception) as empty:
        replies.send_reply(db, ticket, " \n ", by=agent, now=now, expected_version=1, mail_config=mail)
    assert getattr(empty.value, "field", None) == "body"
    with pytest.raises(Exception) as bad_status:
        replies.send_reply(db, ticket, "Hei", by=agent, now=now, expected_version=1, mail_config=mail,
                           status_after=TicketStatus.CLOSED)
    assert getattr(bad_status.value, "field", None) == "status_after"
    assert ticket.version == 1
    replies.send_reply(db, ticket, "Hei", by=agent, now=now, expected_version=1, mail_config=mail,
                       status_after=TicketStatus.SOLVED)
    assert ticket.status is TicketStatus.SOLVED and ticket.solved_at == now
    assert replies.handling_time(ticket) == now - ticket.created_at


def test_mail_failure_stores_nothing(app, rules) -> None:
    db, agent, ticket, mail = rules
    with pytest.raises(replies.ReplyNotSent):
        replies.send_reply(db, ticket, "Hei", by=agent, now=utcnow(), expected_version=1,
                           mail_config={"MAIL_DEFAULT_SENDER": "x@tupa.example"})  # no server, no outbox
    db.rollback()
    assert db.get(Ticket, ticket.id).version == 1
    assert db.scalar(select(func.count(TicketMessage.id))) == 0


def test_reply_subject_without_a_subject_uses_the_first_words(app, rules) -> None:
    _db, _agent, ticket, _mail = rules
    ticket.subject, ticket.body = "", "Paketti ei ole tullut perille vieläkään, mitä teen?"
    assert replies.reply_subject(ticket) == f"Re: Paketti ei ole tullut perille vieläkään, mitä teen? [{ticket.external_id}]"
    ticket.subject = "Re: vanha"
    assert replies.reply_subject(ticket).startswith("Re: vanha [")


# ---------- the demo shop

def test_demo_agent_works_the_inbox(demo_app, demo_client) -> None:
    from kb.services.demo import DEMO_STAFF_PASSWORD

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
    score = re.escape(translated(demo_app, "score %(score)s", score="\0")).replace("\0", r"\d[.,]\d\d")
    assert re.search(score, text) and 'class="secondary insert-answer"' in text
    assert macros and all(html_lib.escape(title) in text for title in macros)
