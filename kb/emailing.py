"""Mail settings and absolute links for e-mails, taken from the running app.

Links in e-mails use ``MAIL_BASE_URL`` when it is set, because the Host header
of a request can be forged; without it the request's host is used, and outside
a request (the CLI) localhost, with a warning.
"""
from __future__ import annotations

from typing import Any

from flask import current_app, url_for

from kb.services.mail import mail_settings


def mail_config() -> dict[str, Any]:
    """The MAIL_* settings of the app, with the outbox folder resolved."""
    return mail_settings(current_app.config, current_app.instance_path)


def email_link(endpoint: str, **values: Any) -> str:
    """An absolute link to ``endpoint`` for a message that leaves the site."""
    base = current_app.config.get("MAIL_BASE_URL")
    if base:
        return base.rstrip("/") + current_app.url_map.bind("localhost").build(endpoint, values)
    try:
        return url_for(endpoint, _external=True, **values)
    except RuntimeError:  # no request and no SERVER_NAME
        current_app.logger.warning("MAIL_BASE_URL is not set: e-mailed links name localhost")
        return "http://localhost" + current_app.url_map.bind("localhost").build(endpoint, values)
