"""The text of a linked answer: what an agent inserts into a reply with one click.

A customer reads it as written text, so it is made of whole sentences from the start of the
article as readers see it (sanitised HTML: text inside ``<script>`` never appears), never an
excerpt cut in the middle of a word, and never with a space before punctuation where a link
or emphasis ended. Headings, tables and code blocks are left out. Only the opening paragraphs are
used (a list that follows reads badly as prose, and the link leads to it). The link itself is added by
the caller, as a bare address on its own line (the mail is plain text).
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

from kb.services.helpcenter.markdown_render import render_markdown

#: About how long the inserted text may be; the first sentence is always whole, however long.
ANSWER_CHARS = 320

_BLOCKS = {"p", "li", "dd", "blockquote"}
_SKIPPED = {"h1", "h2", "h3", "h4", "h5", "h6", "table", "pre", "script", "style"}
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,;:!?)\]”’»])")
_SPACE_AFTER_OPEN = re.compile(r"([(\[“‘«])\s+")
#: A sentence ends at . ! or ? followed by a space and a capital letter, a digit or a quote
#: ("esim. 100245" does not end one: a digit after an abbreviation is rare in these articles,
#: and a lower-case word after "esim." keeps the sentence going).
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[A-ZÅÄÖÜ\"“”(])")


class _Blocks(HTMLParser):
    """Text of each paragraph-like block, in order, without the skipped ones."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, str]] = []
        self._current: list[str] | None = None
        self._tag = ""
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skip += 1
        elif tag in _BLOCKS and not self._skip:
            self._flush()
            self._current, self._tag = [], tag
        elif tag == "br" and self._current is not None:
            self._current.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._current is not None and not self._skip:
            self._current.append(data)

    def _flush(self) -> None:
        if self._current is not None:
            text = tidy("".join(self._current))
            if text:
                self.blocks.append((self._tag, text))
        self._current = None

    def close(self) -> None:
        super().close()
        self._flush()


def tidy(text: str) -> str:
    """One line of text: single spaces, none before closing punctuation or after an opening one."""
    text = " ".join(text.split())
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    return _SPACE_AFTER_OPEN.sub(r"\1", text)


def sentences(text: str) -> list[str]:
    """``text`` split into sentences (see ``_SENTENCE_END``)."""
    return [s for s in _SENTENCE_END.split(text) if s]


def answer_text(markdown_body: str, limit: int = ANSWER_CHARS) -> str:
    """Whole sentences from the start of the article, about ``limit`` characters at most."""
    parser = _Blocks()
    parser.feed(str(render_markdown(markdown_body)))
    parser.close()
    chosen: list[str] = []
    length = 0
    for tag, block in parser.blocks:
        if tag == "li" and chosen:  # the answer is the opening paragraphs; a list reads badly as prose
            break
        for sentence in sentences(block):
            if chosen and length + 1 + len(sentence) > limit:
                return _joined(chosen)
            chosen.append(sentence)
            length += len(sentence) + (1 if length > 0 else 0)
        if chosen and not re.search(r"[.!?…:]$", chosen[-1]):
            # a list item or a caption without a full stop: end it, so the next block starts a sentence
            chosen[-1] += "."
            length += 1
    return _joined(chosen)


def _joined(chosen: list[str]) -> str:
    """The sentences as one paragraph, without a last one that only introduces what was left out."""
    while len(chosen) > 1 and chosen[-1].endswith(":"):
        chosen = chosen[:-1]
    return " ".join(chosen)
