"""Invoices: the VAT breakdown of an invoice's line snapshot, and the invoice as a PDF.

Prices include VAT, so the VAT of each rate is taken out of the gross sum of
that rate: ``vat = round(gross * rate / (100 + rate))``, rounded half up once
per rate (not per line), as Finnish invoices show it. Shipping is taxed at the
general rate. The PDF uses a core font (no font files needed); its text is
Latin-1, which has ä, ö and å but no euro sign, so amounts read "59,90 EUR"; other letters are
shown as their base letter ("Dvořák" as "Dvorák", "Łukasz" as "Lukasz"), never dropped.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from fpdf import FPDF

from kb.models import Invoice, Order, OrderStatus

GENERAL_VAT_BP = 2550
PAID = (OrderStatus.PAID, OrderStatus.PACKING, OrderStatus.PACKED, OrderStatus.SHIPPED, OrderStatus.DELIVERED,
        OrderStatus.RETURNED)


@dataclass(frozen=True)
class VatRow:
    """One VAT rate's share of an invoice, in cents; the rate in basis points (2550 = 25.5 %)."""

    rate_bp: int
    net_cents: int
    vat_cents: int
    gross_cents: int


@dataclass(frozen=True)
class Totals:
    net_cents: int
    vat_cents: int
    gross_cents: int


