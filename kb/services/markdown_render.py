"""Article Markdown to safe HTML.

Markdown passes raw HTML and ``javascript:`` links straight through, so every
rendering goes through nh3 (an allow-list sanitiser) before it reaches a page.
"""
from __future__ import annotations

import html as html_lib
import re

import markdown
import nh3
from markupsafe import Markup

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em",
    "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s",
    "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"align", "colspan", "rowspan"},
    "td": {"align", "colspan", "rowspan"},
    "abbr": {"title"},
    "h2": {"id"}, "h3": {"id"}, "h4": {"id"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
_EXTENSIONS = ["tables", "sane_lists", "smarty", "toc", "fenced_code"]
_TAG_RE = re.compile(r"<[^>]+>")


def render_markdown(text: str) -> Markup:
    """Render Markdown and sanitise the result; safe to insert into a page."""
    html = markdown.markdown(text or "", extensions=_EXTENSIONS, output_format="html")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    return Markup(clean)  # noqa: S704  # nosec B704 # sanitised by nh3 above


def plain_text(text: str, limit: int | None = None) -> str:
    """Markdown reduced to plain text (for excerpts and meta descriptions)."""
    html = markdown.markdown(text or "", extensions=["tables", "sane_lists"])
    words = " ".join(html_lib.unescape(_TAG_RE.sub(" ", html)).split())
    if limit and len(words) > limit:
        cut = words[:limit].rsplit(" ", 1)[0]
        return cut + "…"
    return words
