"""The services' error messages in the reader's language.

Services raise :class:`~kb.services.errors.InvalidInput` with short English messages: the
CLI, the API and the logs show them as they are. Pages show :func:`error_text` instead, a
whole sentence in the page's language; a message not listed here is shown as it is.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from flask_babel import gettext as _, lazy_gettext as _l

from kb.services.errors import InvalidInput

_EXACT = {
    # forms in general and articles (editor)
    "is required": _l("This field is required."),
    "at most 300 characters": _l("At most 300 characters."),
    "must be one of fi, sv, en": _l("Choose a language."),
    "choose a category": _l("Choose a category."),
    "another article uses this address": _l("Another article uses this address."),
    "choose an existing original": _l("Choose an existing original article."),
    "an original cannot translate itself": _l("An article cannot translate itself."),
    "this article has translations of its own": _l("This article has translations of its own, so it stays an original."),
    "this language version exists already": _l("The original already has a version in this language."),
    "a category with this address exists": _l("A category with this address exists already."),
    "must be between -10000 and 10000": _l("Give a position between -10000 and 10000."),
    "create a category first": _l("Create a category first."),
    # orders
    "is too long": _l("This is too long."),
    "a Finnish postal code has five digits": _l("A Finnish postal code has five digits."),
    "an order needs at least one product; cancel the order instead":
        _l("An order needs at least one product. To remove everything, cancel the order."),
    "no such product available": _l("This product is not available."),
    # returns
    "choose a reason from the list": _l("Choose a reason from the list."),
    "choose refund or exchange": _l("Choose a refund or an exchange."),
    "is too long (1000 characters at most)": _l("At most 1000 characters."),
    "the form is invalid; reload the page": _l("The form has expired. Reload the page and try again."),
    "choose at least one product to return": _l("Choose at least one product to return."),
    # accounts
    "not a valid e-mail address": _l("Enter a valid e-mail address."),
    "an account with this e-mail already exists": _l("An account with this e-mail address already exists."),
    "this password is too easy to guess":
        _l("This password is too easy to guess. Try, for example, a phrase of a few unrelated words."),
    # administration: users, channels, opening hours, shop settings
    "unknown role": _l("Choose a role from the list."),
    "unsupported language": _l("Choose a language from the list."),
    "you cannot change or disable your own account here": _l("You cannot change or disable your own account here."),
    "the shop must keep at least one active admin": _l("The shop must keep at least one active administrator."),
    "write hours as 09:00-17:00": _l("Write the hours as 09:00-17:00."),
    "a closing time must be after its opening time": _l("A closing time must be after its opening time."),
    "the spans overlap": _l("The time spans overlap."),
    "not a phone number such as +358 9 123 4567": _l("Write a phone number such as +358 9 123 4567."),
    "an https:// address or a path on this site": _l("Give an https:// address or a path on this site."),
    "unknown channel type": _l("Choose a channel type from the list."),
    "a whole number from 0 to 10000": _l("Give a whole number from 0 to 10000."),
    "not a date in the form YYYY-MM-DD": _l("Give a date in the form YYYY-MM-DD."),
    "give the hours, or mark the day closed": _l("Give the hours, or mark the day closed."),
    "required, at most 120 characters": _l("Required, at most 120 characters."),
    "a whole number of days from 0 to 365": _l("Give a whole number of days from 0 to 365."),
    "a business ID looks like 1234567-8": _l("Write the business ID in the form 1234567-8."),
    "at most 6 lines and 300 characters": _l("At most 6 lines and 300 characters."),
    # returns: exchanges
    "say what you would like instead": _l("Tell us what you would like instead."),
    "is too long (200 characters at most)": _l("At most 200 characters."),
}

_PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"must be between (-?\d+) and (-?\d+)"),
     lambda m: _("Give a number from %(low)s to %(high)s.", low=m[1], high=m[2])),
    (re.compile(r"you can return at most (\d+)"), lambda m: _("You can return at most %(count)s.", count=m[1])),
    (re.compile(r"at least (\d+) characters"), lambda m: _("At least %(count)s characters.", count=m[1])),
    (re.compile(r"at most (\d+) characters"), lambda m: _("At most %(count)s characters.", count=m[1])),
    (re.compile(r"'(.*)' is not a time such as 09:00 \(use 23:59 for midnight\)"),
     lambda m: _("“%(value)s” is not a time such as 09:00 (use 23:59 for midnight).", value=m[1])),
    (re.compile(r"the image (.*) is blocked by the site's security policy"),
     lambda m: _("Readers' browsers would not show the image %(url)s: the site's security policy allows only "
                 "images stored on this site. Save the image on this site and link to it there.", url=m[1])),
    (re.compile(r"no published article with the slug '(.*)'"),
     lambda m: _("No published article has the address “%(slug)s”.", slug=m[1])),
]


def error_text(error: InvalidInput) -> str:
    """``error``'s message as a sentence in the current language (the English message if unknown)."""
    known = _EXACT.get(error.message)
    if known is not None:
        return str(known)
    for pattern, sentence in _PATTERNS:
        match = pattern.fullmatch(error.message)
        if match:
            return sentence(match)
    return error.message
