"""Where the signature starts at the end of the customer's new text.

A signature starts only at a strong sign, and only near the end (what follows must be short
and read like a signature, never like more of the message):

- the ``-- `` delimiter (or a lone ``--`` / ``—``);
- a mail app's footer on a short line of its own ("Sent from my iPhone", "Lähetetty iPhonesta",
  "Skickat från min iPhone");
- a formal closing alone on its line, optionally with a name ("Ystävällisin terveisin",
  "Med vänliga hälsningar, Eva", "Best regards,"), or ending a line after a full sentence
  ("Kiitos. Terveisin Matti");
- a ``-Name`` line, a rule of underscores or dashes (mailing-list footers), or a contact block
  (a name and lines with an address, phone number or web address).

A word inside a sentence never starts a signature: "with regards to my last parcel" and
"Pyydän ystävällisesti palauttamaan rahat" are the customer's words.
"""
from __future__ import annotations

import re

from .vocabulary import CLOSINGS, MOBILE_FOOTER

_CLOSING_WORDS = "|".join(re.escape(c) for c in sorted(CLOSINGS, key=len, reverse=True))
#: A name after a closing: one to four capitalised words (initials and hyphens allowed).
_NAME = r"(?:[A-ZÅÄÖÜÉÈ][\w'’.-]*)(?:\s+[A-ZÅÄÖÜÉÈ][\w'’.-]*){0,3}"
_CLOSING_LINE = re.compile(rf"^(?:{_CLOSING_WORDS})\s*[,.!:;]*\s*(?:[,-]?\s*{_NAME}\s*[.!]?)?$", re.IGNORECASE)
# the name part must really be capitalised: checked without IGNORECASE
_NAME_TAIL = re.compile(rf"^[,.!:;\s-]*(?:{_NAME})?\s*[.!]?$")
_CLOSING_HEAD = re.compile(rf"^(?:{_CLOSING_WORDS})\b", re.IGNORECASE)
_INLINE_CLOSING = re.compile(rf"(?<=[.!?])\s+((?:{_CLOSING_WORDS})\b.*)$", re.IGNORECASE)
_DELIMITER = re.compile(r"^(?:--|—|-- .{0,60})\s*$")
_DASH_NAME = re.compile(r"^[-–—~]\s?[A-ZÅÄÖ][\w'’.-]+(?:\s+[A-ZÅÄÖ][\w'’.-]+){0,3}\s*$")
_RULE = re.compile(r"^[-_=*~]{8,}\s*$")
_CONTACT = re.compile(r"@[\w-]+\.\w|https?://|www\.|\+?\d[\d ()/-]{6,}\d|\b(?:puh|tel|mob|gsm|phone|fax)\b[.:]?",
                      re.IGNORECASE)
_NAME_LINE = re.compile(rf"^{_NAME}$")


def _closing_line(line: str) -> bool:
    """A formal closing, alone or followed by a capitalised name, and nothing else."""
    if len(line) > 80 or not _CLOSING_LINE.match(line):
        return False
    head = _CLOSING_HEAD.match(line)
    return bool(head and _NAME_TAIL.match(line[head.end():]))


def _mobile_footer(line: str) -> bool:
    """A mail app's footer: a short line starting with the app's phrase, no sentence inside."""
    if len(line) > 70 or len(line.split()) > 9 or not MOBILE_FOOTER.match(line):
        return False
    return not re.search(r"[,;]|[.!?]\s+\w", line)


def _short_tail(lines: list[str], start: int, *, most: int, width: int = 100) -> bool:
    """What follows ``start`` reads like a signature: few short lines and no question."""
    rest = [line for line in lines[start + 1:] if line]
    return len(rest) <= most and all(len(line) <= width and not line.endswith("?") for line in rest)


def signature_start(lines: list[str], *, whole: bool = False) -> tuple[int, str] | None:
    """Index of the first line of the signature in ``lines`` (stripped), or None.

    Unless ``whole`` (a block after the quotes, which may be nothing but a footer), only the
    strongest signs may leave no text before the signature.

    When a closing ends a line after a sentence, returns that line's index and the part of the
    line that belongs to the signature (the rest stays in the text).
    """
    count = len(lines)
    for index, line in enumerate(lines):
        if not line:
            continue
        if count - index > 40:  # a signature is near the end
            continue
        previous_blank = index == 0 or not lines[index - 1]
        if _DELIMITER.match(line) and _short_tail(lines, index, most=20, width=200):
            return index, ""
        if _mobile_footer(line) and _short_tail(lines, index, most=4):
            return index, ""
        if _closing_line(line) and _short_tail(lines, index, most=8, width=120):
            return index, ""
        inline = _INLINE_CLOSING.search(line)
        if inline and _closing_line(inline.group(1)) and _short_tail(lines, index, most=6, width=120):
            return index, inline.group(1)
        if not whole and not any(lines[:index]):
            # only the strongest signs may leave no text at all
            continue
        if previous_blank and _DASH_NAME.match(line) and _short_tail(lines, index, most=6):
            return index, ""
        if _RULE.match(line) and _short_tail(lines, index, most=15, width=200) \
                and (any(_CONTACT.search(l) for l in lines[index + 1:]) or _short_tail(lines, index, most=5)):
            return index, ""
        if previous_blank and _contact_block(lines, index):
            return index, ""
    return None


def _contact_block(lines: list[str], start: int) -> bool:
    """A name followed by up to seven short lines, one of them an address, phone or web address."""
    block = lines[start:]
    if not 2 <= len(block) <= 8 or any(not line for line in block):
        return False
    if not _NAME_LINE.match(block[0]) or len(block[0]) > 40:
        return False
    return all(len(line) <= 80 and not line.endswith("?") for line in block) and \
        any(_CONTACT.search(line) for line in block[1:])
