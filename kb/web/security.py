"""Request hygiene and response headers applied to every request."""
from __future__ import annotations

import secrets

from flask import Flask, Response, abort, current_app, request, session
from limits import parse
from werkzeug.exceptions import SecurityError
from werkzeug.routing import IntegerConverter, Map

from kb import security_log


def visitor_id() -> str:
    """A random id for this browser session: feedback and search logs are keyed on it."""
    if "visitor" not in session:
        session["visitor"] = secrets.token_urlsafe(16)
    return session["visitor"]


MAX_ID = 2**31 - 1


def small_int(value: str | None, *, default: int | None = None, maximum: int = MAX_ID) -> int | None:
    """A non-negative integer typed by a person, or ``default``: "²", "1e3" and 5,000 digits are not numbers."""
    if value is None or not (value.isascii() and value.isdigit()) or len(value) > 10:
        return default
    number = int(value)
    return number if number <= maximum else default


def id_arg(value: str) -> int:
    """``type=`` for ``request.args.get``: a bounded integer, else ValueError (the default is used)."""
    number = small_int(value)
    if number is None:
        raise ValueError(value)
    return number


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` in URLs, but only ids a database column can hold (else 404, never an overflow)."""

    def __init__(self, map: Map, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)  # type: ignore[arg-type]


def spend_attempt(limit: str, *key: str) -> bool:
    """Count one attempt for ``key`` against ``limit`` ("5 per 15 minutes"); False once it is used up.

    The count and the comparison are one atomic step in the limiter's storage (Redis
    INCR with several workers), so the limit is exact however many requests arrive at
    once. Flask-Limiter's ``deduct_when`` is not: it tests before the request and counts
    after it, and concurrent requests all pass the test.
    """
    from kb.web.extensions import limiter

    return not limiter.enabled or limiter.limiter.hit(parse(limit), "attempts", *key)


def forget_attempts(limit: str, *key: str) -> None:
    """Start counting ``key``'s attempts against ``limit`` from zero again (after a success)."""
    from kb.web.extensions import limiter

    if limiter.enabled:
        limiter.limiter.clear(parse(limit), "attempts", *key)


def _reject_nul_bytes() -> None:
    """NUL cannot be stored in PostgreSQL text and is never legitimate input."""
    for values in (request.args, request.form):
        for value in values.values():
            if "\x00" in value:
                abort(400)


def _refuse_untrusted_host() -> None:
    """A Host header outside TRUSTED_HOSTS is refused before any view, hook or template builds a URL."""
    if isinstance(request.routing_exception, SecurityError):
        security_log.record("untrusted_host", "refused", status=400)
        raise request.routing_exception


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
    from kb.web.json_limits import LimitedJSONProvider

    app.json = LimitedJSONProvider(app)  # every request.get_json: deep nesting is a 400, never a 500
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_untrusted_host)
    app.before_request(_reject_nul_bytes)
    app.after_request(_security_headers)
