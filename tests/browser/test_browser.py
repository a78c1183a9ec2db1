"""Real Chromium (Debian's package) driven by Playwright against a live server."""
from __future__ import annotations

import pytest

from tests.fixtures.browser_fixtures import browser_log_in

pytestmark = pytest.mark.browser


def test_home_search_as_you_type_and_results(page, live_server: str) -> None:
    page.goto(live_server + "/")
    assert page.url.endswith("/fi/")
    assert page.locator("h1").inner_text() == "Miten voimme auttaa?"
    box = page.get_by_role("searchbox")
    box.fill("palautus")
    suggestion = page.locator("#search-suggestions a").first
    suggestion.wait_for(state="visible", timeout=5000)
    assert "alaut" in suggestion.inner_text()
    box.press("Enter")
    page.wait_for_url("**/fi/search?q=palautus*")
    results = page.locator("ol.results > li > a")
    assert results.count() >= 1
    assert page.locator("ol.results mark").count() >= 1
    results.first.click()
    page.wait_for_url("**/fi/a/**")
    assert page.locator("article h1").is_visible()


def test_article_feedback_and_language_switch(page, live_server: str) -> None:
    page.goto(live_server + "/fi/c/palautukset")
    page.locator("ul.article-list a").first.click()
    page.get_by_role("button", name="Kyllä").click()
    thanks = page.get_by_text("Kiitos palautteestasi").first
    thanks.wait_for(state="visible", timeout=5000)  # the answer is sent in the background, no reload
    assert thanks.is_visible()
    page.goto(live_server + "/fi/")
    page.get_by_role("link", name="Svenska").click()
    assert page.locator("h1").inner_text().startswith("Hur kan vi hjälpa")


def test_password_can_be_shown_while_typing(page, live_server: str) -> None:
    """ASVS 2.1.12: the button appears with JavaScript and toggles the field between hidden and plain text."""
    page.goto(live_server + "/auth/login")
    field = page.locator("input[name=password]")
    button = page.locator("button[data-show-password=password]")
    field.fill("correct horse battery")
    assert button.is_visible() and field.get_attribute("type") == "password"
    button.click()
    assert field.get_attribute("type") == "text" and button.get_attribute("aria-pressed") == "true"
    assert field.input_value() == "correct horse battery"
    button.click()
    assert field.get_attribute("type") == "password" and button.get_attribute("aria-pressed") == "false"


def test_an_agent_sets_up_two_step_verification_and_logs_in_with_a_recovery_code(page, live_server: str) -> None:
    """The QR code renders under the page's CSP; the key on the page makes codes an app accepts."""
    import pyotp

    from kb.services.shop.demo import DEMO_STAFF_PASSWORD

    browser_log_in(page, live_server, "agent@tupa.example", DEMO_STAFF_PASSWORD)
    page.goto(live_server + "/auth/two-step/setup")
    qr = page.locator("img.qr-code")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    key = page.locator("code.secret-key").inner_text().replace(" ", "")
    page.locator("input[name=code]").fill(pyotp.TOTP(key).now())
    page.locator("form[action='/auth/two-step/setup'] button[type=submit]").click()
    codes = page.locator("ul.recovery-codes code").all_inner_texts()
    assert len(codes) == 10

    page.context.clear_cookies()
    browser_log_in(page, live_server, "agent@tupa.example", DEMO_STAFF_PASSWORD)
    assert page.url.endswith("/auth/two-step")
    page.locator("input[name=code]").fill(codes[0])
    page.locator("form[action='/auth/two-step'] button[type=submit]").click()
    page.wait_for_load_state()
    page.goto(live_server + "/agent/")
    assert page.url.endswith("/agent/")  # logged in: not sent back to the log-in form


