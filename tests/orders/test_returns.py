"""Returns from the customer's side: why an order cannot be returned, the complaint route for a
faulty product, the exchange wish, and the mail with the RMA and the instructions."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from kb.db import commit, session, utcnow
from kb.models import Order, OutgoingMail, Return
from kb.services.errors import InvalidInput
from kb.services.orders.returns import IsComplaint, ReturnRequest, check_self_service_reason, register_return
from kb.services.shop.channels import set_setting
from tests.support.agent_helpers import sign_in
from tests.conftest import both_backends, translated
from tests.support.html_forms import csrf_token
from tests.support.order_helpers import open_order_link, track

RETURN_ADDRESS = "Tupa Koti Oy / Palautukset\nVarastotie 5\n01510 Vantaa"


def return_form(client, number: str) -> tuple[str, str]:
    """The return page and its first line's id."""
    page = client.get(f"/tilaus/{number}/palautus").get_data(as_text=True)
    return page, re.search(r'name="qty-(\d+)"', page).group(1)


def post_return(client, number: str, **fields):
    page, line_id = return_form(client, number)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    data = {"csrf_token": csrf_token(page), "idempotency_key": key, f"qty-{line_id}": "1",
            "reason": "wrong_size", "resolution": "refund", **fields}
    return client.post(f"/tilaus/{number}/palautus", data=data)


def returns_count(app) -> int:
    with app.app_context():
        return session().scalar(select(func.count(Return.id)))


def test_an_undelivered_order_says_why_it_cannot_be_returned(app, client, create_order) -> None:
    number = create_order(status="shipped")
    track(client, number, "aino@example.com")
    open_order_link(app, client, number)
    r = client.get(f"/tilaus/{number}/palautus")
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and 'name="qty-' not in page and 'name="reason"' not in page
    assert translated(app, "This order cannot be returned yet") in page
    shipped = translated(app, "Shipped")
    assert translated(app, "Products can be returned once the order has been delivered. The order is now: "
                           "%(status)s.", status=shipped) in page


def test_a_faulty_product_points_to_the_complaint_route(app, client, create_order, create_article) -> None:
    create_article(slug="reklamaatio", title="Viallinen tuote: näin teet reklamaation", language="fi",
                   category="takuu", body="Tee reklamaatio yhteydenottolomakkeella.")
    with app.app_context():
        set_setting(session(), "help_article_complaints", "reklamaatio")
        commit()
    number = create_order()
    track(client, number, "aino@example.com")
    open_order_link(app, client, number)
    r = post_return(client, number, reason="faulty")
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and returns_count(app) == 0
    error = page.split('id="reason-error"', 1)[1].split("</p>", 1)[0]
    assert translated(app, "A faulty product is not returned here: it is a complaint, and the period for returns "
                           "does not limit it. Tell us about the fault and we will agree on a repair, a new product "
                           "or a refund.") in error
    route = page.split('class="complaint-route"', 1)[1].split("</p>", 1)[0]
    assert 'href="/fi/a/reklamaatio"' in route
    contact = re.search(r'href="(/yhteydenotto\?[^"]+)"', route).group(1).replace("&amp;", "&")
    assert f"tilaus={number}" in contact and "aihe=warranty" in contact
    form = client.get(contact).get_data(as_text=True)
    assert re.search(r'<option selected value="warranty">|<option value="warranty" selected>', form)
    assert f'value="{number}"' in form


@both_backends
def test_an_exchange_asks_what_the_customer_wants_instead(app, client, create_order, make_ticket,
                                                          make_user) -> None:
    number = create_order()
    track(client, number, "aino@example.com")
    open_order_link(app, client, number)
    page, _ = return_form(client, number)
    assert '<label for="exchange_for">' in page
    r = post_return(client, number, resolution="exchange", exchange_for="  ")
    assert r.status_code == 400 and returns_count(app) == 0
    assert translated(app, "Tell us what you would like instead.") in r.get_data(as_text=True)
    r = post_return(client, number, resolution="exchange", exchange_for="Sama liina koossa 150×300 cm")
    assert r.status_code == 302
    with app.app_context():
        ret = session().scalar(select(Return))
        assert (ret.resolution, ret.exchange_for) == ("exchange", "Sama liina koossa 150×300 cm")
    assert "Sama liina koossa 150×300 cm" in client.get(r.headers["Location"]).get_data(as_text=True)
    ticket = make_ticket(customer_email="aino@example.com", order_number=number)
    make_user("liisa@tupa.example", name="Liisa")
    agent = app.test_client()
    sign_in(agent, "liisa@tupa.example")
    shown = agent.get(f"/agent/tickets/{ticket}").get_data(as_text=True)
    assert "Sama liina koossa 150×300 cm" in shown


