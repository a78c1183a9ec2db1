"""Walks through the flows that had no browser test: My messages, sign-up with e-mail confirmation,
password reset, the order-change form and the admin pages. Real Chromium, real forms, mail read
from the outbox the app delivers to; the page fixture fails the test on any console error."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from kb.db import commit, session, utcnow
from kb.services.shop.demo import DEMO_CUSTOMER_PASSWORD, DEMO_STAFF_PASSWORD
from tests.fixtures.mail_helpers import sent_mail
from tests.fixtures.browser_fixtures import browser_log_in as log_in

pytestmark = pytest.mark.browser

CUSTOMER = "aino.virtanen@example.com"


def submit(page, form_selector: str) -> None:
    """Press the form's submit button and wait for the page it leads to."""
    with page.expect_navigation():
        page.locator(f"{form_selector} button[type=submit]").first.click()


def link_in_mail(app, to: str, path: str) -> str:
    """The path of the newest link to ``path`` in mail sent to ``to``."""
    for message in reversed(sent_mail(app)):
        if to in message["To"]:
            found = re.search(rf"https?://[^/\s]+({re.escape(path)}\S+)", message.get_body(("plain",)).get_content())
            if found:
                return found.group(1)
    raise AssertionError(f"no mail to {to} with a link to {path}")


def test_my_messages_shows_the_conversation_and_takes_a_new_message(page, live_server: str, demo_app) -> None:  # noqa: F811
    from kb.models import MessageKind, Ticket, TicketMessage

    log_in(page, live_server, CUSTOMER, DEMO_CUSTOMER_PASSWORD)
    page.goto(live_server + "/yhteydenotto")
    page.locator("select[name=inquiry_type]").select_option("delivery")
    page.locator("input[name=subject]").fill("Missä pakettini on?")
    page.locator("textarea[name=message]").fill("Tilasin viikko sitten, eikä pakettia ole vielä tullut.")
    submit(page, "form.contact-form")
    reference = page.url.rsplit("/", 1)[1]
    with demo_app.app_context():  # an agent answers, and writes a note the customer must never see
        ticket = session().scalar(select(Ticket).where(Ticket.external_id == reference))
        session().add_all([TicketMessage(ticket_id=ticket.id, kind=MessageKind.REPLY, created_at=utcnow(),
                                         body="Paketti lähti tänään, seurantakoodi tulee sähköpostiin."),
                           TicketMessage(ticket_id=ticket.id, kind=MessageKind.NOTE, created_at=utcnow(),
                                         body="SISÄINEN: asiakas on kysynyt ennenkin")])
        commit()

    page.goto(live_server + "/fi/")
    page.locator(".account-nav a[href='/tili/yhteydenotot']").click()
    page.wait_for_url("**/tili/yhteydenotot")
    page.locator("#inquiries a", has_text=reference).click()
    page.wait_for_url(f"**/tili/yhteydenotot/{reference}")
    text = page.locator("main").inner_text()
    assert "Tilasin viikko sitten" in text and "Paketti lähti tänään" in text
    assert "SISÄINEN" not in text
    page.locator("textarea[name=message]").fill("Kiitos, odotan sitä.")
    submit(page, f"form[action='/tili/yhteydenotot/{reference}']")
    assert page.locator(".message-body", has_text="Kiitos, odotan sitä.").count() == 1


def test_sign_up_confirm_the_address_from_the_mail_and_log_in(page, live_server: str, demo_app) -> None:  # noqa: F811
    email, password = "uusi.asiakas@example.fi", "kolme pitkää sanaa 2026"
    page.goto(live_server + "/auth/signup")
    page.locator("input[name=name]").fill("Uusi Asiakas")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("input[name=confirm]").fill(password)
    submit(page, "form[action='/auth/signup']")
    assert email in page.locator(".flashes").inner_text()
    log_in(page, live_server, email, password)  # not confirmed yet: no way in
    assert "/auth/login" in page.url
    page.goto(live_server + link_in_mail(demo_app, email, "/auth/verify/"))
    assert page.url.endswith("/auth/login") and page.locator(".flash-success").count() == 1
    log_in(page, live_server, email, password)
    assert "/auth/login" not in page.url
    page.goto(live_server + "/auth/profile")
    assert email in page.locator("main").inner_text()


def test_password_reset_from_the_mailed_link(page, live_server: str, demo_app) -> None:  # noqa: F811
    new_password = "uusi salasana hyvin pitkä 7"
    page.goto(live_server + "/auth/login")
    page.locator("a[href='/auth/reset']").first.click()
    page.wait_for_url("**/auth/reset")
    page.locator("input[name=email]").fill(CUSTOMER)
    submit(page, "form[action='/auth/reset']")
    page.goto(live_server + link_in_mail(demo_app, CUSTOMER, "/auth/reset/"))
    page.locator("input[name=password]").fill(new_password)
    page.locator("input[name=confirm]").fill(new_password)
    submit(page, "form[action^='/auth/reset/']")
    log_in(page, live_server, CUSTOMER, DEMO_CUSTOMER_PASSWORD)
    assert "/auth/login" in page.url  # the old password no longer works
    log_in(page, live_server, CUSTOMER, new_password)
    assert "/auth/login" not in page.url


