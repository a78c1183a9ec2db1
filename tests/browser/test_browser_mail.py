"""An e-mail reply in real Chromium at phone width (390 px): the agent and the customer see the new words
first, the quoted thread folded behind "Näytä lainattu viesti" until they open it, the signature muted."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from kb.db import commit, session, utcnow
from kb.models import Ticket
from tests.fixtures.browser_fixtures import browser_log_in as log_in

pytestmark = pytest.mark.browser

NEW = "Pöytäliina tuli, mutta se on väärän värinen. Voinko vaihtaa sen siniseen?"
EARLIER = "Kiitos tilauksestasi! Pöytäliina lähtee varastolta tänään ja on perillä parin päivän kuluttua."
REPLY = f"""\
From: Aino Virtanen <aino.virtanen@example.com>
To: asiakaspalvelu@tupa.example
Subject: Re: Tilauksesi
Date: Mon, 04 Nov 2024 10:00:00 +0200
Message-ID: <browser-reply-1@mail.example.com>
Content-Type: text/plain; charset="utf-8"

Hei,

{NEW}

Ystävällisin terveisin
Aino Virtanen

ma 4.11.2024 klo 9.05 Tupa asiakaspalvelu <
asiakaspalvelu@tupa.example> kirjoitti:
> {EARLIER}
> https://tupa.example/tilaus/seuranta/hyvin-pitka-osoite-joka-ei-saa-leventaa-sivua-yli-puhelimen-ruudun
"""


def _check_conversation(page, new_text: str) -> None:
    """New text visible above the folded quote; opening it shows the thread; nothing wider than the phone."""
    message = page.locator(".message").filter(has_text=new_text).first
    assert message.locator(".message-body").first.is_visible()
    assert message.locator(".mail-signature").inner_text() == "Ystävällisin terveisin · Aino Virtanen"
    quote = message.locator("details.mail-quote")
    summary = quote.locator("summary")
    assert summary.inner_text() == "Näytä lainattu viesti"
    earlier = quote.locator(".quoted-text")
    assert not earlier.is_visible()
    new_top = message.get_by_text(new_text).bounding_box()["y"]
    assert new_top < summary.bounding_box()["y"]
    summary.click()
    assert earlier.is_visible() and EARLIER in earlier.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_agent_and_customer_see_the_new_text_first_and_open_the_quote(page, live_server: str, demo_app,
                                                                      tmp_path: Path) -> None:
    from kb.services.shop.demo import DEMO_CUSTOMER_PASSWORD, DEMO_STAFF_PASSWORD

    path = tmp_path / "vastaus.eml"
    path.write_text(REPLY, encoding="utf-8")
    assert demo_app.test_cli_runner().invoke(args=["import", "email", str(path)]).exit_code == 0
    with demo_app.app_context():
        ticket = session().scalar(select(Ticket).where(Ticket.external_id == "browser-reply-1@mail.example.com"))
        ticket_id = ticket.id
        ticket.sender_confirmed_at = utcnow()  # she opened the acknowledgement's link: the mail is hers
        commit()
    page.set_viewport_size({"width": 390, "height": 844})

    log_in(page, live_server, "agent@tupa.example", DEMO_STAFF_PASSWORD)
    page.goto(f"{live_server}/agent/tickets/{ticket_id}")
    _check_conversation(page, NEW)

    page.context.clear_cookies()
    log_in(page, live_server, "aino.virtanen@example.com", DEMO_CUSTOMER_PASSWORD)
    page.goto(f"{live_server}/tili/yhteydenotot/T-{ticket_id:06d}")
    _check_conversation(page, NEW)
