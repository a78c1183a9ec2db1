"""Every page, every width: generated from the URL map, opened in real Chromium for every role.

Each GET page that renders HTML is opened once per role (anonymous, customer, agent, editor,
admin) and checked at 390 px (a phone) and at 1280 px (a laptop): the page must not scroll
sideways, no visible link, button or field may lie under another element, and the browser
console must stay free of errors. A new route without a value for its URL arguments fails
here, so nobody adds a page that this test does not open.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from kb.models import Role
from tests.fixtures.browser_fixtures import cut_off as _cut_off
from tests.support.page_helpers import ACCOUNTS, EXTRA_PAGES, page_urls, seed_user_text

pytestmark = pytest.mark.browser

WIDTHS = (390, 1280)
ROLES = ("anonymous", Role.CUSTOMER.value, Role.AGENT.value, Role.EDITOR.value, Role.ADMIN.value)
#: Runs in the page: the interactive elements that something else covers, and the page's width.
CHECK_PAGE = """() => {
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex="-1"])';
  const covered = [];
  const describe = (el) => {
    const text = (el.innerText || el.value || el.getAttribute('aria-label') || el.name || '').trim().slice(0, 40);
    return `<${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : ''}> "${text}"`;
  };
  for (const el of document.querySelectorAll(selector)) {
    const style = getComputedStyle(el);
    if (style.visibility !== 'visible' || el.closest('[hidden], [inert], [aria-hidden=true]')) continue;
    let box = el.getBoundingClientRect();
    if (box.width < 2 || box.height < 2) continue;                       // not shown (or visually hidden)
    const left = box.left + window.scrollX;
    if (left + box.width <= 0 || left >= document.documentElement.scrollWidth) continue;  // parked off-screen (skip link)
    window.scrollTo({top: box.top + window.scrollY - innerHeight / 2 + box.height / 2, left: 0, behavior: 'instant'});
    // a link that wraps onto two lines is two boxes: test the middle of each, as a finger would
    const parts = [...el.getClientRects()].filter((r) => r.width >= 2 && r.height >= 2);
    const centres = parts.map((r) => [r.left + r.width / 2, r.top + r.height / 2])
      .filter(([x, y]) => x >= 0 && x < innerWidth && y >= 0 && y < innerHeight);
    if (centres.length === 0) continue;                                   // cannot be tested from here
    const hits = centres.map(([x, y]) => document.elementFromPoint(x, y));
    const mine = (hit) => hit === null || hit === el || el.contains(hit)
      || (el.labels && [...el.labels].some((label) => label.contains(hit)));
    if (hits.some(mine)) continue;
    const hit = hits[0];
    covered.push(`${describe(el)} under ${describe(hit)}`);
  }
  window.scrollTo({top: 0, left: 0, behavior: 'instant'});
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, covered};
}"""


@dataclass
class Problem:
    role: str
    width: int
    url: str
    what: str

    def __str__(self) -> str:
        return f"{self.role} {self.width}px {self.url[:90]}: {self.what}"


@pytest.fixture(scope="module")
def browser(chromium_path: str):  # noqa: F811
    """One Chromium for the whole module; each role gets its own context."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A page of its own context in the module's Chromium; the test fails on a console error."""
    context = browser.new_context(locale="fi-FI")
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and not _cut_off(m.text) else None)
    yield page
    context.close()
    assert errors == [], errors


def _log_in(page, base: str, email: str) -> None:
    from kb.services.shop.demo import DEMO_CUSTOMER_PASSWORD, DEMO_STAFF_PASSWORD

    page.goto(base + "/auth/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(
        DEMO_CUSTOMER_PASSWORD if email == ACCOUNTS[Role.CUSTOMER.value] else DEMO_STAFF_PASSWORD)
    with page.expect_navigation():
        page.locator("form[action='/auth/login'] button[type=submit]").click()
    assert "/auth/login" not in page.url, f"{email} could not log in"


def check_pages(page, base: str, role: str, urls: list[str], errors: list[str]) -> list[Problem]:
    """Open each URL once and check it at every width; pages a role is sent away from are checked once."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for url in urls:
        errors.clear()
        page.set_viewport_size({"width": WIDTHS[0], "height": 800})
        response = page.goto(base + url)
        landed = page.url.removeprefix(base)
        if landed.startswith("/auth/login?"):  # sent to log in: the same form whatever the next page
            landed = "/auth/login"
        if response is not None and response.status in (403, 404):  # not this role's page: its error page once
            landed = f"(error page {response.status})"
            errors[:] = [e for e in errors if f"status of {response.status}" not in e]
        if landed in seen:
            continue
        seen.add(landed)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 800})
            found = page.evaluate(CHECK_PAGE)
            if found["scrollWidth"] > found["innerWidth"]:
                problems.append(Problem(role, width, landed, f"scrolls sideways: {found['scrollWidth']} px wide"))
            problems += [Problem(role, width, landed, f"covered: {c}") for c in found["covered"]]
        problems += [Problem(role, 0, landed, f"console: {e}") for e in errors]
    return problems


@pytest.mark.parametrize("role", ROLES)
def test_every_page_holds_up_at_390_and_1280_px(browser, live_server: str, demo_app, role: str) -> None:  # noqa: F811
    seed_user_text(demo_app)
    urls = page_urls(demo_app)
    context = browser.new_context(locale="fi-FI")
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" and not _cut_off(m.text) else None)
        if role != "anonymous":
            _log_in(page, live_server, ACCOUNTS[role])
        problems = check_pages(page, live_server, role, urls + EXTRA_PAGES.get(role, []), errors)
    finally:
        context.close()
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(map(str, problems))


def test_channel_cards_keep_long_addresses_inside_and_link_the_shops_own_form(demo_app, live_server, page) -> None:  # noqa: F811
    from sqlalchemy import select

    from kb.db import commit, session
    from kb.models import Channel
    from kb.models.shop import ChannelKind

    with demo_app.app_context():
        email = session().scalar(select(Channel).where(Channel.kind == ChannelKind.EMAIL))
        email.address = "asiakaspalvelu.ja.reklamaatiot.kotimaa@tupa-sisustus-ja-kodintekstiilit.example"
        commit()
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(live_server + "/fi/")
        overflowing = page.evaluate("""() => [...document.querySelectorAll('.channel')]
            .filter((card) => card.scrollWidth > card.clientWidth).map((card) => card.className)""")
        assert overflowing == [], width
    form_links = page.locator(".channel-form a").evaluate_all("links => links.map((a) => a.getAttribute('href'))")
    assert form_links == ["/yhteydenotto"]
    # category cards: no empty icon boxes (there are no icon images)
    assert page.locator(".card-grid .icon").count() == 0


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_article_health_tables_fit_a_1280_px_screen(live_server, page, language: str) -> None:  # noqa: F811
    """All nine columns are seen at once: no table scrolls inside its panel (Finnish headers are the longest)."""
    _log_in(page, live_server, ACCOUNTS[Role.EDITOR.value])
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/{language}/")
    page.goto(live_server + "/editor/health")
    scrolling = page.evaluate("""() => [...document.querySelectorAll('main table')]
        .filter((t) => t.closest('.table-scroll').scrollWidth > t.closest('.table-scroll').clientWidth)
        .map((t) => `${t.closest('section').querySelector('h2').innerText}: ${t.scrollWidth} px`)""")
    assert page.locator("main table").count() >= 2 and scrolling == []
