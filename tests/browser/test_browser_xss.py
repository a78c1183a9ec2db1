"""XSS payloads in real Chromium: article bodies, ticket messages and search queries stay inert.

Each payload (tests/support/xss_payloads.py, BROWSER_PAYLOADS) would set ``window.__xss``, open a
dialog or fetch from the attacker's host if it ever ran. The pages are checked the way
a browser sees them, after its own HTML parsing (mutation XSS included): no dialog, no
``window.__xss``, no request leaving the test server, no script blocked by the
Content-Security-Policy (the policy is the second line of defence; the first, escaping
and sanitising, must already have removed it), and nothing in the DOM that could run
script (event-handler attributes, inline scripts, frames, ``javascript:`` links...).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from tests.fixtures.browser_fixtures import browser_log_in, cut_off
from tests.support.xss_payloads import ATTACKER, BROWSER_PAYLOADS, MARK

pytestmark = pytest.mark.browser

ARTICLE = "xss-palautus"
IMAGE_BLOCKED = re.compile(r"^(Refused to load|Loading) the image '[^']+' (because it )?violates[^\n]*\"img-src ")
CATEGORY = "<svg onload=window.__xss=1> Palautukset"
#: Everything in the page that could run script once the browser has parsed it.
DOM_RISKS = """() => {
  const found = [];
  const here = location.origin;
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      if (attr.name.startsWith('on') || attr.name === 'style' || attr.name === 'srcdoc') found.push(el.tagName + '[' + attr.name + ']');
    }
  }
  for (const s of document.querySelectorAll('script')) {
    if (!s.src ? !['application/json', 'application/ld+json'].includes(s.type) : new URL(s.src).origin !== here) found.push('script ' + (s.src || s.textContent.slice(0, 40)));
  }
  for (const el of document.querySelectorAll('iframe, frame, object, embed, base, meta[http-equiv], svg, math, template, noscript')) found.push(el.tagName);
  for (const el of document.querySelectorAll('link[href]')) if (new URL(el.href).origin !== here) found.push('link ' + el.href);
  for (const el of document.querySelectorAll('form')) if (new URL(el.action, location.href).origin !== here) found.push('form ' + el.action);
  for (const a of document.querySelectorAll('a[href], area[href]')) if (['javascript:', 'data:', 'vbscript:'].includes(a.protocol)) found.push('a ' + a.href);
  return found;
}"""


@dataclass
class Watch:
    """What the browser did that only running payloads would do."""

    dialogs: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        # an external image in Markdown is allowed markup; the policy keeps the browser from fetching it
        blocked = [m for m in self.console_errors if not cut_off(m) and not IMAGE_BLOCKED.search(m)]
        return [*(f"dialog: {d}" for d in self.dialogs), *(f"request: {r}" for r in self.foreign_requests),
                *(f"console: {m}" for m in blocked)]


@pytest.fixture
def browser_page(chromium_path: str, live_server: str) -> Iterator[tuple]:
    from playwright.sync_api import sync_playwright

    own = urlsplit(live_server).netloc
    watch = Watch()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        context = browser.new_context(locale="fi-FI")

        def only_local(route) -> None:  # type: ignore[no-untyped-def]
            if urlsplit(route.request.url).netloc == own:
                route.continue_()
            else:
                watch.foreign_requests.append(route.request.url)
                route.abort()

        context.route("**/*", only_local)
        page = context.new_page()
        page.on("dialog", lambda d: (watch.dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: watch.console_errors.append(str(e)))
        page.on("console", lambda m: watch.console_errors.append(m.text) if m.type == "error" else None)
        yield page, watch
        browser.close()


def assert_inert(page, watch: Watch, where: str) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_load_state("networkidle")
    assert page.evaluate("() => window.__xss") is None, where
    assert page.evaluate(DOM_RISKS) == [], where
    assert watch.problems() == [], where
    assert ATTACKER not in urlsplit(page.url).netloc, where


@pytest.fixture
def poisoned(demo_app, tmp_path: Path) -> dict[str, str]:
    """An article and a contact-form ticket carrying every payload; returns where they are."""
    from tests.support.html_forms import csrf_token

    article = {"slug": ARTICLE, "title": f"Palautus <img src=x onerror={MARK}> ohje", "language": "fi",
               "category": CATEGORY, "tags": [f"<script>{MARK}</script>"],
               "body": "Palautusohje.\n\n" + "\n\n".join(BROWSER_PAYLOADS)}
    path = tmp_path / "xss.jsonl"
    path.write_text(json.dumps(article) + "\n", encoding="utf-8")
    result = demo_app.test_cli_runner().invoke(args=["import", "articles", str(path)])
    assert result.exit_code == 0, result.output

    client = demo_app.test_client()
    token = csrf_token(client.get("/yhteydenotto").get_data(as_text=True))
    sent = client.post("/yhteydenotto", data={
        "csrf_token": token, "inquiry_type": "other", "name": f"<img src=x onerror={MARK}>",
        "email": f"\"><svg/onload={MARK}>@example.fi", "subject": f"</title><script>{MARK}</script> palautus",
        "message": "\n".join(BROWSER_PAYLOADS)})
    assert sent.status_code == 302, sent.get_data(as_text=True)[:500]
    from kb.services.helpcenter.articles import slugify
    return {"reference": sent.headers["Location"].rsplit("/", 1)[1], "category": slugify(CATEGORY)}


def test_article_body_title_tags_and_category_stay_inert(browser_page, live_server: str, poisoned) -> None:
    page, watch = browser_page
    for url in (f"/fi/a/{ARTICLE}", f"/fi/c/{poisoned['category']}", "/fi/search?q=palautus+ohje",
                f"/api/v1/articles/{ARTICLE}"):
        page.goto(live_server + url)
        assert_inert(page, watch, url)
    page.goto(live_server + f"/fi/a/{ARTICLE}")
    assert "Palautusohje." in page.locator("article").inner_text()  # the article itself is shown


def test_editor_pages_and_live_preview_stay_inert(browser_page, live_server: str, poisoned) -> None:
    from kb.services.shop.demo import DEMO_STAFF_PASSWORD

    page, watch = browser_page
    browser_log_in(page, live_server, "editor@tupa.example", DEMO_STAFF_PASSWORD)
    page.goto(live_server + "/editor/articles?q=xss")
    assert_inert(page, watch, "article list")
    page.locator("a[href*='/editor/articles/']", has_text="Palautus").first.click()
    page.wait_for_load_state()
    assert_inert(page, watch, "edit page")
    assert page.locator("textarea#body").input_value().endswith(BROWSER_PAYLOADS[-1])  # kept as typed
    page.goto(live_server + "/editor/articles/new")
    with page.expect_response("**/editor/preview") as preview:
        page.locator("textarea#body").fill("## Esikatselu\n\n" + "\n\n".join(BROWSER_PAYLOADS))
    assert preview.value.ok
    page.locator("#preview h2").wait_for(state="visible", timeout=5000)
    assert_inert(page, watch, "live preview")


def test_ticket_fields_stay_inert_for_agents(browser_page, live_server: str, poisoned) -> None:
    from kb.services.shop.demo import DEMO_STAFF_PASSWORD

    page, watch = browser_page
    browser_log_in(page, live_server, "agent@tupa.example", DEMO_STAFF_PASSWORD)
    page.goto(live_server + "/agent/?sort=newest")
    row = page.locator("tr.ticket-row", has_text=poisoned["reference"])
    assert row.count() == 1
    assert_inert(page, watch, "inbox")
    row.locator("a").first.click()
    page.wait_for_load_state()
    assert MARK in page.locator("main").inner_text()  # the message is shown as text
    assert_inert(page, watch, "ticket page")


@pytest.mark.parametrize("chunk", range(2))
def test_search_queries_stay_inert(browser_page, live_server: str, poisoned, chunk: int) -> None:
    page, watch = browser_page
    payloads = BROWSER_PAYLOADS[chunk::2]
    for payload in payloads:
        # as searched (a correction may show other results, with the typed query in "search instead"),
        # then exactly as typed
        for url in (f"/fi/search?q={quote(payload)}", f"/fi/search?q={quote(payload)}&as_typed=1"):
            page.goto(live_server + url)
            assert_inert(page, watch, url)
        assert page.locator("input[name=q]").first.input_value() == payload  # shown back as typed
    page.goto(live_server + "/fi/")
    box = page.get_by_role("searchbox")
    for payload in payloads[:6]:
        with page.expect_response("**/api/v1/search?*"):
            box.fill(f"palautus {payload}")
        page.locator("#search-suggestions a").first.wait_for(state="visible", timeout=5000)
        assert_inert(page, watch, f"as you type: {payload}")
