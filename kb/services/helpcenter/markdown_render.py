"""Article Markdown to safe HTML, and the text a reader sees.

Markdown passes raw HTML and ``javascript:`` links straight through, so every
rendering goes through nh3 (an allow-list sanitiser) before it reaches a page.
Plain text (excerpts, meta descriptions, the API's ``text``) is taken from the
sanitised HTML, never from the Markdown source: what a ``<script>`` or an HTML
comment holds is never shown.

Articles store both at save (:mod:`kb.services.helpcenter.article_render`), tagged with
:data:`RENDERER`, which changes by itself with the extensions, the allow-lists and
the libraries' versions; bump :data:`RENDER_VERSION` when code here changes the
output of :func:`render_markdown` or :func:`html_text`. Stored renderings of
another renderer are never served, and ``neuvo init`` / ``neuvo reindex`` refresh them.
"""
from __future__ import annotations

import hashlib
from html.parser import HTMLParser

import re

import markdown
import nh3
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
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
    "td": {"align", "colspan", "rowspan", "data-label"},
    "abbr": {"title"},
    "h2": {"id"}, "h3": {"id"}, "h4": {"id"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
_STASHED = re.compile("\x02[^\x03]*\x03")


class _TableLabels(Treeprocessor):
    """Give each body cell its column's heading as ``data-label``.

    On a phone a table's rows are stacked, each cell under the heading it belongs to (CSS reads
    the label): a table of three columns does not fit 390 pixels, and a table that scrolls sideways
    hides what the reader came for.
    """

    def run(self, root):  # type: ignore[no-untyped-def]
        for table in root.iter("table"):
            heads = [" ".join(_STASHED.sub("", "".join(th.itertext())).split())
                     for th in table.findall("./thead/tr/th")]
            for row in table.findall("./tbody/tr"):
                for heading, cell in zip(heads, row.findall("./td")):
                    if heading:
                        cell.set("data-label", heading)


class _TableLabelsExtension(Extension):
    def extendMarkdown(self, md):  # type: ignore[no-untyped-def]  # noqa: N802 (Markdown's API)
        md.treeprocessors.register(_TableLabels(md), "table_labels", 5)


_EXTENSIONS = ["tables", "sane_lists", "smarty", "toc", "fenced_code", _TableLabelsExtension()]

#: Bumped whenever this module's code changes its output for the same Markdown (the settings
#: above and the libraries' versions are part of :data:`RENDERER` by themselves).
RENDER_VERSION = 4
_SETTINGS = repr((sorted(e if isinstance(e, str) else type(e).__name__ for e in _EXTENSIONS), sorted(ALLOWED_TAGS),
                  sorted((tag, sorted(names)) for tag, names in ALLOWED_ATTRIBUTES.items()), sorted(URL_SCHEMES)))
#: Stored beside each article's rendering: this module's version, its settings and the libraries that shape the output.
RENDERER = (f"{RENDER_VERSION}/markdown-{markdown.__version__}/nh3-{getattr(nh3, '__version__', '?')}/"
            f"{hashlib.sha256(_SETTINGS.encode()).hexdigest()[:8]}")

#: Elements that end a run of words: their boundaries become a space in plain text.
_BLOCKS = frozenset({
    "address", "blockquote", "br", "dd", "div", "dl", "dt", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li",
    "ol", "p", "pre", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "img",
})
_ELLIPSIS_TRIM = " \t\n.,;:!?…-–—"


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


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(clean_html: str) -> str:
    """The words of sanitised HTML as one line: inline markup joins ("**14**." is "14."), blocks separate."""
    collector = _TextCollector()
    collector.feed(clean_html)
    collector.close()
    return " ".join("".join(collector.parts).split())


def excerpt(text: str, limit: int | None = None) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, ending in a single "…"."""
    if not limit or len(text) <= limit:
        return text
    cut = text[:limit]
    if not text[limit].isspace():
        cut = cut.rsplit(" ", 1)[0] if " " in cut else cut
    return (cut.rstrip(_ELLIPSIS_TRIM) or cut) + "…"


def plain_text(text: str, limit: int | None = None) -> str:
    """Markdown reduced to the plain text a reader sees (for excerpts and meta descriptions)."""
    return excerpt(html_text(str(render_markdown(text))), limit)

