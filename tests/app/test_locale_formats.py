"""Dates, times, numbers and codes as the reader writes them: Finnish and Swedish as in Finland,
English the British way; no ISO dates and no raw status or channel codes on any page."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime
from html.parser import HTMLParser

import pytest
from flask_babel import force_locale

from kb.models import Role
from kb.services.shop.demo import DEMO_CUSTOMER_PASSWORD, DEMO_STAFF_PASSWORD
from kb.web.templating import decimal, local_date, local_time, percent
from tests.support.auth_helpers import log_in
from tests.support.page_helpers import ACCOUNTS, page_urls, seed_user_text

MOMENT = datetime(2026, 12, 6, 1, 17, tzinfo=UTC)  # 3.17 in Helsinki


@pytest.mark.parametrize(("language", "when", "day", "share", "number"), [
    ("fi", "6.12.2026 klo 3.17", "6.12.2026", "43,8\xa0%", "1\xa0234,5"),
    ("sv", "6.12.2026 kl. 3.17", "6 dec. 2026", "43,8\xa0%", "1\xa0234,5"),
    ("en", "6 Dec 2026, 03:17", "6 Dec 2026", "43.8%", "1,234.5"),
])
def test_filters_write_dates_and_numbers_in_the_readers_locale(app, language, when, day, share, number) -> None:
    with app.test_request_context(), force_locale(language):
        assert local_time(MOMENT) == when
        assert local_date(MOMENT, "medium") == day and local_date(date(2026, 12, 6), "medium") == day
        assert local_date("2026-12-06", "medium") == day
        assert percent(0.438) == share
        assert decimal(1234.5) == number


class _VisibleText(HTMLParser):
    """The text a reader sees: no scripts, styles, templates or attribute values."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs) -> None:
        if tag in ("script", "style", "template", "textarea"):
            self._skip += 1

    def handle_endtag(self, tag) -> None:
        if tag in ("script", "style", "template", "textarea"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return " ".join(parser.parts)


ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
#: Codes stored in the database that a Finnish or Swedish reader must never see untranslated.
RAW_CODES = re.compile(r"(?<![\w/.-])(received|paid|packing|packed|shipped|delivered|cancelled|returned|registered|refunded|"
                       r"exchanged|rejected|email|chat|form|social|phone|new|open|waiting|solved|closed|"
                       r"suggested|customer|reply|note|auto|order|delivery|payment|return|warranty|product|other)(?![\w/.-])")  # not inside an address or a slug
#: Pages whose text is authored content (articles, the editor's own Markdown) or an example of a format.
AUTHORED = ("/fi/a/", "/fi/c/", "/editor/articles", "/fi/search", "/editor/health", "/sv/", "/en/")  # titles in any language


@pytest.mark.parametrize("role", [Role.CUSTOMER.value, Role.AGENT.value, Role.EDITOR.value, Role.ADMIN.value])
@pytest.mark.parametrize("language", ["fi", "sv"])
def test_no_iso_dates_or_raw_codes_on_finnish_and_swedish_pages(demo_app, role: str, language: str) -> None:
    seed_user_text(demo_app)
    client = demo_app.test_client()
    password = DEMO_CUSTOMER_PASSWORD if role == Role.CUSTOMER.value else DEMO_STAFF_PASSWORD
    assert log_in(client, ACCOUNTS[role], password).status_code == 302
    client.get(f"/{language}/")  # the UI language follows the last language chosen
    found = []
    for url in page_urls(demo_app):
        response = client.get(url.replace("/fi/", f"/{language}/"), headers={"Accept-Language": language})
        if response.status_code != 200 or not response.mimetype == "text/html":
            continue
        text = visible_text(response.get_data(as_text=True))
        found += [f"{url}: ISO date {m}" for m in ISO_DATE.findall(text)
                  if not (url.startswith("/admin/dashboard") and "YYYY-MM-DD" in text)]
        if not url.startswith(AUTHORED):
            found += [f"{url}: code {m!r}" for m in sorted(set(RAW_CODES.findall(text)))]
    assert not found, "\n".join(found)
