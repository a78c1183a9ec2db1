"""Images an article may show: the ones the site's Content-Security-Policy lets readers' browsers load.

An image the policy blocks shows readers a broken picture, so the editor refuses it at save and
names it. The policy's ``img-src`` is passed in as text (services read no app configuration).
"""
from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

from kb.services.errors import InvalidInput
from kb.services.helpcenter.markdown_render import render_markdown

DEFAULT_IMG_SRC = "'self' data:"


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.sources += [value for name, value in attrs if name == "src" and value]


def img_src_of(policy: str) -> str:
    """The ``img-src`` sources of a Content-Security-Policy (``default-src`` when it has none)."""
    directives = {}
    for part in policy.split(";"):
        name, _, value = part.strip().partition(" ")
        if name:
            directives[name.lower()] = value.strip()
    return directives.get("img-src", directives.get("default-src", DEFAULT_IMG_SRC))


def _allowed(src: str, sources: list[str]) -> bool:
    url = urlsplit(src)
    scheme = url.scheme.lower()
    if not scheme and not url.netloc:
        return "'self'" in sources                      # a path on this site
    if "*" in sources or f"{scheme}:" in sources:
        return True
    origin = f"{scheme}://{url.netloc.lower()}"
    for source in sources:
        source = source.lower().rstrip("/")
        if source == origin or (source.startswith(f"{scheme}://*.") and url.netloc.lower().endswith(source[len(scheme) + 4:])):
            return True
    return False


def blocked_images(markdown_text: str, img_src: str = DEFAULT_IMG_SRC) -> list[str]:
    """The image addresses in the article that the policy's ``img-src`` would block, in order."""
    parser = _Images()
    parser.feed(str(render_markdown(markdown_text)))
    sources = img_src.split()
    return [src for src in parser.sources if not _allowed(src, sources)]


def check_images(markdown_text: str, img_src: str = DEFAULT_IMG_SRC) -> None:
    """Raise InvalidInput (field ``body``) naming the first image that readers' browsers would not load."""
    blocked = blocked_images(markdown_text, img_src)
    if blocked:
        raise InvalidInput(f"the image {blocked[0][:200]} is blocked by the site's security policy", field="body")