def test_a_refund_keeps_no_exchange_wish(app, client, create_order) -> None:
    number = create_order()
    track(client, number, "aino@example.com")
    open_order_link(app, client, number)
    assert post_return(client, number, resolution="refund", exchange_for="jotain").status_code == 302
    with app.app_context():
        assert session().scalar(select(Return.exchange_for)) == ""


@both_backends
def test_registering_mails_the_rma_and_instructions_once_in_the_customers_language(app, client,
                                                                                  create_order) -> None:
    with app.app_context():
        set_setting(session(), "return_address", RETURN_ADDRESS)
        commit()
    number = create_order()
    page = client.get("/sv/tilaus/seuranta").get_data(as_text=True)  # the customer reads the site in Swedish
    client.post("/sv/tilaus/seuranta", data={"number": number, "email": "aino@example.com",
                                             "csrf_token": csrf_token(page)})
    open_order_link(app, client, number)
    page, line_id = return_form(client, number)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    data = {"csrf_token": csrf_token(page), "idempotency_key": key, f"qty-{line_id}": "1",
            "reason": "wrong_size", "resolution": "refund"}
    assert client.post(f"/tilaus/{number}/palautus", data=data).status_code == 302
    assert client.post(f"/tilaus/{number}/palautus", data=data).status_code == 302  # a double click
    with app.app_context():
        rma = session().scalar(select(Return.rma))
        mails = session().scalars(select(OutgoingMail).where(OutgoingMail.kind == "return")).all()
    assert len(mails) == 1
    mail = mails[0]
    assert mail.recipient == "aino@example.com" and rma in mail.subject and rma in mail.body
    assert translated(app, "How to send the return:", "sv") in mail.body
    assert translated(app, "Pack the products carefully, preferably in the original packaging.", "sv") in mail.body
    assert "Tupa Koti Oy / Palautukset\nVarastotie 5\n01510 Vantaa" in mail.body


def test_printable_instructions_carry_the_return_address(app, client, create_order) -> None:
    with app.app_context():
        set_setting(session(), "return_address", RETURN_ADDRESS)
        commit()
    number = create_order()
    track(client, number, "aino@example.com")
    open_order_link(app, client, number)
    r = post_return(client, number)
    rma = r.headers["Location"].rsplit("/", 1)[1]
    label = client.get(f"/palautus/{rma}/ohje").get_data(as_text=True)
    address = label.split("<address>", 1)[1].split("</address>", 1)[0]
    assert address == "Tupa Koti Oy / Palautukset<br>Varastotie 5<br>01510 Vantaa"


def test_the_return_address_falls_back_to_the_shop_address(app, client, create_order) -> None:
    with app.app_context():
        set_setting(session(), "legal_name", "Tupa Koti Oy")
        set_setting(session(), "shop_address", "Esimerkkikatu 12\n33100 Tampere")
        commit()
    number = create_order()
    track(client, number, "aino@example.com")
    open_order_link(app, client, number)
    rma = post_return(client, number).headers["Location"].rsplit("/", 1)[1]
    label = client.get(f"/palautus/{rma}/ohje").get_data(as_text=True)
    assert "<address>Tupa Koti Oy<br>Esimerkkikatu 12<br>33100 Tampere</address>" in label


# ---------- the rules (kb/services/orders/returns.py)

def _request(line_id: int, **fields) -> ReturnRequest:
    values = {"lines": {line_id: 1}, "reason": "wrong_size", "resolution": "exchange", "comment": "",
              "idempotency_key": "k" * 24, "exchange_for": "Koko L"}
    values.update(fields)
    return ReturnRequest(**values)


def test_an_exchange_needs_what_instead_and_the_new_return_is_announced_once(app, create_order) -> None:
    number = create_order()
    announced = []
    with app.app_context():
        db = session()
        order = db.scalar(select(Order).where(Order.number == number))
        line_id = order.lines[0].id
        for wish, field in (("", "exchange_for"), ("x" * 201, "exchange_for")):
            with pytest.raises(InvalidInput) as refused:
                register_return(db, order, _request(line_id, exchange_for=wish), now=utcnow())
            assert refused.value.field == field
        first = register_return(db, order, _request(line_id), now=utcnow(), on_registered=announced.append)
        again = register_return(db, order, _request(line_id), now=utcnow(), on_registered=announced.append)
        assert first is again and announced == [first] and first.exchange_for == "Koko L"


def test_a_fault_is_a_complaint_on_the_customers_form_only() -> None:
    with pytest.raises(IsComplaint):
        check_self_service_reason("faulty")
    for reason in ("changed_mind", "wrong_size", "damaged", "wrong_item", "other"):
        check_self_service_reason(reason)
