"""Error pages for browsers and JSON errors for the API.

A database that cannot be reached (stopped, restarting, a dropped connection, SQLite
locked past its busy timeout) and a full disk are temporary: they answer 503 with
``Retry-After``, never a 500. That page is rendered without the database (the shop's
configured name, the visitor shown as logged out), so it cannot fail the same way;
the engine's ``pool_pre_ping`` reconnects on the next request once the database is back.
"""
from __future__ import annotations

import errno

from flask import Flask, Response, current_app, g, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError, ServiceUnavailable

from kb import security_log

#: Seconds a client is asked to wait before trying again after a 503.
RETRY_AFTER_SECONDS = 5
_DATABASE_UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


MESSAGES = {
    400: _l("The request could not be understood."),
    403: _l("You do not have access to this page."),
    404: _l("The page was not found."),
    405: _l("That is not allowed here."),
    413: _l("The request is too large."),
    429: _l("Too many requests. Please wait a moment and try again."),
    500: _l("Something went wrong on our side. Please try again."),
    503: _l("The service is temporarily unavailable. Please try again shortly."),
}


def is_temporary(error: BaseException) -> bool:
    """The database is out of reach or the disk is full: worth trying again shortly."""
    if isinstance(error, _DATABASE_UNAVAILABLE):
        return True
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, OSError) and error.errno in _DISK_FULL


#: Refusals that the security event log keeps (an access-control failure or a limit reached).
_LOGGED_REFUSALS = {401: "access_denied", 403: "access_denied", 429: "rate_limited"}


def _record_refusal(code: int, error: HTTPException) -> None:
    if security_log.recorded_in_this_request():
        return  # the view already wrote what happened (a locked log-in, say)
    if isinstance(error, CSRFError):
        security_log.record("csrf_refused", "refused", status=400, reason=error.description[:120])
    elif code in _LOGGED_REFUSALS:
        security_log.record(_LOGGED_REFUSALS[code], "refused", status=code)


def _handle_http(error: HTTPException):  # type: ignore[no-untyped-def]
    code = error.code or 500
    _record_refusal(code, error)
    message = str(MESSAGES.get(code, error.name))
    if isinstance(error, CSRFError):
        code, message = 400, str(_l("The form had expired. Please reload the page and try again."))
    # What the error itself says in its headers: Allow on a 405, Retry-After, WWW-Authenticate.
    headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
    if isinstance(error, SecurityError):  # an untrusted Host header: no URL can be built, so no page template
        if wants_json():
            return jsonify(error="this host name is not served here", field="Host"), 400
        return Response(message, 400, mimetype="text/plain")
    if wants_json():
        return jsonify(error=getattr(error, "json_message", None) or message,
                       field=getattr(error, "field", None)), code, headers
    return render_template("errors/error.html", code=code, message=message), code, headers


def _end_transaction() -> None:
    """Roll back the request's failed transaction (the connection may be gone: then there is nothing to end)."""
    failed = g.get("db_session")
    if failed is not None:
        try:
            failed.rollback()
        except sa_exc.SQLAlchemyError:
            current_app.logger.debug("rollback after a failed request failed too", exc_info=True)


def _handle_unavailable(error: Exception) -> Response:
    current_app.logger.warning("temporarily unavailable on %s: %s: %s", request.path, type(error).__name__,
                               str(error).splitlines()[0] if str(error) else "")
    _end_transaction()
    # what the page would otherwise read from the database
    g.setdefault("shop_name", current_app.config["SHOP_NAME"])
    g._login_user = current_app.login_manager.anonymous_user()  # type: ignore[attr-defined]
    try:
        response = current_app.make_response(_handle_http(ServiceUnavailable()))
    except Exception:
        current_app.logger.exception("the 503 page failed on %s", request.path)
        response = Response(str(MESSAGES[503]), 503, mimetype="text/plain")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _handle_unexpected(error: Exception):  # type: ignore[no-untyped-def]
    if is_temporary(error):
        return _handle_unavailable(error)
    current_app.logger.exception("unhandled error on %s", request.path)
    _end_transaction()  # the error page reads the shop name
    return _handle_http(InternalServerError())


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(Exception, _handle_unexpected)
