"""Reading HTML forms the way a browser posts them: their fields, options and CSRF token."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit


@dataclass
class Field:
    name: str
    kind: str
    value: str = ""
    options: list[str] = field(default_factory=list)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, dict[str, Field]]] = []
        self._select: Field | None = None
        self._textarea: Field | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((a.get("action", ""), {}))
            return
        if not self.forms or "name" not in a:
            if tag == "option" and self._select is not None:
                self._option(a)
            return
        fields = self.forms[-1][1]
        name = a["name"]
        if tag == "input":
            kind = a.get("type", "text").lower()
            found = fields.setdefault(name, Field(name, kind))
            if kind in ("radio", "checkbox"):
                found.options.append(a.get("value", "on"))
                if "checked" in a:
                    found.value = a.get("value", "on")
            else:
                found.value = a.get("value", "")
        elif tag == "button":
            fields.setdefault(name, Field(name, "button")).options.append(a.get("value", ""))
        elif tag == "select":
            self._select = fields.setdefault(name, Field(name, "select"))
        elif tag == "textarea":
            self._textarea = fields.setdefault(name, Field(name, "textarea"))

    def _option(self, a: dict[str, str]) -> None:
        assert self._select is not None
        self._select.options.append(a.get("value", ""))
        if "selected" in a:
            self._select.value = a.get("value", "")

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_fields(html: str, page: str, action: str) -> dict[str, Field]:
    """The fields of the form on ``html`` (the page at ``page``) that posts to ``action``."""
    parser = _Forms()
    parser.feed(html)
    for form_action, fields in parser.forms:
        if urlsplit(form_action or page).path.rstrip("/") == action.rstrip("/"):
            return fields
    raise AssertionError(f"no form posting to {action} on the page")


def maybe_csrf_token(html: str) -> str | None:
    """The CSRF token of the page's first form, or None (attribute order as any template renders it)."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"', html)
    return (match.group(1) or match.group(2)) if match else None


def csrf_token(html: str) -> str:
    """The CSRF token of the page's first form; fails the test when the page has none."""
    token = maybe_csrf_token(html)
    assert token, "form has no CSRF token"
    return token
