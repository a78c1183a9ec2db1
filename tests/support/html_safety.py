"""An HTML parser that reports anything able to run script (entities decoded)."""
from __future__ import annotations

from html.parser import HTMLParser

DANGEROUS_TAGS = {"script", "iframe", "object", "embed", "style", "link", "meta", "base", "form", "svg",
                  "math", "template", "frame", "frameset", "applet", "input", "button", "video", "audio",
                  "source", "noscript", "xss", "isindex", "marquee", "details"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "background", "data", "poster", "xlink:href"}


class _Finder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DANGEROUS_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in ("style", "srcdoc"):
                self.problems.append(f"{tag}[{name}]")
            if name in URL_ATTRIBUTES and value is not None:
                # what a browser's URL parser does: trim C0 controls and spaces, drop tabs/newlines
                scheme = value.strip("".join(map(chr, range(0x21)))).lower()
                scheme = scheme.replace("\t", "").replace("\n", "").replace("\r", "")
                if scheme.startswith(("javascript:", "vbscript:", "data:")):
                    self.problems.append(f"{tag}[{name}]={value!r}")

    handle_startendtag = handle_starttag


def script_risks(html: str) -> list[str]:
    """Every tag or attribute in ``html`` that could run script in a browser."""
    finder = _Finder()
    finder.feed(html)
    finder.close()
    return finder.problems
