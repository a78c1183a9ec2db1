"""Pages with personal data are never kept by browsers or shared caches (ASVS 8.2.1).

Generated from the URL map, like the access tests in tests/web/test_routes.py: every blueprint is
either PRIVATE (its pages show someone's orders, messages, account or the shop's staff data: each
GET answers ``Cache-Control: no-store``, never ``public``, whoever asks) or SHARED (the public help
center and its API, which may be cached for anonymous readers). A new blueprint fails the first
test until it is put in one of the two.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from kb.db import commit, session, utcnow
from kb.models import (Article, ArticleRevision, Attachment, Channel, ChannelKind, MessageKind, Role,
                       Ticket, TicketMessage)
from tests.support.auth_helpers import PASSWORD, create_account, sign_in
from tests.support.route_helpers import fill

PRIVATE = {"account", "order_links", "auth", "two_step", "my_data", "sessions", "inquiries", "contact", "agent", "editor",
           "admin"}
SHARED = {"help", "api", "api_shop", "static", "root", "favicon"}
#: Private GET pages that answer no page of their own here (the header is checked all the same):
#: links with a one-time mailed token (a made-up one gets 404), the second log-in step and the
#: contact form's confirmation (only in the middle of their flows), and redirects to a sub-page.
NOT_A_PAGE_HERE = {"auth.reset_password", "auth.verify_email", "contact.survey", "contact.solved",
                   "two_step.verify", "contact.sent", "contact.open_article", "editor.home", "admin.index",
                   "contact.confirm_sender", "order_links.open_link"}
QUERY = {"admin.dashboard_csv": "?table=summary"}
CUSTOMER = "aino@example.com"


def blueprint(endpoint: str) -> str:
    return endpoint.split(".", 1)[0]


def cache_directives(response) -> set[str]:
    return {part.strip().lower() for part in response.headers.get("Cache-Control", "").split(",") if part.strip()}


def test_every_blueprint_is_private_or_shared(app) -> None:
    unknown = sorted({blueprint(rule.endpoint) for rule in app.url_map.iter_rules()} - PRIVATE - SHARED)
    assert unknown == []


@pytest.fixture
def everyone(app, create_order, create_article, make_ticket) -> tuple[dict, dict[str, str]]:
    """A customer with an order, a return and an inquiry; an agent, an editor and an admin, each logged in;
    the URL values naming their objects."""
    from kb.services.orders import rules as order_rules, returns as return_rules

    number = create_order(CUSTOMER)
    article_id = create_article()
    ticket_id = make_ticket(customer_email=CUSTOMER, created_at=utcnow() - timedelta(hours=1))
    with app.app_context():
        db = session()
        order = order_rules.customer_order(db, number, email=CUSTOMER)
        registered = return_rules.register_return(db, order, return_rules.ReturnRequest(
            lines={order.lines[0].id: 1}, reason="faulty", resolution="refund", comment="",
            idempotency_key="c" * 24), now=utcnow())
        message = TicketMessage(ticket_id=ticket_id, kind=MessageKind.CUSTOMER, body="Liite")
        message.attachments = [Attachment(filename="kuitti.pdf", content_type="application/pdf", size=4,
                                          data=b"%PDF")]
        db.add(message)
        db.get(Ticket, ticket_id).sender_confirmed_at = utcnow()  # proven: it shows in the customer's My messages
        revision = ArticleRevision(article_id=article_id, title="Toimitusajat", body="x", status="published")
        channel = Channel(kind=ChannelKind.EMAIL, labels={"fi": "Sähköposti"})
        db.add_all([revision, channel])
        commit()
        ticket_ref = db.get(Ticket, ticket_id).external_id
        values = {"number": number, "rma": registered.rma, "line_id": str(order.lines[0].id), "lang": "fi",
                  "ticket_id": str(ticket_id), "attachment_id": str(message.attachments[0].id),
                  "article_id": str(article_id), "revision_id": str(revision.id), "channel_id": str(channel.id),
                  "ref": ticket_ref, "reference": ticket_ref, "slug": db.get(Article, article_id).slug,
                  "token": "x" * 40, "filename": "x"}
    clients = {}
    for role, email in [(Role.CUSTOMER, CUSTOMER), (Role.AGENT, "agent@tupa.example"),
                        (Role.EDITOR, "editor@tupa.example"), (Role.ADMIN, "admin@tupa.example")]:
        create_account(app, email, role, password=PASSWORD)
        clients[role] = app.test_client()
        sign_in(clients[role], email)
    clients[None] = app.test_client()  # a guest
    return clients, values


def reader(endpoint: str) -> Role:
    """Who may open the page: staff areas their role, the rest the customer."""
    return {"agent": Role.AGENT, "editor": Role.EDITOR, "admin": Role.ADMIN}.get(blueprint(endpoint), Role.CUSTOMER)


def test_private_pages_are_never_stored_whoever_asks(app, everyone) -> None:
    """Each private GET page, to the user it is for and to a guest (who gets a redirect to log in,
    a 404, or the page if it is for guests): ``no-store`` and never ``public``."""
    clients, values = everyone
    opened = set()
    for rule in app.url_map.iter_rules():
        if blueprint(rule.endpoint) not in PRIVATE or "GET" not in rule.methods:
            continue
        number = values["number"]
        url = fill(rule, {**values, "number": f"L{number}" if rule.endpoint.startswith("account.invoice") else number})
        url += QUERY.get(rule.endpoint, "")
        for role in (reader(rule.endpoint), None):
            response = clients[role].get(url)
            directives = cache_directives(response)
            assert "no-store" in directives and "public" not in directives, (url, role, response.status_code,
                                                                              directives)
            if response.status_code == 200:
                opened.add(rule.endpoint)
    private_pages = {rule.endpoint for rule in app.url_map.iter_rules()
                     if blueprint(rule.endpoint) in PRIVATE and "GET" in rule.methods}
    # the check saw the real pages, not only log-in redirects and 404s
    assert private_pages - NOT_A_PAGE_HERE - opened == set()
