"""Order pages that customers reported: the HTML invoice with what the PDF carries, a refused
change that keeps what was typed, and guest tracking that reads numbers as people write them."""
from __future__ import annotations

import re

import pytest

from kb import create_app
from kb.db import commit, database, session
from kb.models import Order, OrderStatus
from kb.services.shop.channels import set_setting
from tests.conftest import _config, translated
from tests.support.html_forms import csrf_token
from tests.support.order_helpers import open_order_link, track


def shop_settings(app, **values: str) -> None:
    with app.app_context():
        for key, value in values.items():
            set_setting(session(), key, value)
        commit()


# ---------- the HTML invoice

def test_html_invoice_names_the_seller_and_the_vat_rates_with_percent(app, client, create_order) -> None:
    shop_settings(app, legal_name="Tupa Koti Oy", business_id="1234567-8",
                  shop_address="Esimerkkikatu 12\n33100 Tampere")
    number = create_order()
    track(client, number, "aino@example.com")
    open_order_link(app, client, number)
    html = client.get(f"/lasku/L{number}").get_data(as_text=True)
    seller = html.split('class="seller">', 1)[1].split("</p>", 1)[0]
    assert seller == ("Tupa Koti Oy<br>Esimerkkikatu 12<br>33100 Tampere<br>"
                      f"{translated(app, 'Business ID')} 1234567-8")
    rates = re.findall(r"<td>(25,5\xa0%)</td>", html)
    assert len(rates) >= 3  # two lines, shipping and the VAT breakdown
    assert "<td>25,5</td>" not in html


def test_html_invoice_says_paid_like_the_pdf(app, client, create_order) -> None:
    number = create_order()
    track(client, number, "aino@example.com")
    open_order_link(app, client, number)
    html = client.get(f"/lasku/L{number}").get_data(as_text=True)
    status = html.split('class="payment-status">', 1)[1].split("</p>", 1)[0]
    assert status == translated(app, "Paid, thank you! (%(amount)s)", amount="139,60\xa0€")


def test_html_invoice_of_an_unpaid_order_gives_the_payment_details(app, client, create_order) -> None:
    from kb.services.orders.invoices import reference_number

    shop_settings(app, legal_name="Tupa Koti Oy")
    number = create_order(status="received")
    track(client, number, "aino@example.com")
    open_order_link(app, client, number)
    html = client.get(f"/lasku/L{number}").get_data(as_text=True)
    details = html.split('<dl class="payment-status">', 1)[1].split("</dl>", 1)[0]
    assert translated(app, "Not paid yet") in details and "Tupa Koti Oy" in details
    assert f"<dd>{reference_number(number)}</dd>" in details and "139,60\xa0€" in details


def test_pdf_invoice_carries_the_shop_address(app, client, create_order) -> None:
    from tests.support.order_helpers import text_of

    shop_settings(app, legal_name="Tupa Koti Oy", business_id="1234567-8",
                  shop_address="Esimerkkikatu 12\n33100 Tampere")
    number = create_order()
    track(client, number, "aino@example.com")
    open_order_link(app, client, number)
    pdf = client.get(f"/lasku/L{number}.pdf").data
    assert pdf.startswith(b"%PDF")
    import zlib
    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S)
    text = " ".join(text_of(zlib.decompress(s)) for s in streams if s[:1] == b"x")
    assert "Esimerkkikatu 12, 33100 Tampere" in text and "Y-tunnus 1234567-8" in text


@pytest.mark.parametrize("fields, field, message", [
    ({"business_id": "1234567"}, "business_id", "Write the business ID in the form 1234567-8."),
    ({"shop_address": "rivi\n" * 7}, "shop_address", "At most 6 lines and 300 characters."),
])
def test_shop_details_are_checked_in_the_settings(app, client, make_user, fields, field, message) -> None:
    from kb.models import Role
    from tests.support.agent_helpers import sign_in

    make_user("admin@tupa.example", Role.ADMIN)
    sign_in(client, "admin@tupa.example")
    page = client.get("/admin/settings").get_data(as_text=True)
    r = client.post("/admin/settings", data={"csrf_token": csrf_token(page), "shop_name": "Tupa",
                                             "return_window_days": "14", **fields})
    assert r.status_code == 400
    error = r.get_data(as_text=True).split(f'id="{field}-error"', 1)[1].split("</p>", 1)[0]
    assert translated(app, message, "en") in error


# ---------- a refused change keeps what was typed

def change_page(client, number: str) -> str:
    return client.get(f"/tilaus/{number}/muuta").get_data(as_text=True)


