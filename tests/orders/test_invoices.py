"""Invoices: the VAT breakdown (hand-computed) and the PDF."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from kb.models import Invoice, Order, OrderStatus
from kb.services.orders.invoices import (VatRow, invoice_pdf, invoice_totals, latin1, money, reference_number,
                                         vat_breakdown, vat_included)
from tests.support.order_helpers import text_of

SHOP = {"name": "Tupa", "legal_name": "Tupa Koti Oy", "business_id": "1234567-8",
        "address": "Varastokatu 1, 33100 Tampere", "email": "asiakaspalvelu@tupa.example",
        "iban": "FI21 1234 5600 0007 85", "bic": "NDEAFIHH"}


def mixed_invoice() -> Invoice:
    return Invoice(number="L101679", issued_at=datetime(2026, 3, 2, 8, 17, tzinfo=timezone.utc),
                   due_at=date(2026, 3, 16), shipping_cents=490, lines=[
                       {"sku": "TK-1001", "name": "Pellavainen pöytäliina 150×250 cm", "quantity": 1,
                        "unit_price_cents": 5990, "vat_rate_bp": 2550},
                       {"sku": "KE-2001", "name": "Keraaminen kahvikuppi", "quantity": 3,
                        "unit_price_cents": 1690, "vat_rate_bp": 2550},
                       {"sku": "KIRJA-1", "name": "Keittokirja Äidin ruoat", "quantity": 2,
                        "unit_price_cents": 2490, "vat_rate_bp": 1400}])


def order_for(invoice: Invoice, status: OrderStatus = OrderStatus.PAID) -> Order:
    return Order(number="101679", email="aino.virtanen@example.com", status=status,
                 placed_at=datetime(2026, 3, 2, 8, 15, tzinfo=timezone.utc),
                 shipping_address={"name": "Aino Virtanen", "street": "Hämeenkatu 12 A 5", "postal_code": "33100",
                                   "city": "Tampere", "country": "FI"})


def test_vat_breakdown_on_a_mixed_rate_invoice_by_hand() -> None:
    # 25.5 %: 59.90 + 3 × 16.90 + shipping 4.90 = 115.50 gross; VAT 115.50 × 25.5 / 125.5 = 23.468... → 23.47
    # 14 %: 2 × 24.90 = 49.80 gross; VAT 49.80 × 14 / 114 = 6.1157... → 6.12
    rows = vat_breakdown(mixed_invoice())
    assert rows == [VatRow(rate_bp=2550, net_cents=9203, vat_cents=2347, gross_cents=11550),
                    VatRow(rate_bp=1400, net_cents=4368, vat_cents=612, gross_cents=4980)]
    totals = invoice_totals(mixed_invoice())
    assert (totals.net_cents, totals.vat_cents, totals.gross_cents) == (13571, 2959, 16530)


@pytest.mark.parametrize(("gross", "rate", "vat"), [
    (12550, 2550, 2550), (100, 2550, 20), (0, 2550, 0), (11400, 1400, 1400), (1000, 1000, 91), (500, 0, 0),
    (251, 2550, 51),  # 51.0 exactly: 251 × 2550 / 12550
    (5, 1400, 1),  # 0.614 → 1
])
def test_vat_included_rounds_half_up_per_rate(gross: int, rate: int, vat: int) -> None:
    assert vat_included(gross, rate) == vat


def test_money_reference_and_latin1() -> None:
    assert money(123450) == "1 234,50 EUR" and money(5) == "0,05 EUR"
    assert reference_number("101679") == "1016792"  # 7-3-1 weights from the right: 9·7+7·3+6·1+1·7+0·3+1·1 = 98; 100 - 98 = 2
    assert latin1("Hinta 59,90 € – ääkköset Å ✓") == "Hinta 59,90 EUR - ääkköset Å ?"
    # a customer's name on a legal document stays readable in the core font
    assert latin1("Łukasz Dvořák, Şükrü Özdemir, Œuvre Ćosić") == "Lukasz Dvorák, Sükrü Özdemir, OEuvre Cosic"


def test_invoice_pdf_is_a_pdf_with_the_invoice_facts() -> None:
    invoice = mixed_invoice()
    pdf = invoice_pdf(invoice, order_for(invoice), shop=SHOP, compress=False)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    text = text_of(pdf)
    for expected in ("Tupa Koti Oy", "Y-tunnus 1234567-8", "L101679", "2.3.2026", "Aino Virtanen",
                     "Pellavainen pöytäliina 150×250 cm", "Keittokirja Äidin ruoat", "ALV 25,5 %", "ALV 14 %",
                     "23,47 EUR", "6,12 EUR", "165,30 EUR", "Maksettu"):
        assert expected in text, expected
    assert b"/CreationDate (D:20260302" in pdf


def test_unpaid_invoice_pdf_shows_payment_details_and_is_deterministic() -> None:
    invoice = mixed_invoice()
    order = order_for(invoice, OrderStatus.RECEIVED)
    pdf = invoice_pdf(invoice, order, shop=SHOP, compress=False)
    text = text_of(pdf)
    assert "FI21 1234 5600 0007 85" in text and "1016792" in text and "16.3.2026" in text
    assert invoice_pdf(invoice, order, shop=SHOP) == invoice_pdf(invoice, order, shop=SHOP)
    assert invoice_pdf(invoice, order, shop=SHOP).startswith(b"%PDF-")


def test_pdf_survives_text_outside_latin1() -> None:
    invoice = mixed_invoice()
    invoice.lines[0]["name"] = "Kynttilä 🕯 “Hämärä” – 20 cm €"
    order = order_for(invoice)
    order.shipping_address["name"] = "Åsa Ŝtrøm"
    text = text_of(invoice_pdf(invoice, order, shop=SHOP, compress=False))
    assert 'Kynttilä ? "Hämärä" - 20 cm EUR' in text and "Åsa Strøm" in text
