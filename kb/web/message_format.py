"""Plain-text messages (mail, replies, automatic answers) shown as HTML that reads as written text.

The filter ``message_html`` escapes everything, keeps paragraphs (blank lines) and line
breaks, turns ``- `` lines into a list, and makes web addresses links with readable text:

- a bare address on its own line under a short line of text links that text
  ("Tilauksen seuranta" / "https://…/fi/a/tilauksen-seuranta" → one link);
- "Label: https://…" links the label;
- any other address is shown shortened (host and the start of the path), whole in its title.

Only http and https addresses become links. The output holds no newline characters,
so a ``white-space: pre-wrap`` style around it adds no blank lines.
"""
from __future__ import annotations

import re

from markupsafe import Markup, escape

_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")
_BARE = re.compile(r"^(?:https?://\S+)$")
_LABELLED = re.compile(r"^(?P<label>.*\S)\s*:\s+(?P<url>https?://\S+)$")
#: Longest line of text that a bare address under it turns into a link.
TITLE_MAX = 120
SHORT_URL = 40


def short_url(url: str) -> str:
    """``host/path…`` of at most SHORT_URL characters, for an address shown as text."""
    text = re.sub(r"^https?://(www\.)?", "", url).rstrip("/")
    return text if len(text) <= SHORT_URL else text[:SHORT_URL - 1] + "…"


def _link(url: str, text: str) -> Markup:
    return Markup('<a href="{0}" rel="noopener noreferrer nofollow" target="_blank">{1}</a>').format(url, text)


def _inline(text: str) -> Markup:
    """Escape ``text``, with every address in it a shortened link (full address in its title)."""
    out, last = Markup(""), 0
    for match in _URL.finditer(text):
        url = match.group(0)
        out += escape(text[last:match.start()])
        out += Markup('<a href="{0}" title="{0}" rel="noopener noreferrer nofollow" target="_blank">{1}</a>').format(
            url, short_url(url))
        last = match.end()
    return out + escape(text[last:])


def _lines(paragraph: str) -> list[Markup]:
    """The paragraph's lines as HTML, a bare address merged into the line of text above it."""
    lines: list[Markup] = []
    plain_above: str | None = None  # the text of the line above when it was plain text without a link
    for raw in paragraph.split("\n"):
        line = raw.strip()
        bullet = line.startswith("- ")
        body = line[2:].strip() if bullet else line
        if _BARE.match(line) and plain_above is not None and len(plain_above) <= TITLE_MAX and lines:
            label = plain_above.rstrip(": ").strip() or plain_above
            previous = lines.pop()
            prefix = Markup("- ") if previous.startswith("- ") else Markup("")
            lines.append(prefix + _link(line, label))
            plain_above = None
            continue
        labelled = _LABELLED.match(body)
        if labelled and not _URL.search(labelled.group("label")):
            html = _link(labelled.group("url"), labelled.group("label"))
            plain_above = None
        else:
            html = _inline(body)
            plain_above = body if not _URL.search(body) else None
        lines.append((Markup("- ") if bullet else Markup("")) + html)
    return lines


def message_html(text: str | None) -> Markup:
    """A plain-text message as paragraphs, lists and readable links (see the module docstring)."""
    paragraphs = re.split(r"\n\s*\n", (text or "").replace("\r\n", "\n").replace("\r", "\n").strip())
    out = Markup("")
    for paragraph in paragraphs:
        if not paragraph.strip():
            continue
        head: list[Markup] = []
        items: list[list[Markup]] = []
        for line in _lines(paragraph):
            if line.startswith("- "):
                items.append([line[2:]])  # still Markup: slicing keeps it
            elif items:  # a line under a list item belongs to it
                items[-1].append(line)
            else:
                head.append(line)
        if head:
            out += Markup("<p>") + Markup("<br>").join(head) + Markup("</p>")
        if items:
            out += Markup('<ul class="message-links">') + Markup("").join(
                Markup("<li>") + Markup("<br>").join(item) + Markup("</li>") for item in items) + Markup("</ul>")
    return out
