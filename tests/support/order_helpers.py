"""Orders in tests: a row in the import and API format, a guest finding an order by number and e-mail,
and opening the single-use link mailed to the order's address, as its owner would."""
from __future__ import annotations

import re

from tests.support.html_forms import csrf_token
from tests.fixtures.mail_helpers import sent_mail


def order_row(number: str = "200001", **changes) -> dict:
    row = {
        "number": number, "email": "Aino.Virtanen@Example.com", "status": "paid",
        "placed_at": "2026-03-02T10:15:00+02:00", "currency": "EUR",
        "lines": [{"sku": "TK-1001", "name": "Pellavainen pöytäliina 150×250 cm", "quantity": 1, "unit_price": "59,90"},
                  {"sku": "KIRJA-1", "name": "Keittokirja", "quantity": 2, "unit_price": 24.9, "vat_rate": 14}],
        "shipping_address": {"name": "Aino Virtanen", "street": "Hämeenkatu 12 A 5", "postal_code": "33100",
                             "city": "Tampere", "country": "FI", "phone": "040 123 4567"},
        "carrier": "Posti", "shipping": "4,90", "expected_delivery": "2026-03-05",
        "events": [{"status": "paid", "at": "2026-03-02T10:17:00+02:00"}],
    }
    row.update(changes)
    return row


def track(client, number: str, email: str):
    page = client.get("/fi/tilaus/seuranta")
    return client.post("/fi/tilaus/seuranta", data={"number": number, "email": email,
                                                    "csrf_token": csrf_token(page.get_data(as_text=True))})


def order_link(app, client, number: str) -> str:
    """Ask for the order's link from its change page; the path of the link in the mail."""
    page = client.get(f"/tilaus/{number}/muuta").get_data(as_text=True)
    assert "data-order-link" in page
    r = client.post(f"/tilaus/{number}/linkki", data={"csrf_token": csrf_token(page)})
    assert r.status_code == 302, r.status_code
    mail = [m for m in sent_mail(app) if number in m["Subject"]][-1]
    return re.search(r"https?://[^/\s]+(/tilaus/linkki/[\w-]+)", mail.get_content()).group(1)


def open_order_link(app, client, number: str) -> None:
    """Ask for the link and open it: this client may then change the order."""
    link = order_link(app, client, number)
    page = client.get(link)
    assert page.status_code == 200
    r = client.post(link, data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    assert r.status_code == 302 and r.headers["Location"] == f"/tilaus/{number}/muuta"


def text_of(pdf: bytes) -> str:
    """The strings shown on an uncompressed page (core fonts write them as literal strings)."""
    shown = re.findall(rb"\(((?:[^()\\]|\\.)*)\)\s*Tj", pdf)
    return " ".join(s.replace(b"\\(", b"(").replace(b"\\)", b")").decode("latin-1") for s in shown)
