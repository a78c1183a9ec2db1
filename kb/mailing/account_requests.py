"""The worker's half of an account e-mail asked for by a stranger: look the address up, mail the link.

The web request only stored what was typed (:mod:`kb.services.accounts.account_requests`), so its answer
does the same work for any address. Here, for a password reset: an active account gets a new
single-use link (earlier ones stop working) in its language, queued in the same transaction;
an unknown or disabled address gets nothing. Both outcomes go to the security log.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale, gettext as _

from kb import security_log
from kb.db import commit, session, utcnow
from kb.mailing.emailing import email_link, queue_message
from kb.services.accounts import account_requests, auth as accounts
from kb.services.shop.channels import get_setting


def _link(base_url: str, endpoint: str, **values: str) -> str:
    """An e-mailed link: MAIL_BASE_URL when set, else the address the request came to."""
    if current_app.config.get("MAIL_BASE_URL") or not base_url:
        return email_link(endpoint, **values)
    return base_url.rstrip("/") + current_app.url_map.bind("localhost").build(endpoint, values)


def reset_mail(issued: accounts.IssuedReset, minutes: int, *, base_url: str = "") -> None:
    """Queue the reset link in the account's language."""
    user = issued.user
    shop = get_setting(session(), "shop_name", current_app.config["SHOP_NAME"])
    with force_locale(user.language):
        subject = _("Set a new password for %(shop)s", shop=shop)
        body = _("Hello,\n\nsomeone, hopefully you, asked to set a new password for your %(shop)s account. "
                 "Open this link to choose it:\n\n%(link)s\n\n"
                 "The link works once, for %(minutes)d minutes. If you did not ask for it, you can ignore this "
                 "message: your password stays as it is.\n",
                 shop=shop, link=_link(base_url, "auth.reset_password", token=issued.token), minutes=minutes)
    queue_message(user.email, subject, body, kind="reset")


def handle_account_requests(*, now: datetime | None = None) -> int:
    """Handle the waiting requests, one transaction each; returns how many mails were queued."""
    minutes = int(current_app.config["RESET_TOKEN_MINUTES"])
    queued = 0
    while True:
        db = session()
        claimed = account_requests.claim_requests(db, limit=1)
        if not claimed:
            db.rollback()
            return queued
        claim = claimed[0]
        issued = None
        if claim.kind == account_requests.RESET:  # the link's time runs from now, when it is made
            issued = accounts.start_password_reset(db, claim.email, now=now or utcnow(),
                                                   lifetime=timedelta(minutes=minutes))
            if issued is not None:
                reset_mail(issued, minutes, base_url=claim.base_url)
                queued += 1
        commit()
        security_log.record("password_reset_request", "sent" if issued else "no_account",
                            user=issued.user if issued else None, email=claim.email)
