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


def test_table_cells_carry_their_column_heading_for_phones() -> None:
    html = str(render_markdown("| Kanava | **Aukioloajat** | Vastausaika |\n|---|---|---|\n"
                               "| Chat | ma–pe 9–17 | minuutissa |\n| Sähköposti | aina | |\n"))
    assert '<td data-label="Kanava">Chat</td>' in html
    assert '<td data-label="Aukioloajat">ma–pe 9–17</td>' in html  # the heading's words, not its markup
    assert html.count('data-label="Vastausaika"') == 2


@pytest.mark.parametrize("heading", ['a" onmouseover="alert(1)', "a' onmouseover='alert(1)",
                                     "<img src=x onerror=alert(1)>", "`\" onclick=\"x`", "&quot; onfocus=&quot;x"])
def test_a_heading_cannot_smuggle_an_attribute_into_its_cells(heading: str) -> None:
    from html.parser import HTMLParser

    cells: list[list[str]] = []

    class Cells(HTMLParser):
        def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
            if tag == "td":
                cells.append([name for name, _ in attrs])

    html = str(render_markdown(f"| {heading} | b |\n|---|---|\n| x | y |\n"))
    Cells().feed(html)
    assert script_risks(html) == [] and cells and all(set(names) <= {"data-label"} for names in cells)


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