def test_order_change_form_address_quantity_add_and_cancel(page, live_server: str, demo_app) -> None:  # noqa: F811
    from kb.models import Order, OrderStatus

    with demo_app.app_context():
        number = session().scalar(select(Order.number).where(
            Order.email == CUSTOMER, Order.status.in_([OrderStatus.RECEIVED, OrderStatus.PAID])))
    log_in(page, live_server, CUSTOMER, DEMO_CUSTOMER_PASSWORD)
    page.goto(live_server + f"/tilaus/{number}")
    page.locator(f"a[href='/tilaus/{number}/muuta']").click()
    page.wait_for_url(f"**/tilaus/{number}/muuta")

    page.locator("#addr-street").fill("Kauppakatu 5 B 12")
    page.locator("#addr-postal_code").fill("40100")
    page.locator("#addr-city").fill("Jyväskylä")
    submit(page, "form.stack:has(#addr-street)")
    page.goto(live_server + f"/tilaus/{number}/muuta")
    first = page.locator("form.inline:has(input[name=quantity][type=number])").first
    first.locator("input[type=number]").fill("3")
    with page.expect_navigation():
        first.locator("button[type=submit]:not([value])").click()
    page.goto(live_server + f"/tilaus/{number}/muuta")
    sku = page.locator("select#sku option").last.get_attribute("value")
    page.locator("select#sku").select_option(sku)
    page.locator("#add-qty").fill("2")
    submit(page, "form:has(select#sku)")
    with demo_app.app_context():
        order = session().scalar(select(Order).where(Order.number == number))
        assert order.shipping_address["street"] == "Kauppakatu 5 B 12"
        assert order.shipping_address["city"] == "Jyväskylä"
        assert order.lines[0].quantity == 3
        assert any(line.sku == sku and line.quantity >= 2 for line in order.lines)

    page.goto(live_server + f"/tilaus/{number}/muuta")
    page.locator("input[name=confirm][value=yes]").check()
    submit(page, "form:has(input[name=confirm])")
    with demo_app.app_context():
        assert session().scalar(select(Order.status).where(Order.number == number)) is OrderStatus.CANCELLED
    page.goto(live_server + f"/tilaus/{number}")
    assert "Peruttu" in page.locator(".order-status").inner_text()


def test_admin_pages_users_channels_special_days_and_settings(page, live_server: str, demo_app) -> None:  # noqa: F811
    from kb.models import Channel, Role, SpecialDay, User
    from kb.services.shop.channels import get_setting

    log_in(page, live_server, "admin@tupa.example", DEMO_STAFF_PASSWORD)
    # users: add an agent (invited by e-mail), then make them an editor
    page.goto(live_server + "/admin/users")
    page.locator("#email").fill("uusi.agentti@tupa.example")
    page.locator("#name").fill("Uusi Agentti")
    page.locator("select#role").select_option("agent")
    submit(page, "form.stack:has(#email)")
    assert link_in_mail(demo_app, "uusi.agentti@tupa.example", "/auth/reset/")
    with demo_app.app_context():
        user_id = session().scalar(select(User.id).where(User.email == "uusi.agentti@tupa.example"))
    page.goto(live_server + "/admin/users")
    page.locator(f"select#role-{user_id}").select_option("editor")
    submit(page, f"form:has(select#role-{user_id})")
    # channels: change the phone line's opening hours
    page.goto(live_server + "/admin/channels")
    with demo_app.app_context():
        phone = session().scalar(select(Channel).where(Channel.kind == "phone"))
        phone_id = phone.id
    page.locator(f"a[href='/admin/channels/{phone_id}']").first.click()
    page.wait_for_url(f"**/admin/channels/{phone_id}")
    page.locator("#hours_sat").fill("10:00-14:00")
    submit(page, "form.stack")
    # special days: closed on Christmas Eve, with a note
    page.goto(live_server + "/admin/special-days")
    page.locator("#day").fill("2026-12-24")
    page.locator("input[name=closed]").check()
    page.locator("#note_fi").fill("Jouluaatto: suljettu")
    submit(page, "form.stack")
    assert "24.12.2026" in page.locator("main table").inner_text()
    # settings: the return window
    page.goto(live_server + "/admin/settings")
    page.locator("#return_window_days").fill("30")
    submit(page, "form.stack")
    with demo_app.app_context():
        db = session()
        assert db.scalar(select(User.role).where(User.id == user_id)) is Role.EDITOR
        assert db.get(Channel, phone_id).hours["sat"] == [["10:00", "14:00"]]
        day = db.scalar(select(SpecialDay).where(SpecialDay.day == date(2026, 12, 24)))
        assert day.hours == [] and day.notes["fi"] == "Jouluaatto: suljettu"
        assert get_setting(db, "return_window_days") == "30"
