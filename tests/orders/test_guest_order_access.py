"""Guests and their orders (security review, issue 15): finding an order is limited per e-mail address,
per order number and per client (an IPv6 client by its /64), and a guest who found an order changes
nothing on it until they open a single-use link mailed to the order's own address."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from kb import create_app
from kb.db import commit, database, session, utcnow
from kb.models import Order, Return
from kb.services.orders import order_access
from tests.conftest import _config
from tests.support.html_forms import csrf_token
from tests.fixtures.mail_helpers import sent_mail
from tests.support.order_helpers import open_order_link, order_link, track

NEW_ADDRESS = {"name": "Mallory", "street": "Huijarinkatu 1", "postal_code": "00100", "city": "Helsinki",
               "country": "FI", "phone": "040 000 0000"}


def order_of(app, number: str) -> Order:
    with app.app_context():
        return session().scalar(select(Order).where(Order.number == number))


def test_a_guest_who_found_an_order_sees_it_but_changes_it_only_through_the_mailed_link(app, client,
                                                                                      create_order) -> None:
    """The review's attack: the number and e-mail guessed, the guest session then changed the delivery address."""
    number = create_order(status="paid")
    assert track(client, number, "aino@example.com").status_code == 302
    assert client.get(f"/tilaus/{number}").status_code == 200  # the status is the guest's to see

    page = client.get(f"/tilaus/{number}/muuta").get_data(as_text=True)
    assert "data-order-link" in page and f"/tilaus/{number}/osoite" not in page
    token = csrf_token(page)
    r = client.post(f"/tilaus/{number}/osoite", data={**NEW_ADDRESS, "version": "1", "csrf_token": token})
    assert r.status_code == 302 and r.headers["Location"] == f"/tilaus/{number}/muuta"
    r = client.post(f"/tilaus/{number}/peru", data={"confirm": "yes", "version": "1", "csrf_token": token})
    assert r.status_code == 302
    returns = client.get(f"/tilaus/{number}/palautus").get_data(as_text=True)
    assert 'name="idempotency_key"' not in returns  # not delivered yet: it says why, and nothing can be sent
    delivered = create_order(delivered_days_ago=2)  # returnable: the form waits for the mailed link
    assert track(client, delivered, "aino@example.com").status_code == 302
    returns = client.get(f"/tilaus/{delivered}/palautus").get_data(as_text=True)
    assert "data-order-link" in returns and 'name="idempotency_key"' not in returns
    order = order_of(app, number)
    assert order.shipping_address["street"] == "Hämeenkatu 1" and order.status.value == "paid"

    # the link goes to the order's own address, never to one the guest chooses
    link = order_link(app, client, number)
    [mail] = [m for m in sent_mail(app) if number in m["Subject"]]
    assert mail["To"] == "aino@example.com"
    opened = client.get(link)
    assert opened.status_code == 200 and order_of(app, number).shipping_address["street"] == "Hämeenkatu 1"
    r = client.post(link, data={"csrf_token": csrf_token(opened.get_data(as_text=True))})
    assert r.status_code == 302 and r.headers["Location"] == f"/tilaus/{number}/muuta"
    page = client.get(f"/tilaus/{number}/muuta").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    r = client.post(f"/tilaus/{number}/osoite", data={**NEW_ADDRESS, "version": version,
                                                      "csrf_token": csrf_token(page)})
    assert r.status_code == 302 and order_of(app, number).shipping_address["street"] == "Huijarinkatu 1"

    # once only, and only in the browser that opened it
    assert client.get(link).status_code == 404
    other = app.test_client()
    track(other, number, "aino@example.com")
    assert "data-order-link" in other.get(f"/tilaus/{number}/muuta").get_data(as_text=True)


def test_the_link_opens_only_its_own_order(app, client, create_order) -> None:
    first, second = create_order(status="paid"), create_order(status="paid")
    for number in (first, second):
        track(client, number, "aino@example.com")
    open_order_link(app, client, first)
    assert f"/tilaus/{first}/osoite" in client.get(f"/tilaus/{first}/muuta").get_data(as_text=True)
    assert "data-order-link" in client.get(f"/tilaus/{second}/muuta").get_data(as_text=True)


def test_a_logged_in_owner_needs_no_link(app, client, create_order) -> None:
    from tests.support.auth_helpers import customer_factory, log_in

    number = create_order("asiakas@example.fi", status="paid")
    customer_factory(app)()
    log_in(client)
    page = client.get(f"/tilaus/{number}/muuta").get_data(as_text=True)
    assert f"/tilaus/{number}/osoite" in page and "data-order-link" not in page


