"""HTML mail to plain text that keeps what the markup says about quoting.

A ``<blockquote>`` becomes ``> `` prefixed lines (the ``>`` that a plain conversion loses), and
the first container a mail client puts around the earlier thread (Gmail's ``gmail_quote``,
Outlook's ``divRplyFwdMsg`` and its top-bordered header block, Thunderbird's
``moz-cite-prefix``, Yahoo's ``yahoo_quoted``, Apple's ``OLK_SRC_BODY_SECTION``, Hotmail's
``stopSpelling`` rule) is marked with :data:`QUOTE_MARK` on a line of its own. Script, style
and head are left out; nothing is ever rendered.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

#: A line the converter puts where a client's quote container starts (a private-use character).
QUOTE_MARK = "\ue000"

_BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "hr", "ul", "ol",
           "pre", "section", "article", "header", "footer", "dd", "dt", "address"}
_SKIP = {"script", "style", "head", "title", "xml"}
_QUOTE_CLASSES = ("gmail_quote", "yahoo_quoted", "moz-cite-prefix", "outlookmessageheader", "protonmail_quote",
                  "zmail_extra", "mailquote")
_QUOTE_IDS = ("divrplyfwdmsg", "appendonsend", "olk_src_body_section", "stopspelling", "mail-editor-reference-message-container")
_OUTLOOK_BORDER = re.compile(r"border-top:\s*solid\s+#(?:b5c4df|e1e1e1)", re.IGNORECASE)
_SPACE = re.compile(r"[ \t\r\n\f\v\xa0\u200b-\u200f\u2028\u2029\ufeff]+")


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[list] = [[0, []]]
        self.depth = 0
        self.skip = 0
        self.marked = False

    def _newline(self) -> None:
        if self.lines[-1][1]:
            self.lines.append([self.depth, []])
        else:
            self.lines[-1][0] = self.depth

    def _mark(self) -> None:
        if not self.marked:
            self.marked = True
            self._newline()
            self.lines[-1][1].append(QUOTE_MARK)
            self.lines.append([self.depth, []])

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
            return
        found = dict(attrs)
        classes = (found.get("class") or "").lower()
        ident = (found.get("id") or "").lower()
        if (any(c in classes for c in _QUOTE_CLASSES) or any(i in ident for i in _QUOTE_IDS)
                or (tag == "div" and _OUTLOOK_BORDER.search(found.get("style") or ""))):
            self._mark()
        if tag == "blockquote":
            self._newline()
            self.depth += 1
            self.lines[-1][0] = self.depth
        elif tag in _BLOCKS:
            self._newline()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag == "blockquote":
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag == "blockquote":
            self.depth = max(0, self.depth - 1)
            self._newline()
        elif tag in _BLOCKS:
            self._newline()
            if tag in ("p", "div", "table"):
                self.lines.append([self.depth, []])

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if not self.lines[-1][1]:
            self.lines[-1][0] = self.depth
        self.lines[-1][1].append(data)


def html_to_text(html: str) -> str:
    """The readable text of an HTML mail, blockquotes as ``>`` lines and the client's quote container marked."""
    converter = _Converter()
    converter.feed(html or "")
    converter.close()
    out: list[str] = []
    for depth, parts in converter.lines:
        text = _SPACE.sub(" ", "".join(parts)).strip()
        if text == QUOTE_MARK:
            out.append(text)
        elif text:
            out.append("> " * depth + text)
        elif out and out[-1]:
            out.append("")
    return "\n".join(out).strip()
