"""The line-by-line splitter: new text, the quoted thread, the signature.

Each line is classified once (quoted ``>`` line, attribution "On … wrote:" over one to three
lines, Outlook header block, "Original message" rule, forward marker, HTML quote mark), then
the message is cut into segments:

- a *new* segment: the customer's lines;
- a *quote* segment: an attribution and/or ``>`` lines, after which new text may follow
  (a reply written under or between the quoted lines);
- a *tail*: an unprefixed earlier message (an Outlook header block, "-----Original
  Message-----", an attribution without ``>`` under it); everything after it is quoted.

One new segment is the text. Several new segments between quotes are an inline reply: the
text runs from the start to the end of the last new segment, quotes between them included
(the customer answered those lines). A message whose first boundary is a forward keeps
everything as its text. The signature is then looked for at the end of the text only.

Every regular expression runs on one line of bounded length, never on the whole message, so
the time grows linearly with the size of the message.
"""
from __future__ import annotations

import re

from .html import QUOTE_MARK
from .signature import _mobile_footer, signature_start
from .vocabulary import FORWARD_SUBJECT, FORWARDED, HEADER_ROLE, ORIGINAL_MESSAGE, WROTE

#: Only this much of a line is read by the patterns (a header is never longer).
LINE_LIMIT = 400

_WROTE = "|".join(re.escape(w) for w in sorted(WROTE, key=len, reverse=True))
_WROTE_AT_END = re.compile(rf"(?:^|[\s>\"'”)\]*])(?:{_WROTE})\s*:\s*$", re.IGNORECASE)
_WROTE_INSIDE = re.compile(rf"(?:^|[\s>\"'”)\]])(?:{_WROTE})(?=[\s:,])", re.IGNORECASE)
_DATE = re.compile(r"\d{1,4}[./-]\d{1,2}|\b(?:19|20)\d{2}\b|\d{1,2}[:.]\d{2}\b")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_HEADER_START = re.compile(
    r"^(?:on|le|am|el|il|op|em|den|på|w dniu|dnia|в|vào|ma|ti|ke|to|pe|la|su|mon|tue|wed|thu|fri|sat|sun"
    r"|maanantaina|tiistaina|keskiviikkona|torstaina|perjantaina|lauantaina|sunnuntaina)\b|^\d", re.IGNORECASE)
_KEY = re.compile(r"^[*_]{0,2}([^\W\d_][\w -]{0,14}?)[*_]{0,2}\s*[:：][*_]{0,2}(?:\s|$|(?<=：))")
_RULE_WORDS = "|".join(re.escape(w) for w in ORIGINAL_MESSAGE)
_ORIGINAL = re.compile(rf"^[-_=*>\s]*(?:{_RULE_WORDS})\s*[-_=*:\s]*$", re.IGNORECASE)
_FORWARD_WORDS = "|".join(re.escape(w) for w in FORWARDED)
_FORWARD = re.compile(rf"^[-_=*>\s]*(?:{_FORWARD_WORDS})\b.{{0,60}}$", re.IGNORECASE)
_SEPARATOR = re.compile(r"^\s*[-_=*]{5,}\s*$")
_DATED_ADDRESS = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\b[^<>]{0,120}<[^<>@\s]+@[^<>\s]+>$")
# reply text and "On … wrote:" on one line ("reply On Wed, Apr 4, 2012 at 3:59 PM, bob@example.com wrote:")
_SHARED_LINE = re.compile(r"^(?P<reply>.*?\S)[\s-]*?-*\s*(?P<header>(?:On|Le|Am|El|Il|Op|Em|Den|På)\s.{6,300}:)\s*$")
_LINK_ONLY = re.compile(r"\(?<?https?://\S*|[()<>]")
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2028\u2029\ufeff\u00ad]")


def _key(line: str) -> str | None:
    """The role of an e-mail header name at the start of the line ("from", "sent", "to", "subject")."""
    match = _KEY.match(line)
    if not match:
        return None
    return HEADER_ROLE.get(" ".join(match.group(1).lower().split()))


def _header_block(lines: list[str], start: int, keys: list[str | None]) -> tuple[bool, bool]:
    """(is an Outlook-style header block starting here, is it a forward); ``keys``: each line's role."""
    roles: list[str] = []
    forward = False
    seen = 0
    for offset, line in enumerate(lines[start:start + 12]):
        if not line:
            continue
        seen += 1
        if seen > 8:
            break
        role = keys[start + offset]
        if role:
            roles.append(role)
            if role == "subject" and FORWARD_SUBJECT.match(re.split("[:：]", line, maxsplit=1)[1]):
                forward = True
        elif seen == 1:
            return False, False
    distinct = set(roles)
    first = lines[start]
    if "from" in distinct and (len(distinct) >= 2 or "mailto:" in first.lower() or _EMAIL.search(first)):
        return True, forward
    if "sent" in distinct and len(distinct) >= 2:
        return len(distinct) >= 3 or any(_EMAIL.search(line) for line in lines[start:start + 8]), forward
    return False, forward


