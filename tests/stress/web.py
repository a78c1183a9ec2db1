"""A small browser for tests against a real server: cookies, forms with CSRF tokens, no JavaScript.

Keeps one keep-alive connection and reconnects when the server dropped it (a
killed worker). Redirects are not followed: tests assert them.
"""
from __future__ import annotations

import html
import http.client
import json
import re
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any, Self
from urllib.parse import urlencode, urlsplit


@dataclass(frozen=True)
class Page:
    status: int
    headers: dict[str, str]
    text: str

    @property
    def location(self) -> str:
        return urlsplit(self.headers.get("location", "")).path

    def json(self) -> Any:
        return json.loads(self.text)

    def hidden(self, name: str) -> str:
        """The value of hidden input ``name`` (the first one on the page)."""
        match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*value="([^"]*)"', self.text) or \
            re.search(rf'<input[^>]*value="([^"]*)"[^>]*name="{re.escape(name)}"', self.text)
        assert match, f"no hidden input {name!r} on the page"
        return html.unescape(match.group(1))


class Browser:
    """Cookies and one HTTP/1.1 connection to ``host:port``."""

    def __init__(self, base_url: str, timeout: float = 60):
        parts = urlsplit(base_url)
        self.host, self.port, self.timeout = parts.hostname or "127.0.0.1", parts.port or 80, timeout
        self.cookies: dict[str, str] = {}
        self._conn: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, *, form: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> Page:
        """One request on a fresh connection if the last one was dropped; raises OSError when the server does."""
        body = urlencode(form).encode() if form is not None else None
        sent = dict(headers or {})
        if body is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            self._conn.request(method, path, body=body, headers=sent)
            response = self._conn.getresponse()
            text = response.read().decode("utf-8", errors="replace")
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                for morsel in SimpleCookie(value).values():
                    self.cookies[morsel.key] = morsel.value
        if response.will_close:
            self.close()
        return Page(response.status, {k.lower(): v for k, v in response.getheaders()}, text)

    def get(self, path: str, **headers: str) -> Page:
        return self.request("GET", path, headers=headers)

    def post(self, path: str, form: dict[str, str]) -> Page:
        return self.request("POST", path, form=form)

    def log_in(self, email: str, password: str) -> None:
        page = self.get("/auth/login")
        assert page.status == 200, page.status
        done = self.post("/auth/login", {"csrf_token": page.hidden("csrf_token"), "email": email,
                                         "password": password})
        assert done.status == 302, f"log-in as {email} failed: {done.status}"
