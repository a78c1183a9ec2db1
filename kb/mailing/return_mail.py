"""The return's instructions, on the printable page and in the mail sent when it is registered.

The help articles promise that registering a return brings the return number and the
instructions by e-mail; :func:`queue_return_mail` keeps that promise in the customer's
language, in the transaction of the registration (the worker sends it after the commit).
The steps and the return address are the same on paper and in the mail, so the mail
can be printed as it is (the printable page needs a log-in or a found order, which a
link opened from the mail may not have).
"""
from __future__ import annotations

from flask import current_app
from flask_babel import force_locale, gettext as _

from kb.mailing.emailing import queue_message
from kb.models import Return
from kb.services.shop.shop_details import ShopDetails


def return_steps(rma: str) -> list[str]:
    """What the customer does with the parcel, in the current language."""
    return [
        _("Pack the products carefully, preferably in the original packaging."),
        _("Write the return number %(rma)s clearly on the parcel, or put this page inside it.", rma=rma),
        _("Take the parcel to a Posti service point within 14 days. Show the return number at the counter."),
    ]


def return_mail(ret: Return, shop: ShopDetails, *, language: str) -> tuple[str, str]:
    """Subject and text of the mail confirming a registered return, in ``language``."""
    with force_locale(language):
        subject = _("Return %(rma)s registered – instructions", rma=ret.rma)
        parts = [_("Hello,"),
                 _("your return %(rma)s from order %(number)s has been registered. Keep this message: the return "
                   "number is needed when you send the parcel.", rma=ret.rma, number=ret.order.number),
                 "\n".join(f"- {line.quantity} × {line.order_line.name}" for line in ret.lines)]
        if ret.resolution == "exchange" and ret.exchange_for:
            parts.append(_("You asked for an exchange: %(wish)s", wish=ret.exchange_for))
        parts.append(_("How to send the return:") + "\n"
                     + "\n".join(f"{n}. {step}" for n, step in enumerate(return_steps(ret.rma), 1)))
        if shop.return_address:
            parts.append(_("Return address:") + "\n" + "\n".join(shop.return_address))
        parts.append(_("We will let you know when the parcel has arrived and the return has been handled."))
        parts.append(shop.name)
    return subject, "\n\n".join(parts) + "\n"


def queue_return_mail(ret: Return, shop: ShopDetails, *, language: str) -> None:
    """Queue the confirmation with the instructions to the order's address."""
    if language not in current_app.config["LANGUAGES"]:
        language = current_app.config["BABEL_DEFAULT_LOCALE"]
    subject, body = return_mail(ret, shop, language=language)
    queue_message(ret.order.email, subject, body, kind="return")