def _attribution(lines: list[str], end: int) -> int | None:
    """First line of an attribution ending at line ``end`` ("On …, Anna wrote:"), or None."""
    line = lines[end]
    if not line.endswith(":") or len(line) > LINE_LIMIT:
        return None
    # the widest window (three lines at most) whose first line starts like a header
    for start in (end - 2, end - 1):
        if start < 0 or any(not lines[i] or lines[i].startswith(">") for i in range(start, end)):
            continue
        if _HEADER_START.match(lines[start]) and _is_attribution(" ".join(lines[start:end + 1])):
            return start
    return end if _is_attribution(line) else None


def _is_attribution(text: str) -> bool:
    text = text.lstrip("> ").strip()
    if len(text) > LINE_LIMIT or not text.endswith(":"):
        return False
    dated, addressed = bool(_DATE.search(text)), "@" in text
    if _WROTE_AT_END.search(text):
        return len(text) <= 160 or dated or addressed
    if _WROTE_INSIDE.search(text):
        return dated or addressed
    return dated and addressed and bool(_HEADER_START.match(text) or re.search(r"<[^<>]*@[^<>]*>\s*:$", text)
                                        or len(text) <= 120)


def _next_quoted(lines: list[str], index: int) -> bool:
    for line in lines[index + 1:index + 4]:
        if line:
            return line.startswith(">")
    return False


def _forward_follows(lines: list[str], index: int, keys: list[str | None]) -> bool:
    """The HTML quote container at ``index`` opens with a forward (Gmail and Outlook wrap forwards too)."""
    for number in range(index + 1, min(index + 4, len(lines))):
        if not lines[number]:
            continue
        if _FORWARD.match(lines[number][:LINE_LIMIT]):
            return True
        return bool(keys[number]) and _header_block(lines, number, keys) == (True, True)
    return False


def _link_fragment(line: str) -> bool:
    """A wrapped link's piece between quoted lines: no words left once links and brackets go."""
    return len(_LINK_ONLY.sub(" ", line).split()) <= 1


def _unshare(lines: list[str]) -> list[str]:
    """Put an attribution that shares its line with the reply on a line of its own."""
    out = []
    for line in lines:
        match = (_SHARED_LINE.match(line) if line.endswith(":") and len(line) <= LINE_LIMIT
                 and not line.startswith(">") else None)
        if match and _is_attribution(match.group("header")) and not _HEADER_START.match(line):
            out.extend([match.group("reply").rstrip("- "), match.group("header")])
        else:
            out.append(line)
    return out


def classify(lines: list[str]) -> list[str]:
    """One letter per line: ``b`` blank, ``q`` quoted, ``h`` attribution, ``o`` tail start,
    ``f`` forward start, ``n`` new text."""
    kinds = ["n"] * len(lines)
    keys = [_key(line[:60]) if ":" in line[:40] or "：" in line[:40] else None for line in lines]
    for index, line in enumerate(lines):
        if index and kinds[index - 1] in "of":
            break  # all that follows a tail or a forward belongs to it
        if not line:
            kinds[index] = "b"
            continue
        if line[0] == ">":
            kinds[index] = "q"
        if line == QUOTE_MARK:
            kinds[index] = "b" if _forward_follows(lines, index, keys) else "o"
            continue
        short = line[:LINE_LIMIT]
        if len(short) <= 120 and (line[0] in "-_=*>" or " " in line):
            if _ORIGINAL.match(short) and kinds[index] != "q":
                kinds[index] = "o"
                continue
            if _FORWARD.match(short):
                kinds[index] = "f" if kinds[index] != "q" else "q"
                continue
        if kinds[index] == "q":
            continue
        if line.startswith("--") and line.endswith("--") and _is_attribution(line.strip("-* ") + ":"):
            kinds[index] = "h"
            continue
        if _DATED_ADDRESS.match(short) and _next_quoted(lines, index):
            kinds[index] = "h"
            continue
        if line.endswith(":"):
            start = _attribution(lines, index)
            # "Myyjänne kirjoitti:" with no date or address is an attribution only above quoted lines:
            # followed by the customer's own text it is a sentence of theirs
            if start is not None and not _DATE.search(" ".join(lines[start:index + 1])) \
                    and "@" not in " ".join(lines[start:index + 1]) and not _next_quoted(lines, index):
                start = None
            if start is not None:
                for i in range(start, index + 1):
                    kinds[i] = "h"
                continue
        if keys[index]:
            block, forward = _header_block(lines, index, keys)
            if block:
                kinds[index] = "f" if forward else "o"
                # the rule a client draws above the block belongs to the quoted message
                before = index - 1
                while before >= 0 and kinds[before] == "b":
                    before -= 1
                if before >= 0 and kinds[before] == "n" and _SEPARATOR.match(lines[before]):
                    kinds[before] = kinds[index]
    quoted = [i for i, kind in enumerate(kinds) if kind == "q"]
    for before, after in zip(quoted, quoted[1:]):
        if 1 < after - before <= 3 and all(kinds[i] in "nb" for i in range(before + 1, after)) \
                and all(not lines[i] or _link_fragment(lines[i]) for i in range(before + 1, after)):
            for i in range(before + 1, after):
                kinds[i] = "q" if lines[i] else "b"
    return kinds


