"""The security event log: one JSON line per log-in, account change or refused request.

OWASP ASVS 7.1.3-7.2.2 ask for a record of authentication decisions (log-ins that
succeed and fail, lock-outs, password changes and resets), of administrators'
changes to accounts and API tokens, and of access-control failures (401, 403, a
refused CSRF token, a rate limit), with enough to investigate an attack: when,
from which address, which account, the outcome.

What is never written (7.1.1, 7.1.2): passwords, tokens, session ids, query strings
and the URL itself (a reset link carries its token in the path: the route's pattern
is written instead). E-mail addresses appear only as a keyed hash (``email_ref``),
so attempts on one address can be followed across the log without the log being a
list of customers' addresses; ``neuvo user ref ADDRESS`` prints the hash of a given
address. Every value is JSON-encoded, so a crafted header or address cannot forge a
second line (7.3.1).

Where the lines go is ``SECURITY_LOG``: ``"-"`` (standard error: the journal under
systemd), a file path (opened for each line, so logrotate may move it at any time), or empty for the
``neuvo.security`` logger alone, for a deployment that configures logging itself.
The lines always pass through that logger too.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from flask_login import current_user

LOGGER = logging.getLogger("neuvo.security")
LOGGER.setLevel(logging.INFO)
_EXTENSION = "neuvo.security_log"
#: Longest value kept of a field that a client chooses (a user agent, say).
_MAX_FIELD = 200


def email_ref(address: str, *, secret: str | bytes | None = None) -> str:
    """A stable pseudonym for an e-mail address: HMAC-SHA256 with the app's secret key, 16 hex digits."""
    key = secret if secret is not None else current_app.config.get("SECRET_KEY") or ""
    key_bytes = key.encode() if isinstance(key, str) else key
    return hmac.new(key_bytes, address.strip().lower().encode(), hashlib.sha256).hexdigest()[:16]


def _request_fields() -> dict[str, Any]:
    if not has_request_context():
        return {"via": "cli"}
    fields: dict[str, Any] = {"via": "web", "ip": request.remote_addr, "method": request.method,
                              "route": request.url_rule.rule if request.url_rule else None}
    agent = request.headers.get("User-Agent")
    if agent:
        fields["user_agent"] = agent[:_MAX_FIELD]
    if current_user and current_user.is_authenticated:
        fields["actor_id"] = current_user.id
        fields["actor_role"] = current_user.role.value
    return fields


def record(event: str, outcome: str = "success", *, user: Any = None, email: str | None = None,
           **details: str | int | bool | None) -> None:
    """Write one event. ``user`` is the account acted upon (a User), ``email`` an address typed by the client."""
    entry: dict[str, Any] = {"time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                             "event": event, "outcome": outcome}
    entry.update(_request_fields())
    if user is not None:
        entry["user_id"] = user.id
        entry["user_role"] = user.role.value
    if email:
        entry["email_ref"] = email_ref(email)
    entry.update({key: value for key, value in details.items() if value is not None})
    line = json.dumps(entry, ensure_ascii=False, sort_keys=True, default=str)
    log_record = LOGGER.makeRecord(LOGGER.name, logging.INFO, __file__, 0, line, None, None)
    LOGGER.handle(log_record)
    handler = current_app.extensions.get(_EXTENSION)
    if handler is not None:
        handler.handle(log_record)
    if has_request_context():
        g.security_event_recorded = True


def recorded_in_this_request() -> bool:
    """True once this request wrote an event (so the error handler does not write a second for it)."""
    return bool(g.get("security_event_recorded"))


class _StandardError(logging.StreamHandler):  # type: ignore[type-arg]
    """Standard error as it is when a line is written (a test runner or daemon may have replaced it)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


class _AppendToFile(logging.Handler):
    """Opens the file for each line: logrotate can move it at any time, and no handle outlives the app."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def emit(self, record: logging.LogRecord) -> None:
        try:
            with open(self.path, "a", encoding="utf-8") as file:
                file.write(self.format(record) + "\n")
        except OSError:
            self.handleError(record)


def _handler_for(target: str) -> logging.Handler:
    if target == "-":
        return _StandardError()
    return _AppendToFile(target)


def init_app(app: Flask) -> None:
    """Open this app's destination; each app has its own, so two apps in one process never mix."""
    target = (app.config.get("SECURITY_LOG") or "").strip()
    if target:
        handler = _handler_for(target)
        handler.setFormatter(logging.Formatter("%(message)s"))
        app.extensions[_EXTENSION] = handler
