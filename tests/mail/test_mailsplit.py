"""The e-mail splitter (:mod:`mailsplit`): the customer's new words apart from the quoted thread and the
signature, in Finnish and Swedish first, English and the clients' header words in other languages second.
Every text here is written for these tests."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from mailsplit import split_message

QUESTION_FI = "Hei,\n\nTilaamani pöytäliina ei ole vielä tullut. Voitteko tarkistaa, missä paketti on?"
QUESTION_SV = "Hej!\n\nMin beställning har inte kommit fram. Kan ni kolla var paketet är?"
EARLIER_FI = "> Kiitos tilauksestasi! Paketti lähtee varastolta kahden arkipäivän kuluessa."
EARLIER_SV = "> Tack för din beställning! Paketet skickas inom två vardagar."


def words(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("header", [
    # Gmail in Finnish, the address wrapped onto a second line
    "pe 20. lokakuuta 2017 klo 17.50 Tupa asiakaspalvelu <\nasiakaspalvelu@tupa.example> kirjoitti:",
    # Gmail in Finnish on one line, and a plain "… kirjoitti:"
    "ma 4.11.2024 klo 9.05 Tupa asiakaspalvelu <asiakaspalvelu@tupa.example> kirjoitti:",
    "Asiakaspalvelu kirjoitti:",
    # Apple Mail in Finnish
    "4.11.2024 kello 9.05, Tupa asiakaspalvelu <asiakaspalvelu@tupa.example> kirjoitti:",
    # an attribution wrapped over three lines
    "Tiistaina 5. marraskuuta 2024 klo 9.05 Tupa\nasiakaspalvelu <\nasiakaspalvelu@tupa.example> kirjoitti:",
    # a header without a "wrote" verb
    "2024-11-24 16:32 GMT+02:00 Tupa asiakaspalvelu <asiakaspalvelu@tupa.example>:",
])
def test_finnish_reply_headers_end_the_new_text(header: str) -> None:
    parts = split_message(f"{QUESTION_FI}\n\n{header}\n{EARLIER_FI}\n")
    assert words(parts.text) == words(QUESTION_FI)
    assert words(header) in words(parts.quoted) and "Kiitos tilauksestasi" in parts.quoted


@pytest.mark.parametrize("header", [
    "Den fre 20 okt. 2017 kl 17:50 skrev Butiken Tupa <kundtjanst@tupa.example>:",
    "20 okt. 2017 kl. 17:50 skrev Butiken Tupa <kundtjanst@tupa.example>:",
    "Den 24 november 2024 kl. 16:32 skrev Butiken\nTupa kundtjänst <\nkundtjanst@tupa.example>:",
    "Kundtjänsten skrev:",
    "2024-11-24 16:32 GMT+01:00 Butiken Tupa <kundtjanst@tupa.example>:",
])
def test_swedish_reply_headers_end_the_new_text(header: str) -> None:
    parts = split_message(f"{QUESTION_SV}\n\n{header}\n{EARLIER_SV}\n")
    assert words(parts.text) == words(QUESTION_SV)
    assert "Tack för din beställning" in parts.quoted


@pytest.mark.parametrize("block", [
    "-----Alkuperäinen viesti-----\nLähettäjä: Tupa asiakaspalvelu <asiakaspalvelu@tupa.example>\n"
    "Lähetetty: 4. marraskuuta 2024 9:05\nVastaanottaja: Aino Virtanen\nAihe: Tilauksesi 100123",
    "Lähettäjä: Tupa asiakaspalvelu <asiakaspalvelu@tupa.example>\nLähetetty: maanantai 4. marraskuuta 2024 9.05\n"
    "Vastaanottaja: Aino Virtanen <aino@example.com>\nAihe: RE: Tilauksesi 100123",
    "________________________________\nLähettäjä: Tupa asiakaspalvelu <asiakaspalvelu@tupa.example>\n"
    "Lähetetty: maanantai 4. marraskuuta 2024 9.05\nVastaanottaja: Aino Virtanen\nAihe: Tilauksesi",
    "*Lähettäjä:* Tupa asiakaspalvelu [mailto:asiakaspalvelu@tupa.example]\n*Lähetetty:* 4. marraskuuta 2024 9:05\n"
    "*Vastaanottaja:* Aino Virtanen\n*Aihe:* Tilauksesi",
    "*From:* Tupa customer service [mailto:asiakaspalvelu@tupa.example]\n*Sent:* Monday, November 4, 2024 9:05 AM\n"
    "*To:* Aino Virtanen\n*Subject:* Your order",
])
def test_finnish_and_bold_outlook_blocks_end_the_new_text(block: str) -> None:
    parts = split_message(f"{QUESTION_FI}\n\n{block}\n\nKiitos tilauksestasi! Paketti lähtee pian.\n")
    assert words(parts.text) == words(QUESTION_FI) and parts.signature == ""  # the rule above goes with the quote
    assert "Paketti lähtee pian" in parts.quoted and "Paketti lähtee pian" not in parts.text


@pytest.mark.parametrize("block", [
    "Från: Butiken Tupa <kundtjanst@tupa.example>\nSkickat: den 4 november 2024 09:05\nTill: Eva Svensson\n"
    "Ämne: SV: Din beställning",
    "-----Ursprungligt meddelande-----\nFrån: Butiken Tupa [mailto:kundtjanst@tupa.example]\n"
    "Skickat: måndag 4 november 2024 09:05\nTill: Eva Svensson\nÄmne: Din beställning",
    "*Från:* Butiken Tupa <kundtjanst@tupa.example>\n*Skickat:* måndag 4 november 2024 09:05\n*Till:* Eva\n*Ämne:* Order",
])
def test_swedish_outlook_blocks_end_the_new_text(block: str) -> None:
    parts = split_message(f"{QUESTION_SV}\n\n{block}\n\nTack för din beställning! Paketet skickas snart.\n")
    assert words(parts.text) == words(QUESTION_SV)
    assert "Paketet skickas snart" in parts.quoted


@pytest.mark.parametrize("block", [
    "Von: Tupa <service@tupa.example>\nGesendet: Montag, 4. November 2024 09:05\nAn: Anna\nBetreff: Ihre Bestellung",
    "De : Tupa <service@tupa.example>\nEnvoyé : lundi 4 novembre 2024 09:05\nÀ : Anne\nObjet : Votre commande",
    "De: Tupa <service@tupa.example>\nEnviado: lunes, 4 de noviembre de 2024 9:05\nPara: Ana\nAsunto: Su pedido",
    "Da: Tupa <service@tupa.example>\nInviato: lunedì 4 novembre 2024 09:05\nA: Anna\nOggetto: Il suo ordine",
    "Van: Tupa <service@tupa.example>\nVerzonden: maandag 4 november 2024 09:05\nAan: Anna\nOnderwerp: Uw bestelling",
    "De: Tupa <service@tupa.example>\nEnviada em: segunda-feira, 4 de novembro de 2024 09:05\nPara: Ana\n"
    "Assunto: Seu pedido",
    "Od: Tupa <service@tupa.example>\nWysłano: poniedziałek, 4 listopada 2024 09:05\nDo: Anna\nTemat: Zamówienie",
    "От: Tupa <service@tupa.example>\nОтправлено: 4 ноября 2024 г. 9:05\nКому: Анна\nТема: Ваш заказ",
    "Fra: Tupa <service@tupa.example>\nSendt: 4. november 2024 09:05\nTil: Anna\nEmne: Din ordre",
    "Am 04.11.2024 um 09:05 schrieb Tupa <service@tupa.example>:",
    "Le 4 nov. 2024 à 09:05, Tupa <service@tupa.example> a écrit :",
    "El 4 nov 2024, a las 9:05, Tupa <service@tupa.example> escribió:",
    "Il giorno 4 nov 2024, alle ore 09:05, Tupa <service@tupa.example> ha scritto:",
    "Op 4 nov. 2024 om 09:05 schreef Tupa <service@tupa.example>:",
    "W dniu 4.11.2024 o 09:05 Tupa <service@tupa.example> napisał:",
])
def test_the_clients_header_words_in_other_languages(block: str) -> None:
    parts = split_message(f"Where is my parcel?\n\n{block}\n\nThe earlier thread.\n")
    assert parts.text == "Where is my parcel?"
    assert "The earlier thread." in parts.quoted


@pytest.mark.parametrize("footer", ["Lähetetty iPhonesta", "Lähetetty Android-laitteesta", "Skickat från min iPhone",
                                    "Sent from my iPhone", "Skickat från Outlook för iOS", "Hanki Outlook for Android"])
def test_mobile_footers_are_the_signature(footer: str) -> None:
    parts = split_message(f"{QUESTION_FI}\n\n{footer}\n")
    assert words(parts.text) == words(QUESTION_FI)
    assert parts.signature == footer


@pytest.mark.parametrize("text, signature", [
    (QUESTION_FI + "\n\nYstävällisin terveisin\nAino Virtanen\n040 123 4567", "Ystävällisin terveisin\nAino Virtanen\n040 123 4567"),
    (QUESTION_FI + "\n\nTerveisin,\nAino", "Terveisin,\nAino"),
    (QUESTION_FI + "\n\nParhain terveisin Aino Virtanen", "Parhain terveisin Aino Virtanen"),
    (QUESTION_SV + "\n\nMed vänliga hälsningar\nEva Svensson", "Med vänliga hälsningar\nEva Svensson"),
    (QUESTION_SV + "\n\nMvh\nEva", "Mvh\nEva"),
    (QUESTION_SV + "\n\nVänliga hälsningar, Eva Svensson", "Vänliga hälsningar, Eva Svensson"),
    ("Where is my parcel?\n\nBest regards,\nTom Smith\nAcme Ltd", "Best regards,\nTom Smith\nAcme Ltd"),
    ("Where is my parcel?\n\n-- \nTom Smith\nhttps://acme.example", "--\nTom Smith\nhttps://acme.example"),
])
def test_sign_offs_start_the_signature(text: str, signature: str) -> None:
    parts = split_message(text)
    assert parts.signature == signature
    assert parts.text == text[:text.index(signature.split()[0])].strip()


@pytest.mark.parametrize("text", [
    "Hello, with regards to my last parcel: the box was broken and two cups were missing.",
    "The notification was sent from my iPhone app, but the order page shows nothing.",
    "Hei,\nPyydän ystävällisesti palauttamaan rahat tililleni, koska tuote oli rikki.",
    "Hej!\nVänligen skicka en ny faktura, den förra hade fel belopp.",
    "Hyvää päivää,\nTerveisin kaikki meillä ovat tyytyväisiä, mutta yksi kuppi puuttuu. Voitteko lähettää sen?",
])
def test_a_sentence_is_never_cut_for_a_word_that_looks_like_a_sign_off(text: str) -> None:
    parts = split_message(text)
    assert parts.text == text and parts.signature == "" and parts.quoted == ""


def test_thanks_stay_with_the_customers_words() -> None:
    text = QUESTION_FI + "\n\nKiitos jo etukäteen!\nAino"
    assert split_message(text).text == text


def test_a_closing_after_a_sentence_on_one_line_is_the_signature() -> None:
    parts = split_message("Kan jag byta storlek på skorna? Med vänliga hälsningar, Eva")
    assert (parts.text, parts.signature) == ("Kan jag byta storlek på skorna?", "Med vänliga hälsningar, Eva")


@pytest.mark.parametrize("marker", ["---------- Välitetty viesti ----------", "---------- Forwarded message ---------",
                                    "---------- Vidarebefordrat meddelande ----------", "Begin forwarded message:"])
def test_forwarded_content_stays_with_the_new_text(marker: str) -> None:
    text = (f"Tiedoksi alla oleva viesti kuljetusliikkeeltä.\n\n{marker}\nLähettäjä: Posti <noreply@posti.example>\n"
            "Päivämäärä: ma 4.11.2024 klo 9.05\nAihe: Lähetys palautettu\nVastaanottaja: aino@example.com\n\n"
            "Lähetys JJFI123 palautettiin lähettäjälle.\n\nYstävällisin terveisin\nPosti")
    parts = split_message(text)
    assert parts.text == text and parts.quoted == ""


def test_an_outlook_forward_stays_with_the_new_text() -> None:
    text = ("Katsokaa tätä.\n\nLähettäjä: Posti <noreply@posti.example>\nLähetetty: 4. marraskuuta 2024 9:05\n"
            "Vastaanottaja: Aino\nAihe: VL: Lähetys palautettu\n\nLähetys palautettiin lähettäjälle.")
    assert split_message(text).text == text


def test_a_mail_that_only_quotes_has_no_new_text() -> None:
    parts = split_message("ma 4.11.2024 klo 9.05 Tupa <asiakaspalvelu@tupa.example> kirjoitti:\n" + EARLIER_FI)
    assert parts.text == "" and "Kiitos tilauksestasi" in parts.quoted


def test_a_reply_under_the_quote_is_the_new_text() -> None:
    parts = split_message("Asiakaspalvelu kirjoitti:\n" + EARLIER_FI + "\n\nKiitos, paketti tuli tänään.")
    assert parts.text == "Kiitos, paketti tuli tänään." and "Kiitos tilauksestasi" in parts.quoted


def test_answers_written_between_quoted_lines_keep_those_lines() -> None:
    text = ("Asiakaspalvelu kirjoitti:\n> Haluatteko uuden tuotteen vai rahat takaisin?\n\nRahat takaisin, kiitos.\n\n"
            "> Mille tilille?\n\nFI21 1234 5600 0007 85")
    parts = split_message(text + "\n\n> Ystävällisin terveisin\n> Tupa")
    assert parts.text == text and "> Tupa" in parts.quoted


def test_html_quotes_are_found_before_their_markers_are_lost() -> None:
    html = ("<div dir='ltr'>Hei, paketti ei ole tullut.</div><br><div class='gmail_quote'>"
            "<div class='gmail_attr'>Tupa kirjoitti:</div><blockquote class='gmail_quote'>Kiitos tilauksestasi!"
            "</blockquote></div>")
    assert split_message("", html).text == "Hei, paketti ei ole tullut."
    outlook = ("<p>Hej, paketet har inte kommit.</p><div id='divRplyFwdMsg'><b>Från:</b> Tupa<br>"
               "<b>Skickat:</b> den 4 november</div><div>Tack för din beställning!</div>")
    parts = split_message("", outlook)
    assert parts.text == "Hej, paketet har inte kommit." and "Tack för din beställning" in parts.quoted
    cited = "<p>Kyllä käy.</p><blockquote type='cite'>Sopiiko vaihto?</blockquote>"
    assert split_message("", cited).quoted == "> Sopiiko vaihto?"


def test_the_html_marks_a_quote_that_the_plain_text_hides() -> None:
    plain = "Kyllä käy.\n\nSopiiko vaihto isompaan kokoon?"
    html = "<p>Kyllä käy.</p><div class='gmail_quote'><blockquote>Sopiiko vaihto isompaan kokoon?</blockquote></div>"
    parts = split_message(plain, html)
    assert parts.text == "Kyllä käy." and "Sopiiko vaihto" in parts.quoted


def test_a_plain_message_is_left_whole() -> None:
    parts = split_message(QUESTION_SV)
    assert (parts.text, parts.quoted, parts.signature) == (QUESTION_SV, "", "")


def test_a_customer_citing_the_shop_in_their_own_words_keeps_them() -> None:
    text = ("Hei,\nTeidän myyjänne kirjoitti:\n\"Palautus onnistuu 60 päivän ajan\"\n"
            "Nyt palautusta ei kuitenkaan hyväksytä. Miksi?")
    assert split_message(text).text == text


def test_a_forward_inside_the_html_quote_container_stays_with_the_new_text() -> None:
    plain = ("Tiedoksi.\n\n---------- Välitetty viesti ---------\nLähettäjä: Posti <noreply@posti.example>\n"
             "Päivämäärä: ma 4.11.2024 klo 9.05\nAihe: Lähetys palautettu\n\nLähetys palautettiin lähettäjälle.")
    html = ("<div>Tiedoksi.</div><div class='gmail_quote'><div class='gmail_attr'>---------- Välitetty viesti "
            "---------<br>Lähettäjä: Posti &lt;noreply@posti.example&gt;<br>Päivämäärä: ma 4.11.2024 klo 9.05<br>"
            "Aihe: Lähetys palautettu<br></div><br>Lähetys palautettiin lähettäjälle.</div>")
    for parts in (split_message(plain, html), split_message("", html)):
        assert "Lähetys palautettiin lähettäjälle." in parts.text and parts.quoted == ""
    outlook = ("<p>Katsokaa alta.</p><div id='divRplyFwdMsg'><b>Lähettäjä:</b> Posti &lt;noreply@posti.example&gt;"
               "<br><b>Lähetetty:</b> 4.11.2024<br><b>Vastaanottaja:</b> Aino<br><b>Aihe:</b> VL: Lähetys</div>"
               "<p>Lähetys palautettiin lähettäjälle.</p>")
    assert "Lähetys palautettiin lähettäjälle." in split_message("", outlook).text


LINES = ["ma 4.11.2024 klo 9.05 Tupa <asiakaspalvelu@tupa.example> kirjoitti:", "> Kiitos tilauksestasi",
         "-----Alkuperäinen viesti-----", "Lähettäjä: Tupa <asiakaspalvelu@tupa.example>", "Lähetetty: 4.11.2024",
         "Aihe: VL: Paketti", "-- ", "Ystävällisin terveisin", "Aino", "Skickat från min iPhone",
         "Tack. Med vänliga hälsningar Eva", "---------- Vidarebefordrat meddelande ----------", "",
         "Kundtjänsten skrev:", "________________________________"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(LINES), st.text(alphabet="abcåäö >:-_@.,!?AÖ", max_size=30)), max_size=14))
def test_nothing_the_customer_wrote_is_lost(lines: list[str]) -> None:
    """The three parts together hold every character of the message (only line breaks and spaces move)."""
    text = "\n".join(lines)
    parts = split_message(text)
    kept = "".join(parts.text.split()) + "".join(parts.quoted.split()) + "".join(parts.signature.split())
    assert sorted(kept) == sorted("".join(text.split()))