def _segments(kinds: list[str]) -> list[tuple[str, int, int]]:
    """(kind, first line, line after the last) of each segment: ``new``, ``quote``, ``tail``, ``forward``."""
    segments: list[tuple[str, int, int]] = []
    count = len(kinds)
    index = 0
    while index < count:
        kind = kinds[index]
        if kind in "of":
            segments.append(("tail" if kind == "o" else "forward", index, count))
            break
        if kind == "h":
            end = index
            while end < count and kinds[end] == "h":
                end += 1
            after = end
            while after < count and kinds[after] == "b":
                after += 1
            if after < count and kinds[after] == "q":
                while after < count and kinds[after] in "qb":
                    after += 1
                segments.append(("quote", index, after))
                index = after
                continue
            if after < count and kinds[after] == "h":
                segments.append(("quote", index, after))
                index = after
                continue
            segments.append(("tail", index, count))
            break
        if kind == "q":
            end = index
            while end < count and kinds[end] in "qb":
                end += 1
            segments.append(("quote", index, end))
            index = end
            continue
        end = index
        while end < count and kinds[end] in "nb":
            end += 1
        segments.append(("new", index, end))
        index = end
    return segments


def _trim(lines: list[str], start: int, end: int) -> tuple[int, int]:
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return start, end


def _footer_only(lines: list[str]) -> bool:
    """A segment after the quotes that holds only a signature or a list footer, no new words."""
    found = signature_start(lines, whole=True)
    if found is None:
        return len([l for l in lines if l]) == 1 and _mobile_footer(next(l for l in lines if l))
    index, part = found
    return not part and not any(lines[:index])


def split_lines(raw: list[str]) -> tuple[list[str], list[str], list[str]]:
    """(text lines, quoted lines, signature lines) of a message's lines."""
    if len(raw) == 1 and ":" not in raw[0] and ">" not in raw[0]:
        segments: list[tuple[str, int, int]] = [("new", 0, 1)]  # one line of chat: only a closing may end it
        return _with_signature(raw, [_INVISIBLE.sub("", raw[0]).strip()], segments, (0, 1), [], [], False)
    raw = _unshare(raw)
    lines = [_INVISIBLE.sub("", line).replace("\xa0", " ").strip() for line in raw]
    segments = _segments(classify(lines))
    # forwarded content is what the customer wants read: a forward before any quote keeps it all
    forward = next((kind for kind, _, _ in segments if kind != "new"), "") == "forward"
    footers: set[int] = set()
    if forward or not any(kind in ("quote", "tail") for kind, _, _ in segments):
        text_range = (0, len(raw))
    else:
        news = [number for number, (kind, s, e) in enumerate(segments) if kind == "new" and any(lines[s:e])]
        # a signature or list footer after the quotes is not new text
        while news and news[-1] > 0 and _footer_only(lines[segments[news[-1]][1]:segments[news[-1]][2]]):
            footers.add(news.pop())
        if not news:
            text_range = (0, 0)
        elif len(news) == 1:
            text_range = segments[news[0]][1:]
        else:
            text_range = (0, segments[news[-1]][2])
    quoted: list[str] = []
    closing: list[str] = []
    for number, (kind, s, e) in enumerate(segments):
        if number in footers:
            closing.extend(raw[s:e])
        elif not (text_range[0] <= s and e <= text_range[1]) and not forward:
            quoted.extend(raw[s:e] + [""])
    return _with_signature(raw, lines, segments, text_range, quoted, closing, forward)


def _with_signature(raw: list[str], lines: list[str], segments: list[tuple[str, int, int]],
                    text_range: tuple[int, int], quoted: list[str], closing: list[str],
                    forward: bool) -> tuple[list[str], list[str], list[str]]:
    """Cut the signature off the end of the text (never off a forward)."""
    start, end = _trim(raw, *text_range)
    text = raw[start:end]
    signature: list[str] = []
    found = None if forward else signature_start([lines[i] for i in range(start, end)])
    if found is not None:
        index, part = found
        if part:
            line = text[index]
            cut = line.rfind(part.strip())
            cut = cut if cut >= 0 else len(line)
            signature = [line[cut:].strip()] + text[index + 1:]
            text = text[:index] + [line[:cut].rstrip()]
        else:
            signature = text[index:]
            text = text[:index]
    return text, quoted, signature + closing
