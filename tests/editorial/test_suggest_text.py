"""The suggester's text handling: cleaning and normalising inquiries, and telling their language."""
from __future__ import annotations

import pytest

from suggest import detect_language, normalise_text
from suggest.normalise import clean_text


def test_normalise_strips_quotes_signature_addresses_links_and_order_numbers():
    raw = ("Hei, missä tilaukseni #48213 on? Lähetin viestin osoitteesta matti@example.fi.\n"
           "Katso https://kauppa.example/tilaus/48213\n\n"
           "Ystävällisin terveisin\nMatti Meikäläinen\n"
           "> Kiitos tilauksestasi ORD-2026-0042\n")
    out = normalise_text(raw)
    assert out == "hei missa tilaukseni on lahetin viestin osoitteesta katso"


@pytest.mark.parametrize("raw, kept, dropped", [
    ("Where is my parcel?\n\nOn Mon, 2 Mar 2026, Shop <help@shop.example> wrote:\n> Your order shipped",
     "where is my parcel", "shipped"),
    ("Var är mitt paket?\n\nAnna Svensson skrev:\n> Tack för din beställning", "var ar mitt paket", "tack"),
    ("Missä paketti on?\n\nAsiakaspalvelu kirjoitti:\n> Kiitos", "missa paketti on", "kiitos"),
    ("Can I pay by invoice?\n-- \nJohn Smith\nAcme Ltd", "can i pay by invoice", "acme"),
    ("Kan jag byta storlek? Med vänliga hälsningar, Eva", "kan jag byta storlek", "eva"),
    ("I want a refund. Best regards, Tom", "i want a refund", "tom"),
])
def test_normalise_cuts_reply_headers_and_signatures(raw, kept, dropped):
    out = normalise_text(raw)
    assert out == kept
    assert dropped not in out


def test_clean_text_keeps_case_for_display():
    assert clean_text("Missä on TILAUS 123456?\n> vanha viesti") == "Missä on TILAUS ?"


def test_normalise_folds_accents_and_case():
    assert normalise_text("ÄÖÅ Ärrä Öljy Åsa") == "aoa arra oljy asa"


@pytest.mark.parametrize("text, language", [
    ("Missä tilaukseni on?", "fi"), ("Voinko palauttaa kengät?", "fi"), ("kiitos", "fi"), ("moi", "fi"),
    ("Var är min beställning?", "sv"), ("Kan jag returnera skorna?", "sv"), ("tack", "sv"), ("hej", "sv"),
    ("Where is my order?", "en"), ("Can I return the shoes?", "en"), ("hello", "en"), ("thanks", "en"),
])
def test_detect_language_on_short_texts(text, language):
    assert detect_language(text) == language


def test_detect_language_of_empty_text_is_english():
    assert detect_language("") == "en"