def vat_included(gross_cents: int, rate_bp: int) -> int:
    """The VAT contained in a VAT-inclusive amount, rounded half up to a cent."""
    vat = Decimal(gross_cents) * rate_bp / (10_000 + rate_bp)
    return int(vat.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def vat_breakdown(invoice: Invoice) -> list[VatRow]:
    """Net, VAT and gross per rate, highest rate first."""
    gross: dict[int, int] = {}
    for line in invoice.lines or []:
        rate = int(line.get("vat_rate_bp", GENERAL_VAT_BP))
        gross[rate] = gross.get(rate, 0) + int(line["quantity"]) * int(line["unit_price_cents"])
    if invoice.shipping_cents:
        gross[GENERAL_VAT_BP] = gross.get(GENERAL_VAT_BP, 0) + invoice.shipping_cents
    rows = []
    for rate in sorted(gross, reverse=True):
        vat = vat_included(gross[rate], rate)
        rows.append(VatRow(rate_bp=rate, net_cents=gross[rate] - vat, vat_cents=vat, gross_cents=gross[rate]))
    return rows


def invoice_totals(invoice: Invoice) -> Totals:
    rows = vat_breakdown(invoice)
    return Totals(net_cents=sum(r.net_cents for r in rows), vat_cents=sum(r.vat_cents for r in rows),
                  gross_cents=sum(r.gross_cents for r in rows))


def reference_number(base: str) -> str:
    """A Finnish bank reference (viitenumero): the digits of ``base`` plus a 7-3-1 check digit."""
    digits = "".join(c for c in base if c.isdigit()).lstrip("0")[-19:] or "1"
    digits = digits.rjust(3, "0") if len(digits) < 3 else digits
    total = sum(int(d) * (7, 3, 1)[i % 3] for i, d in enumerate(reversed(digits)))
    return digits + str((10 - total % 10) % 10)


def money(cents: int) -> str:
    """Finnish style: 1 234,50 EUR."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    return f"{sign}{euros:,}".replace(",", " ") + f",{rest:02d} EUR"


def percent(rate_bp: int) -> str:
    return f"{Decimal(rate_bp) / 100:f}".rstrip("0").rstrip(".").replace(".", ",") + " %"


_REPLACEMENTS = str.maketrans({"€": "EUR", "–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"',
                               "…": "...", "\u2009": " ", "\u202f": " "})


#: Letters outside Latin-1 that Unicode does not decompose into a base letter and a mark.
_LETTERS = str.maketrans({"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "ı": "i", "Œ": "OE",
                          "œ": "oe", "ŋ": "ng", "Ŋ": "NG", "ſ": "s"})


def _nearest_latin1(char: str) -> str:
    """A letter Latin-1 lacks as its base letter (ř -> r, Ł -> L), so a customer's name stays readable."""
    if char.isascii() or ord(char) < 256:
        return char
    base = "".join(c for c in unicodedata.normalize("NFKD", char.translate(_LETTERS))
                   if not unicodedata.combining(c))
    return base if base and all(ord(c) < 256 for c in base) else "?"


def latin1(value: object) -> str:
    """Text the core font can show: common punctuation mapped, other letters as their base letter, else '?'."""
    text = str(value).translate(_REPLACEMENTS)
    return "".join(_nearest_latin1(char) for char in text)


def _day(value: datetime | date | None, zone: ZoneInfo) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        value = value.astimezone(zone).date()
    return f"{value.day}.{value.month}.{value.year}"


def invoice_pdf(invoice: Invoice, order: Order, *, shop: dict[str, str], compress: bool = True) -> bytes:
    """The invoice as a one-page A4 PDF (Finnish labels); the same invoice always gives the same bytes."""
    zone = ZoneInfo(shop.get("timezone") or "Europe/Helsinki")
    pdf = FPDF(format="A4")
    pdf.set_compression(compress)
    pdf.set_creation_date(invoice.issued_at)
    pdf.set_title(latin1(f"Lasku {invoice.number}"))
    pdf.set_author(latin1(shop.get("legal_name") or shop.get("name", "")))
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    width = pdf.epw

    def line(label: str, value: str, *, bold: bool = False, w: float = 45) -> None:
        pdf.set_font("helvetica", "B" if bold else "", 10)
        pdf.cell(w, 6, latin1(label))
        pdf.cell(0, 6, latin1(value), new_x="LMARGIN", new_y="NEXT")

    pdf.set_font("helvetica", "B", 16)
    pdf.cell(width / 2, 10, latin1(shop.get("name", "")))
    pdf.cell(width / 2, 10, "LASKU", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 9)
    seller = [shop.get("legal_name", ""), shop.get("address", ""),
              f"Y-tunnus {shop['business_id']}" if shop.get("business_id") else "",
              shop.get("email", ""), shop.get("phone", "")]
    for text_line in filter(None, seller):
        pdf.cell(0, 4.5, latin1(text_line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)

    address = order.shipping_address or {}
    top = pdf.get_y()
    pdf.set_font("helvetica", "B", 10)
    pdf.cell(0, 6, "Asiakas", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 10)
    customer = [address.get("name", ""), address.get("street", ""),
                f"{address.get('postal_code', '')} {address.get('city', '')}".strip(),
                address.get("country", "") if address.get("country") not in ("", "FI") else "", order.email]
    for text_line in filter(None, customer):
        pdf.cell(width / 2, 5, latin1(text_line), new_x="LMARGIN", new_y="NEXT")
    bottom = pdf.get_y()
    pdf.set_xy(pdf.l_margin + width / 2, top)
    paid = order.status in PAID
    facts = [("Laskun numero", invoice.number), ("Laskun päivä", _day(invoice.issued_at, zone)),
             ("Tilausnumero", order.number), ("Tilauspäivä", _day(order.placed_at, zone)),
             ("Eräpäivä", "Maksettu" if paid else _day(invoice.due_at, zone))]
    for label, value in facts:
        pdf.set_x(pdf.l_margin + width / 2)
        pdf.set_font("helvetica", "", 10)
        pdf.cell(35, 6, latin1(label))
        pdf.set_font("helvetica", "B", 10)
        pdf.cell(0, 6, latin1(value), new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(bottom, pdf.get_y()) + 8)

    columns = (("Tuote", 0.46, "L"), ("Määrä", 0.1, "R"), ("À-hinta", 0.16, "R"), ("ALV", 0.1, "R"),
               ("Yhteensä", 0.18, "R"))
    pdf.set_font("helvetica", "B", 9)
    for label, share, align in columns:
        pdf.cell(width * share, 7, latin1(label), border="B", align=align)
    pdf.ln()
    pdf.set_font("helvetica", "", 9)
    rows = [(f"{item['name']} ({item['sku']})", str(item["quantity"]), money(int(item["unit_price_cents"])),
             percent(int(item.get("vat_rate_bp", GENERAL_VAT_BP))),
             money(int(item["quantity"]) * int(item["unit_price_cents"]))) for item in invoice.lines or []]
    if invoice.shipping_cents:
        rows.append(("Toimitus", "1", money(invoice.shipping_cents), percent(GENERAL_VAT_BP),
                     money(invoice.shipping_cents)))
    for values in rows:
        for (_, share, align), value in zip(columns, values):
            pdf.cell(width * share, 6, latin1(value)[:60], align=align)
        pdf.ln()
    pdf.ln(4)

    pdf.set_font("helvetica", "B", 9)
    vat_columns = (("ALV-kanta", 0.4), ("Veroton", 0.2), ("ALV", 0.2), ("Verollinen", 0.2))
    for label, share in vat_columns:
        pdf.cell(width * share, 6, latin1(label), border="B", align="L" if label == "ALV-kanta" else "R")
    pdf.ln()
    pdf.set_font("helvetica", "", 9)
    for row in vat_breakdown(invoice):
        values = (f"ALV {percent(row.rate_bp)}", money(row.net_cents), money(row.vat_cents), money(row.gross_cents))
        for (label, share), value in zip(vat_columns, values):
            pdf.cell(width * share, 6, latin1(value), align="L" if label == "ALV-kanta" else "R")
        pdf.ln()
    totals = invoice_totals(invoice)
    pdf.set_font("helvetica", "B", 11)
    pdf.cell(width * 0.6, 9, "Yhteensä")
    pdf.cell(width * 0.4, 9, latin1(money(totals.gross_cents)), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)

    pdf.set_font("helvetica", "B", 10)
    pdf.cell(0, 6, "Maksutiedot", new_x="LMARGIN", new_y="NEXT")
    if paid:
        line("Tila", f"Maksettu, kiitos! ({money(totals.gross_cents)})")
    else:
        line("Saaja", shop.get("legal_name") or shop.get("name", ""))
        if shop.get("iban"):
            line("Tilinumero (IBAN)", shop["iban"] + (f"  BIC {shop['bic']}" if shop.get("bic") else ""))
        line("Viitenumero", reference_number(order.number))
        line("Eräpäivä", _day(invoice.due_at, zone))
        line("Summa", money(totals.gross_cents), bold=True)
    return bytes(pdf.output())
