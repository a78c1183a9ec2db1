"""Article Markdown renders as HTML with nothing able to run script."""
from __future__ import annotations

import pytest

from kb.services.helpcenter.markdown_render import plain_text, render_markdown
from tests.support.html_safety import script_risks
from tests.support.xss_payloads import PAYLOADS


def test_parser_catches_what_markdown_alone_lets_through() -> None:
    """The checker is not blind: plain Markdown output of the corpus is flagged."""
    import markdown

    flagged = sum(bool(script_risks(markdown.markdown(p))) for p in PAYLOADS)
    assert flagged >= 40


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_is_neutralised(payload: str) -> None:
    html = str(render_markdown(f"Otsikko\n\n{payload}\n\nLoppu"))
    assert script_risks(html) == []


def test_ordinary_markdown_survives() -> None:
    html = str(render_markdown(
        "## Toimitus\n\n- **Posti** 4,90 €\n- [Palautukset](/fi/a/palautukset)\n\n"
        "| Tapa | Hinta |\n|---|---|\n| Nouto | 0 € |\n\n[Posti](https://www.posti.fi)"))
    assert "<h2" in html and "<strong>Posti</strong>" in html and "<table>" in html
    assert '<a href="/fi/a/palautukset"' in html
    assert 'rel="noopener noreferrer"' in html


def test_plain_text_strips_markup_and_cuts_at_a_word() -> None:
    text = plain_text("## Otsikko\n\nToimitus **kestää** 1–3 arkipäivää & maksaa 4,90 €.", limit=30)
    assert "<" not in text and "**" not in text
    assert text.endswith("…") and len(text) <= 31
