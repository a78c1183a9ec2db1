"""Error pages for browsers and JSON errors for the API."""
from __future__ import annotations

from flask import Flask, g, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError


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


def _handle_http(error: HTTPException):  # type: ignore[no-untyped-def]
    code = error.code or 500
    message = str(MESSAGES.get(code, error.name))
    if isinstance(error, CSRFError):
        code, message = 400, str(_l("The form had expired. Please reload the page and try again."))
    if wants_json():
        return jsonify(error=getattr(error, "json_message", None) or message,
                       field=getattr(error, "field", None)), code
    return render_template("errors/error.html", code=code, message=message), code


def _handle_unexpected(error: Exception):  # type: ignore[no-untyped-def]
    from flask import current_app

    current_app.logger.exception("unhandled error on %s", request.path)
    failed = g.get("db_session")  # end the failed transaction: the error page reads the shop name
    if failed is not None:
        failed.rollback()
    return _handle_http(InternalServerError())


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(Exception, _handle_unexpected)
