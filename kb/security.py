"""Request hygiene and response headers applied to every request."""
from __future__ import annotations

import secrets

from flask import Flask, Response, abort, current_app, request, session


def visitor_id() -> str:
    """A random id for this browser session: feedback and search logs are keyed on it."""
    if "visitor" not in session:
        session["visitor"] = secrets.token_urlsafe(16)
    return session["visitor"]


def _reject_nul_bytes() -> None:
    """NUL cannot be stored in PostgreSQL text and is never legitimate input."""
    for values in (request.args, request.form):
        for value in values.values():
            if "\x00" in value:
                abort(400)


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", current_app.config["CONTENT_SECURITY_POLICY"])
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config["SESSION_COOKIE_SECURE"]:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def init_app(app: Flask) -> None:
    app.before_request(_reject_nul_bytes)
    app.after_request(_security_headers)
