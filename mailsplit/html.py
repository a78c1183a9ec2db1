"""HTML mail to plain text that keeps what the markup says about quoting.

A ``<blockquote>`` becomes ``> `` prefixed lines (the ``>`` that a plain conversion loses), and
the first container a mail client puts around the earlier thread (Gmail's ``gmail_quote``,
Outlook's ``divRplyFwdMsg`` and its top-bordered header block, Thunderbird's
``moz-cite-prefix``, Yahoo's ``yahoo_quoted``, Apple's ``OLK_SRC_BODY_SECTION``, Hotmail's
``stopSpelling`` rule) is marked with :data:`QUOTE_MARK` on a line of its own. Script, style
and head are left out; nothing is ever rendered.

The markup is read with one tag pattern that cannot backtrack (``<[^<>]*>``) and ``str.find``
for comments and script bodies, so a malformed or hostile message takes linear time.
"""
from __future__ import annotations

import html as entities
import re

#: A line the converter puts where a client's quote container starts (a private-use character).
QUOTE_MARK = "\ue000"

_BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "hr",
                     "ul", "ol", "pre", "section", "article", "header", "footer", "dd", "dt", "address"})
_SKIP = ("script", "style", "head", "title", "xml")
_QUOTE_MARKERS = ("gmail_quote", "yahoo_quoted", "moz-cite-prefix", "outlookmessageheader", "protonmail_quote",
                  "zmail_extra", "divrplyfwdmsg", "appendonsend", "olk_src_body_section", "stopspelling",
                  "mail-editor-reference-message-container")
_OUTLOOK_BORDER = re.compile(r"border-top:\s*solid\s+#(?:b5c4df|e1e1e1)")
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9:-]{0,30})([^<>]*)>")
_SPACE = re.compile(r"[ \t\r\n\f\v\xa0\u200b-\u200f\u2028\u2029\ufeff]+")


def _skip_to_end(text: str, pos: int, tag: str) -> int:
    """Where the element ``tag`` opened before ``pos`` ends (its content is never text)."""
    lower_end = re.compile(rf"</{tag}\s*>", re.IGNORECASE).search(text, pos)
    return lower_end.end() if lower_end else len(text)


def html_to_text(html: str) -> str:
    """The readable text of an HTML mail, blockquotes as ``>`` lines and the client's quote container marked."""
    html = html or ""
    lines: list[tuple[int, list[str]]] = [(0, [])]
    depth = 0
    marked = False
    pos = 0
    length = len(html)

    def newline() -> None:
        if lines[-1][1]:
            lines.append((depth, []))
        else:
            lines[-1] = (depth, lines[-1][1])

    while pos < length:
        start = html.find("<", pos)
        if start < 0:
            start = length
        if start > pos:
            chunk = html[pos:start]
            if not lines[-1][1]:
                lines[-1] = (depth, lines[-1][1])
            lines[-1][1].append(chunk)
        if start >= length:
            break
        if html.startswith("<!--", start):
            end = html.find("-->", start + 4)
            pos = length if end < 0 else end + 3
            continue
        match = _TAG.match(html, start)
        if match is None:  # a lone "<": text
            lines[-1][1].append("<")
            pos = start + 1
            continue
        pos = match.end()
        closing, tag, attrs = match.group(1), match.group(2).lower(), match.group(3)
        if not closing and tag in _SKIP:
            pos = _skip_to_end(html, pos, tag) if not attrs.endswith("/") else pos
            continue
        if not closing and attrs and not marked:  # only the first container counts
            lowered = attrs.lower()
            if any(m in lowered for m in _QUOTE_MARKERS) or (tag == "div" and _OUTLOOK_BORDER.search(lowered)):
                marked = True
                newline()
                lines[-1][1].append(QUOTE_MARK)
                lines.append((depth, []))
        if tag == "blockquote":
            newline()
            depth = max(0, depth + (-1 if closing else 1))
            lines[-1] = (depth, lines[-1][1]) if not lines[-1][1] else lines[-1]
            if closing:
                newline()
        elif tag in _BLOCKS:
            newline()
            if closing and tag in ("p", "div", "table"):
                lines.append((depth, []))
    # one pass of unescaping and space folding over all lines at once (a separator no text holds)
    joined = _SPACE.sub(" ", entities.unescape("\x00".join("".join(parts).replace("\x00", "") for _, parts in lines)))
    out: list[str] = []
    for (level, _), text in zip(lines, joined.split("\x00")):
        text = text.strip()
        if text == QUOTE_MARK:
            out.append(text)
        elif text:
            out.append("> " * level + text)
        elif out and out[-1]:
            out.append("")
    return "\n".join(out).strip()