def test_customer_tracks_an_order_registers_a_return_and_downloads_an_invoice(page, live_server: str) -> None:
    from kb.services.shop.demo import DEMO_CUSTOMER_PASSWORD

    browser_log_in(page, live_server, "aino.virtanen@example.com", DEMO_CUSTOMER_PASSWORD)
    page.goto(live_server + "/tili/tilaukset")
    orders = page.locator("table.data tbody tr")
    assert orders.count() >= 4
    # track: a shipped order shows its timeline and carrier link
    shipped = page.locator("table.data tbody tr[data-status=shipped]").first
    shipped.locator("a").first.click()
    assert page.locator("ol.timeline li.done").count() >= 5
    assert page.locator("a[href*='seuranta'], a[href*='tracking']").count() >= 1
    # return: the recently delivered order
    page.goto(live_server + "/tili/palautukset/uusi")
    page.locator("ul.article-list a").first.click()
    page.locator("input[type=number]:not([disabled])").first.fill("1")
    page.locator("select[name=reason]").select_option("wrong_size")
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url("**/palautus/RMA-*")
    rma = page.url.rsplit("/", 1)[1]
    assert rma in page.content()
    # invoice: the printable page and the PDF download
    page.goto(live_server + "/tili/tilaukset")
    page.locator("table.data a[href^='/lasku/']").first.click()
    assert page.locator(".invoice-number").is_visible()
    with page.expect_download() as download:
        page.locator("a[href$='.pdf']").first.click()
    path = download.value.path()
    with open(path, "rb") as handle:
        assert handle.read(4) == b"%PDF"


def run_worker_round(app) -> None:
    """What `neuvo worker` does every minute beside the web app."""
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output


def test_editor_turns_a_suggested_topic_into_a_published_article(page, live_server: str, demo_app) -> None:
    from kb.services.shop.demo import DEMO_STAFF_PASSWORD

    browser_log_in(page, live_server, "editor@tupa.example", DEMO_STAFF_PASSWORD)
    page.goto(live_server + "/editor/suggestions")
    page.locator("form[action$='/suggestions/refresh'] button").click()
    page.wait_for_load_state()
    assert page.locator("[data-refresh-pending]").is_visible()
    run_worker_round(demo_app)
    page.reload()
    first = page.locator("article.topic").first
    title = first.locator("h2").inner_text()
    first.locator("form[action$='/draft'] button").click()
    page.wait_for_url("**/editor/articles/*")
    body = page.locator("textarea#body")
    body.fill("## Vastaus\n\n" + title + "\n\nKyllä onnistuu: kerro toiveesi tilauksen lisätiedoissa.")
    page.locator("#preview h2#vastaus").wait_for(state="visible", timeout=5000)  # the live preview rendered
    page.locator("form.editor-form button[type=submit]").click()
    page.wait_for_load_state()
    page.locator("button[name=action][value=publish]").click()
    page.wait_for_load_state()
    page.goto(live_server + "/editor/suggestions")
    page.locator("form[action$='/suggestions/refresh'] button").click()
    page.wait_for_load_state()
    run_worker_round(demo_app)
    page.reload()
    assert page.locator("[data-refresh-pending]").count() == 0
    assert title not in [h.inner_text() for h in page.locator("article.topic h2").all()]


