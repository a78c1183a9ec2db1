"""Orders in tests: a row in the import and API format, and a guest finding an order by number and e-mail."""
from __future__ import annotations

from tests.html_forms import csrf_token


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
