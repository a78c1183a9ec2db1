"""Chromium: the search box's Esc and the article feedback that neither reloads nor jumps."""
from __future__ import annotations

import pytest


pytestmark = pytest.mark.browser


def test_escape_closes_the_suggestions_and_keeps_the_query(page, live_server: str) -> None:  # noqa: F811
    page.goto(live_server + "/fi/")
    box = page.get_by_role("searchbox")
    box.fill("palautus")
    suggestions = page.locator("#search-suggestions")
    suggestions.locator("a").first.wait_for(state="visible", timeout=5000)
    box.press("Escape")
    assert suggestions.is_hidden()
    assert box.input_value() == "palautus"
    assert page.evaluate("document.activeElement.id") == "q"  # still typing where they were
    box.press("Enter")
    page.wait_for_url("**/fi/search?q=palautus*")


def test_not_helpful_asks_what_was_missing_without_reloading_or_jumping(page, live_server: str) -> None:  # noqa: F811
    page.set_viewport_size({"width": 1280, "height": 700})
    page.goto(live_server + "/fi/a/palautuksen-tekeminen")
    page.evaluate("window.notReloaded = true")
    section = page.locator("#feedback")
    section.scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -200)")  # the section in the middle of the screen, not at its top
    before = page.evaluate("window.scrollY")
    page.get_by_role("button", name="Ei", exact=True).click()
    comment = page.locator("#feedback textarea[name=comment]")
    comment.wait_for(state="visible", timeout=5000)
    assert page.evaluate("window.notReloaded") is True and "#" not in page.url
    assert page.evaluate("window.scrollY") == before
    assert page.evaluate("document.activeElement.name") == "comment"
    comment.fill("Palautusosoite puuttuu")
    send = page.locator("#feedback").get_by_role("button", name="Lähetä")
    send.scroll_into_view_if_needed()  # Playwright would scroll to it when clicking; the app must not
    before = page.evaluate("window.scrollY")
    send.click()
    thanks = page.locator("#feedback [role=status]")
    thanks.wait_for(state="visible", timeout=5000)
    assert thanks.inner_text() == "Kiitos palautteestasi!"
    assert page.get_by_text("Kiitos palautteestasi!").count() == 1  # thanked once
    assert page.evaluate("window.notReloaded") is True and page.evaluate("window.scrollY") == before