def test_contact_form_to_agent_reply_to_survey(page, live_server: str, demo_app) -> None:
    import re

    from kb.services.shop.demo import DEMO_CUSTOMER_PASSWORD, DEMO_STAFF_PASSWORD
    from tests.fixtures.mail_helpers import sent_mail

    # the customer writes; suggestions appear while typing
    browser_log_in(page, live_server, "aino.virtanen@example.com", DEMO_CUSTOMER_PASSWORD)
    page.goto(live_server + "/yhteydenotto")
    page.locator("select[name=inquiry_type]").select_option("return")
    page.locator("input[name=subject]").fill("Palautus")
    page.locator("textarea[name=message]").fill("Hei, miten palautan tuotteen? Matto oli väärän kokoinen.")
    page.locator("#contact-suggestion-list a").first.wait_for(state="visible", timeout=8000)
    page.locator("form.contact-form button[type=submit]").click()
    page.wait_for_url("**/yhteydenotto/kiitos/**")
    reference = page.url.rsplit("/", 1)[1]
    page.locator("form.inline-form button.link-button").click()  # log out

    # the agent finds it, sees the order and the suggestion, inserts the linked answer, solves
    browser_log_in(page, live_server, "agent@tupa.example", DEMO_STAFF_PASSWORD)
    page.goto(live_server + "/agent/?sort=newest")
    page.locator("tr.ticket-row", has_text=reference).locator("a").first.click()
    assert page.locator("[data-order-status]").count() == 1
    page.locator("button.insert-answer").first.click()
    body = page.locator("#reply-body").input_value()
    assert re.search(r"https?://[^ ]+/(fi|sv|en)/a/[a-z0-9-]+", body), body
    page.locator("#reply-body").press("End")
    page.locator("#reply-body").type("\n\nTervetuloa uudelleen!")
    page.locator("input[name=status_after][value=solved]").check()
    page.locator("form.reply-form button[type=submit]").click()
    page.wait_for_load_state()

    # the customer answers the survey from the e-mailed single-use link
    links = [re.search(r"https?://\S+/kysely/\S+", m.get_body(("plain",)).get_content())
             for m in sent_mail(demo_app)]
    survey = [l.group(0) for l in links if l][-1]
    page.goto(live_server + "/kysely/" + survey.rsplit("/kysely/", 1)[1])
    page.locator("input[name=csat][value='5']").check()
    page.locator("input[name=ces][value='6']").check()
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()
    with demo_app.app_context():
        from sqlalchemy import select

        from kb.db import session
        from kb.models import SurveyResponse, Ticket, TicketArticleLink

        ticket = session().scalar(select(Ticket).where(Ticket.external_id == reference))
        assert ticket.status.value == "solved" and ticket.first_response_at is not None
        assert session().scalar(select(TicketArticleLink).where(TicketArticleLink.ticket_id == ticket.id))
        answer = session().scalar(select(SurveyResponse).where(SurveyResponse.ticket_id == ticket.id))
        assert (answer.csat, answer.ces) == (5, 6)


@pytest.mark.parametrize("slug", ["asiakaspalvelu-ja-aukioloajat", "palautuskulut"])
def test_article_tables_are_read_whole_on_a_phone(page, live_server: str, slug: str) -> None:
    # three columns and an e-mail address do not fit 390 px: rows are stacked, each value under its heading
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{live_server}/fi/a/{slug}")
    table = page.locator(".article-body table").first
    assert table.evaluate("t => t.scrollWidth <= t.clientWidth")
    heading = table.locator("thead th").nth(1).inner_text()
    cell = table.locator("tbody tr td").nth(1)
    assert cell.is_visible()
    label = cell.evaluate("td => getComputedStyle(td, '::before').content")
    assert label == f'"{heading}: "'
    page.set_viewport_size({"width": 1280, "height": 800})
    assert table.locator("thead th").nth(1).is_visible()  # a table again where it fits


#: Headings broken in the middle of a word: more rendered lines than words ("Määr" / "ä").
HEADINGS_BROKEN = """(selector) => Array.from(document.querySelectorAll(selector)).filter(cell => {
  const range = document.createRange();
  range.selectNodeContents(cell);
  const lines = new Set(Array.from(range.getClientRects()).map(b => Math.round(b.top))).size;
  return lines > cell.textContent.trim().split(/[\\s-]+/).length;
}).map(cell => cell.textContent.trim())"""


@pytest.mark.parametrize("width", [1280, 390])
def test_invoice_and_key_figures_keep_their_headings_whole(page, live_server: str, width: int) -> None:
    from kb.services.shop.demo import DEMO_CUSTOMER_PASSWORD, DEMO_STAFF_PASSWORD

    page.set_viewport_size({"width": width, "height": 900})
    browser_log_in(page, live_server, "aino.virtanen@example.com", DEMO_CUSTOMER_PASSWORD)
    page.goto(live_server + "/tili/tilaukset")
    page.locator("table.data a[href^='/lasku/']").first.click()
    assert page.locator("table.lines th").count() == 5
    assert page.evaluate(HEADINGS_BROKEN, "table.lines th, table.vat th") == []
    page.context.clear_cookies()
    browser_log_in(page, live_server, "admin@tupa.example", DEMO_STAFF_PASSWORD)
    page.goto(live_server + "/admin/dashboard")
    assert page.locator(".kpis .card h3").count() >= 6
    assert page.evaluate(HEADINGS_BROKEN, ".kpis .card h3") == []