def test_refused_address_keeps_what_was_typed_and_marks_the_field(app, client, create_order) -> None:
    number = create_order(status="paid")
    track(client, number, "aino@example.com")
    open_order_link(app, client, number)
    page = change_page(client, number)
    typed = {"name": "Aino Virtanen", "street": "Satakunnankatu 7 B 12", "postal_code": "3310", "city": "Tampere",
             "country": "FI", "phone": "040 123 4567"}
    r = client.post(f"/tilaus/{number}/osoite", data={**typed, "csrf_token": csrf_token(page)})
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    for key in ("street", "postal_code", "phone"):
        assert re.search(rf'id="addr-{key}" name="{key}" value="{re.escape(typed[key])}"', html), key
    assert re.search(r'id="addr-postal_code"[^>]*aria-invalid="true" aria-describedby="postal_code-error"', html)
    error = html.split('id="postal_code-error"', 1)[1].split("</p>", 1)[0]
    assert translated(app, "A Finnish postal code has five digits.") in error
    with app.app_context():
        assert session().scalar(select_order(number)).shipping_address["street"] == "Hämeenkatu 1"


def test_refused_quantity_keeps_the_number_next_to_its_line(app, client, create_order) -> None:
    number = create_order(status="paid")
    track(client, number, "aino@example.com")
    open_order_link(app, client, number)
    page = change_page(client, number)
    line_ids = re.findall(r'/tilaus/\d+/rivi/(\d+)"', page)
    r = client.post(f"/tilaus/{number}/rivi/{line_ids[1]}", data={"quantity": "250", "csrf_token": csrf_token(page)})
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    form = html.split(f'action="/tilaus/{number}/rivi/{line_ids[1]}"', 1)[1].split("</form>", 1)[0]
    assert 'value="250"' in form and 'id="quantity-error"' in form
    assert translated(app, "Give a number from %(low)s to %(high)s.", low="0", high="99") in form
    other = html.split(f'action="/tilaus/{number}/rivi/{line_ids[0]}"', 1)[1].split("</form>", 1)[0]
    assert 'value="2"' in other and "quantity-error" not in other


def select_order(number: str):
    from sqlalchemy import select

    return select(Order).where(Order.number == number)


# ---------- guest tracking

@pytest.mark.parametrize("typed", ["#{n}", "{a} {b}", " # {n} ", "{a}\u00a0{b}"])
def test_tracking_reads_numbers_as_people_write_them(client, create_order, typed: str) -> None:
    number = create_order(status="shipped")
    r = track(client, typed.format(n=number, a=number[:3], b=number[3:]), "aino@example.com")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/tilaus/{number}")
    assert client.get(f"/tilaus/{number}").status_code == 200


def test_a_malformed_number_is_explained_and_keeps_what_was_typed(app, client, create_order) -> None:
    create_order()
    r = track(client, "tilaus 12/34", "aino@example.com")
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and 'value="tilaus 12/34"' in html
    assert translated(app, "That does not look like an order number. You find it in your order confirmation, for "
                           "example 102383.") in html


def test_malformed_numbers_do_not_use_up_the_tracking_limit(tmp_path, new_database, create_order) -> None:
    instance = tmp_path / "limited"
    limited = create_app({**_config(instance, new_database(instance)), "RATELIMIT_ENABLED": True})
    try:
        with limited.app_context():
            from datetime import timedelta

            from kb.db import utcnow
            from kb.models import OrderLine

            now = utcnow()
            session().add(Order(number="102383", email="aino@example.com", status=OrderStatus.SHIPPED,
                                currency="EUR", placed_at=now - timedelta(days=2), shipping_address={},
                                lines=[OrderLine(position=1, sku="A", name="A", quantity=1, unit_price_cents=100)]))
            commit()
        client = limited.test_client()
        statuses = [track(client, "#12/34", "aino@example.com").status_code for _ in range(12)]
        assert statuses == [400] * 12
        statuses = [track(client, "999999", "aino@example.com").status_code for _ in range(6)]
        assert statuses == [400] * 5 + [429]  # five real guesses for one address (GUEST_LOOKUP_FAILURE_LIMIT)
        assert track(client, "102 383", "aino@example.com").status_code == 429
    finally:
        database(limited).dispose()


@pytest.mark.parametrize("typed, number", [("102383", "102383"), ("#102383", "102383"), ("102 383", "102383"),
                                           ("\t# 102\u202f383 ", "102383"), ("TK-2026-7", "TK-2026-7")])
def test_order_numbers_are_normalised(typed: str, number: str) -> None:
    from kb.services.orders.rules import normalise_order_number

    assert normalise_order_number(typed) == number


@pytest.mark.parametrize("typed", ["", "   ", "#", "12/34", "-102383", "1" * 65, "tilaus: 102383"])
def test_what_is_not_an_order_number_is_refused_by_field(typed: str) -> None:
    from kb.services.errors import InvalidInput
    from kb.services.orders.rules import normalise_order_number

    with pytest.raises(InvalidInput) as refused:
        normalise_order_number(typed)
    assert refused.value.field == "number"
