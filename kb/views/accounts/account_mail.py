"""The mail an account gets: confirming the address, "you already have an account" and "your password was
changed", each in the account's language and queued in the request's transaction. Reset links are mailed
by the worker (kb/mailing/account_requests.py), so that a reset request does the same work for any address."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import force_locale, lazy_gettext as _l
from flask_babel.speaklater import LazyString

from kb.db import session
from kb.mailing.emailing import email_link, queue_message
from kb.models import User
from kb.services.accounts import auth as accounts
from kb.services.shop.channels import get_setting

#: How long the link that confirms a new account's address works.
VERIFY_LINK_LIFETIME = timedelta(days=7)


def _send(user: User, kind: str, subject: LazyString, body: LazyString, **values: object) -> None:
    """Word the mail in the account's language and queue it in the request's transaction, so the answer
    takes as long whether or not the address has an account."""
    with force_locale(user.language):
        values["shop"] = get_setting(session(), "shop_name", current_app.config["SHOP_NAME"])
        queue_message(user.email, str(subject) % values, str(body) % values, kind=kind)


def welcome(user: User) -> None:
    """The new account's first mail: the link that confirms the address (needed before the first log-in)."""
    token = accounts.verification_token(current_app.config["SECRET_KEY"], user)
    _send(user, "welcome", _l("Confirm your e-mail address for %(shop)s"),
          _l("Hello,\n\nyour %(shop)s account is almost ready. Open this link to confirm that this e-mail "
             "address is yours:\n\n%(link)s\n\nThe link works for %(days)d days. Then log in to follow your "
             "orders and returns.\n\nIf you did not create this account, ignore this message: the account "
             "cannot be used without the link.\n"),
          link=email_link("auth.verify_email", token=token), days=VERIFY_LINK_LIFETIME.days)


def already_registered(user: User) -> None:
    _send(user, "registered", _l("You already have a %(shop)s account"),
          _l("Hello,\n\nsomeone, hopefully you, tried to create a %(shop)s account with this e-mail address. "
             "You already have one, so nothing was changed.\n\nLog in: %(login)s\n"
             "Forgot your password? Set a new one: %(reset)s\n\n"
             "If this was not you, you can ignore this message.\n"),
          login=email_link("auth.login"), reset=email_link("auth.reset_request"))


def password_changed(user: User) -> None:
    """Tell the account's owner (ASVS 2.2.3): a password changed by someone else must not go unnoticed."""
    _send(user, "password_changed", _l("Your %(shop)s password was changed"),
          _l("Hello,\n\nthe password of your %(shop)s account was just changed, and every other device "
             "was logged out. If this was you, there is nothing more to do.\n\n"
             "If it was not you, set a new password at once: %(reset)s\n"
             "and reply to this message so that we can help.\n"),
          reset=email_link("auth.reset_request"))