def test_only_someone_who_found_the_order_can_have_its_link_sent(app, client, create_order) -> None:
    number = create_order(status="paid")
    page = client.get("/fi/tilaus/seuranta").get_data(as_text=True)
    assert client.post(f"/tilaus/{number}/linkki", data={"csrf_token": csrf_token(page)}).status_code == 404
    assert [m for m in sent_mail(app) if number in m["Subject"]] == []


@pytest.mark.parametrize("spoil", ["used", "expired", "superseded", "readdressed"])
def test_a_link_works_once_until_it_expires_and_only_the_newest(app, create_order, spoil: str) -> None:
    number = create_order(status="paid")
    now = utcnow()
    with app.app_context():
        db = session()
        order = db.scalar(select(Order).where(Order.number == number))
        issued = order_access.issue_link(db, order, now=now)
        if spoil == "used":
            order_access.use_link(db, issued.token, now=now)
        elif spoil == "superseded":
            order_access.issue_link(db, order, now=now)
        elif spoil == "readdressed":
            order.email = "eero@example.com"
        commit()
        later = now + (order_access.LINK_LIFETIME + timedelta(seconds=1) if spoil == "expired" else timedelta(0))
        with pytest.raises(order_access.InvalidLink):
            order_access.use_link(db, issued.token, now=later)
        with pytest.raises(order_access.InvalidLink):
            order_access.use_link(db, issued.token[:-1], now=now)


# ---------- limits on finding an order

@pytest.fixture
def limited_app(tmp_path: Path, new_database):
    """Rate limits on (the test config turns them off)."""
    instance = tmp_path / "limited"
    app = create_app({**_config(instance, new_database(instance)), "RATELIMIT_ENABLED": True})
    yield app
    database(app).dispose()


def _lookup(app, address: str, number: str, email: str) -> int:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    page = client.get("/fi/tilaus/seuranta").get_data(as_text=True)
    return client.post("/fi/tilaus/seuranta", data={"number": number, "email": email,
                                                    "csrf_token": csrf_token(page)}).status_code


def _create(app, number: str, email: str = "aino@example.com") -> None:
    from kb.models import OrderStatus

    with app.app_context():
        session().add(Order(number=number, email=email, status=OrderStatus.PAID, currency="EUR", placed_at=utcnow()))
        commit()


def test_one_address_is_tried_with_five_numbers_at_most_from_any_clients(limited_app) -> None:
    """Each guess from a new client address: only the per-address count stops them."""
    _create(limited_app, "102390")
    statuses = [_lookup(limited_app, f"198.51.100.{n}", f"1023{n:02d}", "aino@example.com") for n in range(80, 85)]
    assert statuses == [400] * 5
    assert _lookup(limited_app, "198.51.100.90", "102390", "aino@example.com") == 429  # even the right number
    assert _lookup(limited_app, "198.51.100.91", "102390", "eero@example.com") == 400  # another address is free


def test_one_number_is_tried_with_five_addresses_at_most_from_any_clients(limited_app) -> None:
    _create(limited_app, "102390")
    statuses = [_lookup(limited_app, f"203.0.113.{n}", "102390", f"guess{n}@example.com") for n in range(5)]
    assert statuses == [400] * 5
    assert _lookup(limited_app, "203.0.113.50", "102390", "aino@example.com") == 429


def test_finding_the_order_starts_the_counts_again(limited_app) -> None:
    _create(limited_app, "102390")
    for n in range(4):
        assert _lookup(limited_app, "192.0.2.1", f"10230{n}", "aino@example.com") == 400
    assert _lookup(limited_app, "192.0.2.1", "102390", "aino@example.com") == 302
    assert _lookup(limited_app, "192.0.2.2", "102301", "aino@example.com") == 400


def test_an_ipv6_client_is_counted_by_its_64(limited_app) -> None:
    """Ten lookups per client: 30 addresses of one /64 were 30 clients; now they are one."""
    statuses = [_lookup(limited_app, f"2001:db8:7:1::{n:x}", f"5000{n:02d}", f"x{n}@example.com") for n in range(11)]
    assert statuses == [400] * 10 + [429]
    assert _lookup(limited_app, "2001:db8:7:2::1", "500099", "y@example.com") == 400  # the next /64
    v4 = [_lookup(limited_app, f"192.0.2.{n}", f"6000{n:02d}", f"z{n}@example.com") for n in range(11)]
    assert v4 == [400] * 11  # IPv4 addresses are still each a client
