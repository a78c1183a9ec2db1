"""Mail settings, queued messages and absolute links for e-mails, taken from the running app.

Views and services queue mail with :func:`queue_message` in the transaction of the change;
the worker sends it after the commit (:mod:`kb.services.mail.queue`).

Links in e-mails use ``MAIL_BASE_URL`` when it is set, because the Host header
of a request can be forged; without it the request's host is used, and outside
a request (the CLI) localhost, with a warning.
"""
from __future__ import annotations

from typing import Any

from flask import current_app, url_for

from kb.db import session, utcnow
from kb.models import OutgoingMail
from kb.services.mail.transport import mail_settings
from kb.services.mail.queue import queue_mail


def mail_config() -> dict[str, Any]:
    """The MAIL_* settings of the app, with the outbox folder resolved."""
    return mail_settings(current_app.config, current_app.instance_path)


def mail_sender() -> str:
    """The From (and Reply-To) of the shop's messages: its customer-service address, else MAIL_DEFAULT_SENDER."""
    from kb.services.shop.channels import shop_sender

    return (shop_sender(session(), default_name=current_app.config["SHOP_NAME"])
            or str(current_app.config["MAIL_DEFAULT_SENDER"]))


def queue_message(to: str, subject: str, body: str, *, kind: str, **about: Any) -> OutgoingMail:
    """Queue a message in the current transaction (see :func:`kb.services.mail.queue.queue_mail`)."""
    return queue_mail(session(), to, subject, body, kind=kind, sender=mail_sender(), now=utcnow(), **about)


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
