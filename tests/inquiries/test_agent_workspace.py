"""The agent's ticket page reads well: automatic messages with links as links, suggestions labelled in
words, and a linked answer that a customer reads as written text (whole sentences, the link on a line
of its own)."""
from __future__ import annotations

import html as html_lib
import re

from sqlalchemy import select

from kb.db import session
from kb.models import Ticket
from kb.services.shop.demo import DEMO_STAFF_PASSWORD
from kb.services.inquiries.linked_answers import answer_text
from tests.support.auth_helpers import log_in
from tests.support.html_forms import csrf_token

ARTICLE = """Näet tilauksesi vaiheen milloin tahansa [seurantasivulta](/fi/tilaus/seuranta). Tarvitset vain
tilausnumeron (esim. 100245) ja *tilauksessa* käyttämäsi sähköpostiosoitteen. Tilausnumero on
tilausvahvistuksessa. Tilauksen tila päivittyy heti, kun varasto on käsitellyt sen, ja saat siitä
ilmoituksen myös sähköpostiisi.

<script>alert("x")</script>

Tilauksen vaiheet:

- Vastaanotettu
- Käsittelyssä
"""


def test_a_linked_answer_is_whole_sentences_without_a_space_before_punctuation() -> None:
    text = answer_text(ARTICLE, limit=200)
    assert text == ("Näet tilauksesi vaiheen milloin tahansa seurantasivulta. Tarvitset vain tilausnumeron "
                    "(esim. 100245) ja tilauksessa käyttämäsi sähköpostiosoitteen. Tilausnumero on "
                    "tilausvahvistuksessa.")
    assert "…" not in answer_text(ARTICLE) and " ." not in answer_text(ARTICLE)
    assert "alert" not in answer_text(ARTICLE, limit=10_000)
    assert answer_text(ARTICLE, limit=10).endswith("seurantasivulta.")  # the first sentence is always whole


def demo_ticket(demo_app, demo_client) -> int:
    """Aino's inquiry, sent from the contact form while logged in (so it is hers in My messages too)."""
    assert log_in(demo_client, "aino.virtanen@example.com", "demo-asiakas-2026").status_code == 302
    page = demo_client.get("/yhteydenotto").get_data(as_text=True)
    assert demo_client.post("/yhteydenotto", data={
        "csrf_token": csrf_token(page), "inquiry_type": "delivery", "name": "Aino Virtanen",
        "email": "aino.virtanen@example.com", "subject": "Missä pakettini on?",
        "message": "Tilaukseni piti tulla maanantaina. Seurantakoodi ei näytä mitään. Missä paketti on?",
        "website": ""}).status_code == 302
    with demo_app.app_context():
        return session().scalar(select(Ticket.id).order_by(Ticket.id.desc()).limit(1))


def test_the_ticket_page_shows_links_as_links_and_matches_in_words(demo_app, demo_client) -> None:
    ticket_id = demo_ticket(demo_app, demo_client)
    agent = demo_app.test_client()
    assert log_in(agent, "agent@tupa.example", DEMO_STAFF_PASSWORD).status_code == 302
    html = agent.get(f"/agent/tickets/{ticket_id}").get_data(as_text=True)
    conversation = html.split('id="conversation"', 1)[1].split('id="reply"', 1)[0]
    # no address shown as text: every one is inside a link with words for its text
    visible = re.sub(r"<[^>]+>", " ", conversation)
    assert "http://" not in visible and "https://" not in visible
    assert re.search(r'<a href="http://localhost/fi/a/[^"]+"[^>]*>[^<]*\w[^<]*</a>', conversation)
    bodies = re.findall(r'<div class="message-body">(.*?)</div>', conversation, re.S)
    assert len(bodies) == 2 and "kiitos viestistäsi" in bodies[1]
    for body in bodies:  # paragraphs, never empty lines
        assert "\n" not in body and "<br><br>" not in body and "<p></p>" not in body
    panel = html.split('id="suggestions"', 1)[1].split("</section>", 1)[0]
    assert "pisteet" not in panel and not re.search(r"\d,\d\d", panel)
    assert "Hyvä osuma" in panel or "Mahdollinen" in panel


def test_the_linked_answer_goes_to_the_customer_as_sentences_and_a_link_on_its_own_line(demo_app,
                                                                                          demo_client) -> None:
    ticket_id = demo_ticket(demo_app, demo_client)
    agent = demo_app.test_client()
    assert log_in(agent, "agent@tupa.example", DEMO_STAFF_PASSWORD).status_code == 302
    html = agent.get(f"/agent/tickets/{ticket_id}").get_data(as_text=True)
    answer = html_lib.unescape(re.search(r'data-answer="([^"]*)"', html).group(1))
    sentences, more, url = answer.rsplit("\n", 2)
    assert sentences.endswith(".\n") or sentences.endswith(".")
    assert "…" not in answer and not re.search(r"\s[.,;:!?]", sentences)
    assert re.fullmatch(r"https?://\S+/fi/a/[\w-]+", url)
    assert more.startswith("Lue lisää ohjeestamme")
    version = html.split('name="version" value="', 1)[1].split('"', 1)[0]
    body = f"Hei,\n\n{answer}\n\nYstävällisin terveisin\nTupa"
    assert agent.post(f"/agent/tickets/{ticket_id}/reply", data={
        "csrf_token": csrf_token(html), "version": version, "linked": "", "body": body,
        "status_after": "waiting"}).status_code == 302
    from tests.fixtures.mail_helpers import sent_mail

    [mail] = [m for m in sent_mail(demo_app) if m["Subject"].startswith("Re:") or "T-" in m["Subject"]][-1:]
    assert url in mail.get_content().splitlines()  # a bare address on its own line: every mail client links it
    # the customer's own page shows the answer as text with the link as a link
    customer = demo_app.test_client()
    assert log_in(customer, "aino.virtanen@example.com", "demo-asiakas-2026").status_code == 302
    with demo_app.app_context():
        reference = session().get(Ticket, ticket_id).external_id
    page = customer.get(f"/tili/yhteydenotot/{reference}").get_data(as_text=True)
    assert f'<a href="{url}"' in page and ">Lue lisää ohjeestamme" in page


def test_messages_shown_as_html_run_no_script_whatever_they_hold() -> None:
    from kb.web.message_format import message_html
    from tests.support.html_safety import script_risks
    from tests.support.xss_payloads import PAYLOADS

    for payload in PAYLOADS:
        for text in (payload, f"Otsikko {payload}\nhttps://x.example/{payload}", f"- {payload}\n  {payload}",
                     f"Katso: https://x.example/a?b={payload}", f"{payload}:\nhttps://x.example/"):
            assert script_risks(str(message_html(text))) == [], text
    assert 'href="javascript' not in str(message_html("Klikkaa: javascript:alert(1)\njavascript:alert(1)"))
