"""Split an e-mail into the customer's new text, the quoted earlier thread and the signature.

A plain library (no flask, sqlalchemy or kb): :func:`split_message` takes a message's text and,
when there is one, its HTML part, and returns a :class:`Split`. Forwarded content stays with
the new text (it is what the customer wants read). When unsure, the customer's words stay in
the text: a signature starts only at a strong sign near the end, and a sentence is never cut
because a word in it looks like a closing.

Every pattern reads one line at a time (at most :data:`splitter.LINE_LIMIT` characters of
it), so splitting takes time linear in the size of the message.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .html import QUOTE_MARK, html_to_text
from .splitter import split_lines

__all__ = ["Split", "split_message", "html_to_text"]


@dataclass(frozen=True)
class Split:
    """The three parts of a message; each is plain text, possibly empty."""

    text: str
    quoted: str
    signature: str


_BLANK_RUNS = re.compile(r"\n{3,}")


def _join(lines: list[str]) -> str:
    if not lines:
        return ""
    text = "\n".join(line.rstrip() for line in lines if line != QUOTE_MARK).strip()
    return _BLANK_RUNS.sub("\n\n", text) if "\n\n\n" in text else text


def _split_text(text: str) -> Split:
    text_lines, quoted, signature = split_lines(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return Split(_join(text_lines), _join(quoted), _join(signature))


def split_message(text: str | None, html: str | None = None) -> Split:
    """The new text, quoted thread and signature of a message.

    ``text`` is the plain-text part; ``html`` the HTML part when the message has one. The
    plain text is split when there is one; the HTML is read when there is no plain text, or
    when the plain text shows no quote but the HTML marks one (a blockquote or a client's
    quote container: strong signals that a conversion to text loses).
    """
    text = text or ""
    if text.strip():
        result = _split_text(text)
        if result.quoted or not html:
            return result
        from_html = _split_text(html_to_text(html))
        return from_html if from_html.quoted and from_html.text else result
    if html:
        return _split_text(html_to_text(html))
    return Split("", "", "")
