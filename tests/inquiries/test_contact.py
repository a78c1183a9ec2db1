"""The contact form through the Flask client: tickets, attachments, spam, rate limits,
the order-state signal, "this solved it" and deflection. The survey: tests/inquiries/test_contact_survey.py."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kb import create_app
from kb.db import commit, database, session, utcnow
from kb.models import (ArticleEvent, ArticleEventKind, Attachment, ChannelKind, MessageKind, Role, Ticket,
                       TicketStatus)
from kb.services.inquiries import intake
from kb.services.accounts.users import create_user
from tests.support.auth_helpers import PASSWORD, sign_in
from tests.conftest import _config, both_backends, translated
from tests.support.contact_helpers import EN, STATED, form_data, outbox, send, shop  # noqa: F401 (shop: a fixture)
from tests.support.html_safety import script_risks
from tests.support.html_forms import csrf_token
from tests.support.xss_payloads import PAYLOADS


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"



# ---------- helpers

def ticket_count(app) -> int:
    with app.app_context():
        return session().scalar(select(func.count(Ticket.id)))


@pytest.fixture
def customer(app):
    with app.app_context():
        create_user(session(), "aino@example.com", role=Role.CUSTOMER, password=PASSWORD, name="Aino",
                    language="en", now=utcnow())
        commit()


# ---------- sending the form

@both_backends
def test_sent_form_becomes_a_ticket_with_suggestions_and_a_confirmation(app, client, shop) -> None:
    r = send(client, files=[(PDF, "receipt.pdf")])
    assert r.status_code == 302
    assert re.fullmatch(r"/yhteydenotto/kiitos/T-\d{6}", r.headers["Location"])
    page = client.get(r.headers["Location"], headers=EN).get_data(as_text=True)
    reference = r.headers["Location"].rsplit("/", 1)[1]
    assert reference in page and STATED in page and "Customer service is" in page
    with app.app_context():
        ticket = session().scalar(select(Ticket))
        assert ticket.external_id == reference and ticket.channel == ChannelKind.FORM
        assert (ticket.status, ticket.inquiry_type, ticket.language) == (TicketStatus.NEW, "delivery", "en")
        assert ticket.body == "How long does the delivery take to Tampere?" and ticket.user_id is None
        assert [s.article.slug for s in ticket.suggestions][0] == "delivery-times"
        kinds = {m.kind: m for m in ticket.messages}
        assert set(kinds) == {MessageKind.CUSTOMER, MessageKind.AUTO}
        [attachment] = kinds[MessageKind.CUSTOMER].attachments
        assert (attachment.filename, attachment.content_type, attachment.data) == ("receipt.pdf", "application/pdf",
                                                                                   PDF)
        auto_text = kinds[MessageKind.AUTO].body
    [mail] = outbox(app)
    assert mail["To"] == "aino@example.com" and reference in mail["Subject"]
    body = mail.get_content()
    assert reference in body and STATED in body and "Customer service is" in body
    # the agents' copy is what was sent, but for the link that proves the sender's address (kb/mailing/sender_links.py)
    sent_text, proof = body.split("\n\nIf you sent this message", 1)
    assert sent_text.strip() == auto_text.strip() and "/yhteydenotto/vahvista/" in proof


def test_confirmation_is_only_for_the_sender(app, client, shop) -> None:
    location = send(client).headers["Location"]
    assert app.test_client().get(location).status_code == 404
    assert client.get("/yhteydenotto/kiitos/T-999999").status_code == 404


def test_customer_email_is_fixed_and_ticket_linked_to_the_account(app, client, shop, customer) -> None:
    sign_in(client, "aino@example.com")
    page = client.get("/yhteydenotto", headers=EN).get_data(as_text=True)
    assert re.search(r'<input[^>]*id="email"[^>]*readonly', page) and 'value="aino@example.com"' in page
    r = send(client, form_data(email="someone@else.example"))
    assert r.status_code == 302
    with app.app_context():
        ticket = session().scalar(select(Ticket))
        assert ticket.customer_email == "aino@example.com" and ticket.user_id is not None


@pytest.mark.parametrize("field,value,message", [
    ("email", "not-an-address", "Enter an e-mail address such as name@example.fi."),
    ("message", "   ", "Write your message."),
    ("message", "x" * 5001, "Write at most 5000 characters."),
    ("subject", "", "Write a subject."),
    ("name", "", "Enter your name."),
    ("inquiry_type", "", "Choose what your question is about."),
    ("inquiry_type", "lottery", "Not a valid choice."),
    ("order_number", "12<34>", "An order number has only letters, digits and dashes."),
])
def test_bad_input_is_shown_on_the_field_and_nothing_stored(app, client, shop, field: str, value: str,
                                                            message: str) -> None:
    r = send(client, form_data(**{field: value}))
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    error = re.search(rf'<p id="{field}-error" class="field-error">([^<]*)</p>', html)
    assert error and message in error.group(1).replace("&#39;", "'")
    assert re.search(rf'id="{field}"[^>]*aria-describedby="[^"]*{field}-error', html) or \
        re.search(rf'aria-describedby="[^"]*{field}-error[^"]*"[^>]*id="{field}"', html)
    assert ticket_count(app) == 0 and outbox(app) == []


@both_backends
def test_someone_elses_order_number_is_refused(app, client, shop, customer, create_order) -> None:
    theirs = create_order("eero@example.com")
    mine = create_order("aino@example.com")
    sign_in(client, "aino@example.com")
    r = send(client, form_data(order_number=theirs))
    assert r.status_code == 400 and "We could not find this order among your orders." in r.get_data(as_text=True)
    assert send(client, form_data(order_number="424242")).status_code == 400
    assert ticket_count(app) == 0
    assert send(client, form_data(order_number=mine)).status_code == 302


@pytest.mark.parametrize("files,message", [
    ([(PNG, f"kuva{n}.png") for n in range(4)], "You can attach at most 3 files."),
    ([(b"%PDF-" + b"0" * (6 * 1024 * 1024), "big.pdf")], "big.pdf is too big: each file may be at most 5 MB."),
    ([(b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "photo.png")],
     "photo.png cannot be attached: only JPEG, PNG, GIF, WebP and PDF files are accepted."),
    ([(b"<!doctype html><script>alert(1)</script>", "page.html")],
     "page.html cannot be attached: only JPEG, PNG, GIF, WebP and PDF files are accepted."),
])
def test_refused_attachments_store_nothing(app, client, shop, files, message: str) -> None:
    r = send(client, files=files)
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert re.search(r'<p id="attachments-error" class="field-error">([^<]*)</p>', html).group(1) == message
    with app.app_context():
        assert session().scalar(select(func.count(Attachment.id))) == 0
    assert ticket_count(app) == 0


def test_three_files_of_five_megabytes_fit(app, client, shop) -> None:
    big = b"%PDF-" + b"0" * (5 * 1024 * 1024 - 5)
    r = send(client, files=[(big, f"liite{n}.pdf") for n in range(3)])
    assert r.status_code == 302
    with app.app_context():
        assert session().scalar(select(func.sum(Attachment.size))) == 3 * 5 * 1024 * 1024


def test_other_routes_keep_the_small_body_limit(demo_client) -> None:
    r = demo_client.post("/auth/login", data={"email": "x" * (3 * 1024 * 1024)})
    assert r.status_code == 413


def test_form_without_csrf_token_is_refused(app, client, shop) -> None:
    r = client.post("/yhteydenotto", data=form_data())
    assert r.status_code == 400 and ticket_count(app) == 0


@both_backends
def test_honeypot_goes_to_the_spam_queue_quietly(app, client, shop) -> None:
    r = send(client, form_data(website="http://spam.example"))
    assert r.status_code == 302 and "/yhteydenotto/kiitos/T-" in r.headers["Location"]
    assert client.get(r.headers["Location"]).status_code == 200
    with app.app_context():
        ticket = session().scalar(select(Ticket))
        assert (ticket.status, ticket.inquiry_type) == (TicketStatus.CLOSED, intake.SPAM)
        assert ticket.suggestions == [] and ticket.messages == []
    assert outbox(app) == []


@pytest.fixture
def limited_client(tmp_path: Path, new_database):
    instance = tmp_path / "limited"
    app = create_app({**_config(instance, new_database(instance)), "RATELIMIT_ENABLED": True,
                      "CONTACT_RATE_LIMIT": "2 per minute"})
    yield app.test_client()
    database(app).dispose()


def test_contact_form_is_rate_limited_per_address(limited_client) -> None:
    assert [send(limited_client).status_code for _ in range(2)] == [302, 302]
    assert send(limited_client).status_code == 429
    assert limited_client.get("/yhteydenotto").status_code == 200  # reading the form is not limited


# ---------- the order-state signal

def _offer_slugs(html: str) -> list[str]:
    offers = html.split('<ul class="article-list offers">', 1)[1].split("</ul>", 1)[0]
    return re.findall(r'href="/en/a/([^"]+)"', offers)


@both_backends
def test_change_question_about_a_packed_order_points_to_returns(app, client, shop, create_order) -> None:
    number = create_order("aino@example.com", status="packed")
    r = send(client, form_data(inquiry_type="order", order_number=number, subject="Muutos",
                               message="Voinko muuttaa tilaustani? Haluaisin toisen värin."))
    html = client.get(r.headers["Location"], headers=EN).get_data(as_text=True)
    assert f"Your order {number} has already been packed" in html
    assert _offer_slugs(html)[0] == "returns" and "changes" not in _offer_slugs(html)
    with app.app_context():
        ticket = session().scalar(select(Ticket))
        assert ticket.suggestions[0].article.slug == "returns"
        assert "changes" not in [s.article.slug for s in ticket.suggestions]
        language = ticket.language                      # the confirmation is written in the ticket's language
    body = outbox(app)[0].get_content()
    packed = translated(app, "Your order %(number)s has already been packed, so it can no longer be changed. You can "
                             "return products once they arrive: %(link)s", language, number=number, link="\0")
    assert packed.split("\0")[0] in body and "/en/a/returns" in body


def test_change_question_about_a_changeable_order_points_to_the_change_page(app, client, shop, customer,
                                                                            create_order) -> None:
    number = create_order("aino@example.com", status="paid")
    sign_in(client, "aino@example.com")
    r = send(client, form_data(inquiry_type="order", message="Can I change the colour in my order, please?"))
    html = client.get(r.headers["Location"], headers=EN).get_data(as_text=True)
    assert f"Your order {number} can still be changed." in html
    assert f'href="/tilaus/{number}/muuta"' in html and _offer_slugs(html)[0] == "changes"


def test_guest_with_an_unmatched_email_learns_nothing_about_the_order(app, client, shop, create_order) -> None:
    number = create_order("eero@example.com", status="packed")
    r = send(client, form_data(order_number=number, message="Voinko muuttaa tilaustani?"))
    html = client.get(r.headers["Location"], headers=EN).get_data(as_text=True)
    assert "already been packed" not in html


# ---------- "this solved it"

@both_backends
def test_this_solved_it_closes_the_ticket_once(app, client, shop, create_order) -> None:
    number = create_order("aino@example.com", status="delivered")
    r = send(client, form_data(order_number=number, message="Voinko perua tilaukseni?"))
    html = client.get(r.headers["Location"], headers=EN).get_data(as_text=True)
    link = re.search(r'href="(/yhteydenotto/ratkaistu/[^"]+)"', html).group(1)
    assert link in outbox(app)[0].get_content()
    other = app.test_client()  # the link works in any browser: it comes by e-mail
    page = other.get(link, headers=EN)
    assert page.status_code == 200 and "Yes, close my inquiry" in page.get_data(as_text=True)
    with app.app_context():
        assert session().scalar(select(Ticket.status)) == TicketStatus.NEW  # GET changes nothing
    token = csrf_token(page.get_data(as_text=True))
    assert other.post(link, data={"csrf_token": token}).status_code == 200
    assert other.post(link, data={"csrf_token": token}).status_code == 409
    assert "already closed" in other.get(link, headers=EN).get_data(as_text=True)
    with app.app_context():
        ticket = session().scalar(select(Ticket))
        assert ticket.status == TicketStatus.SOLVED and ticket.solved_at is not None
        events = session().scalars(select(ArticleEvent).where(ArticleEvent.kind == ArticleEventKind.SOLVED)).all()
        assert [e.ticket_id for e in events] == [ticket.id]


def test_tampered_solved_link_is_404(client, shop) -> None:
    assert client.get("/yhteydenotto/ratkaistu/WzEsMV0.bad.sig").status_code == 404


def test_confident_suggestions_are_offered_in_the_confirmation(demo_app, demo_client) -> None:
    page = demo_client.get("/yhteydenotto").get_data(as_text=True)
    r = demo_client.post("/yhteydenotto", data={
        "csrf_token": csrf_token(page), "inquiry_type": "delivery", "name": "Aino", "email": "aino.demo@example.com",
        "subject": "Paketti ei ole saapunut",
        "message": "Tilaamani paketti ei ole vieläkään saapunut, vaikka seuranta näyttää toimitetun.", "website": ""})
    assert r.status_code == 302
    with demo_app.app_context():
        ticket = session().scalar(select(Ticket).order_by(Ticket.id.desc()).limit(1))
        assert ticket.suggestion_confident
        top = [s.article.slug for s in ticket.suggestions[:3]]
    html = demo_client.get(r.headers["Location"]).get_data(as_text=True)
    offered = html.split('<ul class="article-list offers">', 1)[1].split("</ul>", 1)[0]
    assert re.findall(r'href="/fi/a/([^"]+)"', offered) == top
    assert offered.count("/yhteydenotto/ratkaistu/") == len(top) <= 3


# ---------- deflection

@both_backends
def test_opened_suggestion_is_recorded_and_claimed_by_a_sent_form(app, client, shop) -> None:
    r = client.get("/yhteydenotto/avaa/delivery-times")
    assert r.status_code == 302 and r.headers["Location"] == "/en/a/delivery-times"
    assert client.get("/yhteydenotto/avaa/no-such-article").status_code == 404
    reader = app.test_client()
    reader.get("/yhteydenotto/avaa/returns")
    send(client)
    with app.app_context():
        db = session()
        now = utcnow()
        assert intake.deflection_counts(db, now - timedelta(hours=1), now).pending == 1
        later = intake.deflection_counts(db, now - timedelta(hours=1), now + timedelta(hours=25))
        events = db.scalars(select(ArticleEvent).where(ArticleEvent.kind == ArticleEventKind.OPENED)).all()
    assert (later.opened, later.deflected, later.visitors, later.by_article) == (2, 1, 1, {"returns": 1})
    assert sorted(e.ticket_id is not None for e in events) == [False, True]


def test_form_page_is_accessible_and_loads_the_suggestion_script(client, shop) -> None:
    html = client.get("/yhteydenotto", headers=EN).get_data(as_text=True)
    assert re.search(r'src="/static/js/contact.js\?v=[0-9a-f]{12}"', html) and "<script>" not in html
    assert 'aria-live="polite"' in html and "Does one of these answer your question?" in html
    assert 'data-suggest-url="/api/v1/suggest"' in html and 'enctype="multipart/form-data"' in html
    for name in ("inquiry_type", "name", "email", "order_number", "subject", "message", "attachments"):
        assert f'<label for="{name}">' in html, name
    honeypot = html.split('<div class="visually-hidden" aria-hidden="true">', 1)[1].split("</div>", 1)[0]
    assert 'name="website"' in honeypot and 'tabindex="-1"' in honeypot


# ---------- XSS

def test_payloads_in_the_form_are_shown_as_text(app, client, shop) -> None:
    for payload in PAYLOADS:
        r = send(client, form_data(name=payload[:120], subject=payload[:200], message=f"Hei!\n{payload}"))
        assert r.status_code == 302, payload
        html = client.get(r.headers["Location"], headers=EN).get_data(as_text=True)
        summary = html.split('<section class="panel sent-summary"', 1)[1].split("</section>", 1)[0]
        assert script_risks(summary) == [], payload
        assert html.count("<script") == 1, payload  # only the site's own script
