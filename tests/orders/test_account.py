"""Self-service pages through the Flask client: guests and customers, and nobody else's orders."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from kb.db import session
from kb.models import Order, Return
from tests.conftest import translated
from tests.support.html_forms import csrf_token
from tests.support.order_helpers import open_order_link, track


def test_guest_tracks_with_number_and_email(client, create_order) -> None:
    number = create_order(status="shipped")
    r = track(client, number, "AINO@example.com")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/tilaus/{number}")
    html = client.get(f"/tilaus/{number}").get_data(as_text=True)
    assert "JJFI6437200000012345" in html
    assert "posti.fi" in html
    assert html.count('class="done"') == 5  # received .. shipped


@pytest.mark.parametrize("number,email", [("100001", "eero@example.com"), ("999999", "aino@example.com")])
def test_wrong_number_or_email_gives_the_same_answer(client, create_order, number: str, email: str) -> None:
    create_order()
    r = track(client, number, email)
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert 'role="alert"' in html and f'value="{number}"' in html


def _sent_to_log_in(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/auth/login?next=")


def test_guest_without_proof_sees_nothing_and_is_asked_to_log_in(client, create_order) -> None:
    number = create_order()
    for url in [f"/tilaus/{number}", f"/tilaus/{number}/muuta", f"/tilaus/{number}/palautus",
                f"/lasku/L{number}", f"/lasku/L{number}.pdf"]:
        assert _sent_to_log_in(client.get(url)), url


def test_guest_cannot_reach_another_order_after_tracking_one(client, create_order) -> None:
    mine, theirs = create_order(), create_order("eero@example.com")
    track(client, mine, "aino@example.com")
    assert client.get(f"/tilaus/{mine}").status_code == 200
    assert _sent_to_log_in(client.get(f"/tilaus/{theirs}"))
    assert _sent_to_log_in(client.get(f"/lasku/L{theirs}"))


def test_guest_changes_quantity_until_packed(app, client, create_order) -> None:
    number = create_order(status="paid")
    track(client, number, "aino@example.com")
    open_order_link(app, client, number)
    page = client.get(f"/tilaus/{number}/muuta").get_data(as_text=True)
    line_id = re.search(r'/tilaus/\d+/rivi/(\d+)"', page).group(1)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    r = client.post(f"/tilaus/{number}/rivi/{line_id}", data={"quantity": "4", "version": version,
                                                              "csrf_token": csrf_token(page)})
    assert r.status_code == 302
    shown = client.get(r.headers["Location"]).get_data(as_text=True)
    assert translated(app, "Your order has been changed. We sent the change to the shop.") in shown
    with app.app_context():
        order = session().scalar(select(Order).where(Order.number == number))
        assert order.lines[0].quantity == 4


def test_change_refused_when_packed_meanwhile(app, client, create_order) -> None:
    from kb.models import OrderStatus

    number = create_order(status="packing")
    track(client, number, "aino@example.com")
    open_order_link(app, client, number)
    page = client.get(f"/tilaus/{number}/muuta").get_data(as_text=True)
    line_id = re.search(r'/tilaus/\d+/rivi/(\d+)"', page).group(1)
    with app.app_context():
        order = session().scalar(select(Order).where(Order.number == number))
        order.status = OrderStatus.PACKED
        session().commit()
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    r = client.post(f"/tilaus/{number}/rivi/{line_id}", data={"quantity": "4", "version": version,
                                                              "csrf_token": csrf_token(page)}, follow_redirects=True)
    with app.app_context():
        assert session().scalar(select(Order).where(Order.number == number)).lines[0].quantity == 2
    assert r.status_code == 200


def test_guest_registers_a_return_once_despite_double_submit(app, client, create_order) -> None:
    number = create_order()
    track(client, number, "aino@example.com")
    open_order_link(app, client, number)
    page = client.get(f"/tilaus/{number}/palautus").get_data(as_text=True)
    line_id = re.search(r'name="qty-(\d+)"', page).group(1)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    form = {"csrf_token": csrf_token(page), "idempotency_key": key, f"qty-{line_id}": "1",
            "reason": "wrong_size", "resolution": "refund", "comment": "Liian pieni"}
    first = client.post(f"/tilaus/{number}/palautus", data=form)
    second = client.post(f"/tilaus/{number}/palautus", data=form)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    status_page = client.get(first.headers["Location"]).get_data(as_text=True)
    rma = re.search(r"RMA-[A-Z0-9]{8}", status_page).group(0)
    assert client.get(f"/palautus/{rma}/ohje").status_code == 200
    with app.app_context():
        assert session().scalar(select(func.count(Return.id))) == 1


@pytest.mark.parametrize("form,message,english", [
    ({"reason": "wrong_size", "resolution": "refund"}, "Choose at least one product to return.", "choose at least one"),
    ({"qty-LINE": "9", "reason": "wrong_size", "resolution": "refund"}, "You can return at most %(count)s.",
     "you can return at most"),
    ({"qty-LINE": "1", "reason": "", "resolution": "refund"}, "Choose a reason from the list.", "choose a reason"),
])
def test_return_form_errors_are_shown_and_nothing_saved(app, client, create_order, form: dict, message: str,
                                                        english: str) -> None:
    """The service's English message reaches the customer as a sentence in the page's language."""
    number = create_order()
    track(client, number, "aino@example.com")
    open_order_link(app, client, number)
    page = client.get(f"/tilaus/{number}/palautus").get_data(as_text=True)
    line_id = re.search(r'name="qty-(\d+)"', page).group(1)
    data = {k.replace("LINE", line_id): v for k, v in form.items()}
    data.update(csrf_token=csrf_token(page), idempotency_key="x" * 24)
    r = client.post(f"/tilaus/{number}/palautus", data=data)
    assert r.status_code == 400
    shown = r.get_data(as_text=True)
    assert translated(app, message, count="\0").split("\0")[0] in shown
    assert english not in shown
    with app.app_context():
        assert session().scalar(select(func.count(Return.id))) == 0


def test_return_window_closed_is_explained(app, client, create_order) -> None:
    """After the window the return page says when it ended (past tense) instead of offering the form."""
    number = create_order(delivered_days_ago=20)
    track(client, number, "aino@example.com")
    open_order_link(app, client, number)
    with app.app_context():
        ended = translated(app, "The %(days)d-day return period for this order ended on %(date)s, so the products "
                                "can no longer be returned.", days=14, date="DATE").split("DATE")[0]
    html = client.get(f"/tilaus/{number}").get_data(as_text=True)
    assert ended in html and f"/yhteydenotto?tilaus={number}&amp;aihe=warranty" in html
    r = client.get(f"/tilaus/{number}/palautus")
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and 'name="qty-' not in page and 'name="reason"' not in page
    with app.app_context():
        line_id = session().scalar(select(Order).where(Order.number == number)).lines[0].id
    assert ended in page and translated(app, "The return period has ended") in page
    assert f"/yhteydenotto?tilaus={number}&amp;aihe=warranty" in page  # a fault is still a complaint
    r = client.post(f"/tilaus/{number}/palautus", data={  # a form kept open in another tab
        "csrf_token": csrf_token(client.get("/fi/tilaus/seuranta").get_data(as_text=True)),
        "idempotency_key": "y" * 24, f"qty-{line_id}": "1", "reason": "wrong_size", "resolution": "refund"})
    assert r.status_code == 400 and ended in r.get_data(as_text=True)
    with app.app_context():
        assert session().scalar(select(func.count(Return.id))) == 0


def test_invoice_page_and_pdf(client, create_order) -> None:
    number = create_order()
    track(client, number, "aino@example.com")
    html = client.get(f"/lasku/L{number}").get_data(as_text=True)
    assert f"L{number}" in html and "25,5" in html
    pdf = client.get(f"/lasku/L{number}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")


def test_changes_need_csrf(app, create_order) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    number = create_order(status="paid")
    track(client, number, "aino@example.com")
    assert client.post(f"/tilaus/{number}/peru", data={"confirm": "yes", "version": "1"}).status_code == 400


def test_refused_address_change_is_explained_in_the_page_language(app, client, create_order) -> None:
    number = create_order(status="paid")
    track(client, number, "aino@example.com")
    open_order_link(app, client, number)
    page = client.get(f"/tilaus/{number}/muuta").get_data(as_text=True)
    address = {"name": "Aino Virtanen", "street": "Hämeenkatu 12", "postal_code": "3310", "city": "Tampere",
               "country": "FI", "phone": "040 123 4567"}
    r = client.post(f"/tilaus/{number}/osoite", data={**address, "csrf_token": csrf_token(page)},
                    follow_redirects=True)
    shown = r.get_data(as_text=True)
    assert translated(app, "A Finnish postal code has five digits.") in shown
    assert "five digits" not in shown and "postal_code:" not in shown  # not the service's English, not a field name
    with app.app_context():
        order = session().scalar(select(Order).where(Order.number == number))
        assert order.shipping_address.get("postal_code") != "3310"


def test_a_cancelled_order_says_so_where_the_actions_would_be(client, create_order) -> None:
    number = create_order(status="cancelled")
    track(client, number, "aino@example.com")
    page = client.get(f"/tilaus/{number}").get_data(as_text=True)
    actions = page.split('class="panel actions"', 1)[1].split("</section>", 1)[0]
    assert "Tilaus on peruttu, joten sitä ei voi enää muuttaa eikä palauttaa." in actions
    assert f"/yhteydenotto?tilaus={number}" in actions
