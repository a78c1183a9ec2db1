"""Keyboard users see where they are: one focus ring, visible on every background (WCAG 1.4.11),
on every kind of focusable element; printable pages have landmarks like the others."""
from __future__ import annotations

import re

import pytest


pytestmark = pytest.mark.browser


def _luminance(rgb: tuple[int, int, int]) -> float:
    parts = [c / 255 for c in rgb]
    parts = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in parts]
    return 0.2126 * parts[0] + 0.7152 * parts[1] + 0.0722 * parts[2]


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two computed CSS colours ("rgb(r, g, b)")."""
    first, second = (tuple(int(n) for n in re.findall(r"\d+", c)[:3]) for c in (a, b))
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until ``selector`` has the focus, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


RING = """() => { const s = getComputedStyle(document.activeElement);
  return {style: s.outlineStyle, width: parseFloat(s.outlineWidth), color: s.outlineColor}; }"""
BACKGROUND = "(s) => getComputedStyle(document.querySelector(s)).backgroundColor"


@pytest.mark.parametrize(("path", "selector", "surroundings"), [
    ("/fi/", "main a[href]", ["body"]),
    ("/fi/", "details summary", ["body", ".channel"]),          # opening hours on a channel card
    ("/yhteydenotto", "textarea", ["body", ".contact-form"]),
    ("/fi/", ".site-header a", [".site-header"]),
])
def test_focus_ring_is_solid_and_has_3_to_1_contrast(page, live_server: str, path: str, selector: str,  # noqa: F811
                                                     surroundings: list[str]) -> None:
    page.goto(live_server + path)
    tab_to(page, selector)
    ring = page.evaluate(RING)
    assert ring["style"] == "solid" and ring["width"] >= 2, (selector, ring)   # not the browser's fallback ring
    for around in surroundings:
        background = page.evaluate(BACKGROUND, around)
        if background == "rgba(0, 0, 0, 0)":  # transparent: the page shows through
            background = page.evaluate(BACKGROUND, "body")
        assert contrast(ring["color"], background) >= 3, (selector, around, ring["color"], background)


def test_printable_invoice_has_landmarks_and_fits_a_phone(page, live_server: str) -> None:  # noqa: F811
    from kb.services.shop.demo import DEMO_CUSTOMER_PASSWORD
    from tests.fixtures.browser_fixtures import browser_log_in as log_in

    log_in(page, live_server, "aino.virtanen@example.com", DEMO_CUSTOMER_PASSWORD)
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(live_server + "/tili/tilaukset")
    page.locator("table.data a[href^='/lasku/']").first.click()
    page.wait_for_url("**/lasku/*")
    assert page.locator("main").count() == 1 and page.locator("body > header").count() == 1
    assert page.locator("meta[name=viewport]").get_attribute("content").startswith("width=device-width")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    tab_to(page, "a[href$='.pdf']")
    assert page.evaluate(RING)["style"] == "solid"
