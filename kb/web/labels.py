"""The one place where codes stored in the database become words for readers.

Order, delivery and return statuses, ticket statuses, channels, inquiry types, roles, weekdays and
return reasons are stored as English codes ("shipped", "chat", "form"); pages show them only
through :func:`code_label` (the ``label`` filter in templates), translated into the reader's language.
A code without a label is shown as it is, so a new code is visible rather than hidden.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

LABELS = {
    # orders, their events and returns: what the customer and the agent read
    "order": {
        "received": _l("Received"), "paid": _l("Paid"), "packing": _l("Being packed"), "packed": _l("Packed"),
        "shipped": _l("Shipped"), "delivered": _l("Delivered"), "cancelled": _l("Cancelled"),
        "returned": _l("Returned"), "registered": _l("Registered"), "refunded": _l("Refunded"),
        "exchanged": _l("Exchanged"), "rejected": _l("Rejected"), "changed": _l("Changed by you"),
        "return": _l("Return registered"),
    },
    # a ticket as the customer sees it (My messages)
    "inquiry": {"new": _l("Received"), "open": _l("Being handled"), "waiting": _l("Waiting for your reply"),
                "solved": _l("Solved"), "closed": _l("Closed")},
    # a ticket as the agent sees it
    "ticket": {"new": _l("New"), "open": _l("Open"), "waiting": _l("Waiting on customer"), "solved": _l("Solved"),
               "closed": _l("Closed")},
    "channel": {"email": _l("E-mail"), "chat": _l("Chat"), "form": _l("Contact form"), "social": _l("Social media"),
                "phone": _l("Phone")},
    "inquiry_type": {"order": _l("Order"), "delivery": _l("Delivery"), "payment": _l("Payment"),
                     "return": _l("Return"), "warranty": _l("Warranty"), "product": _l("Product"),
                     "other": _l("Other")},
    "role": {"customer": _l("Customer"), "agent": _l("Agent"), "editor": _l("Editor"), "manager": _l("Manager"),
             "admin": _l("Admin")},
    "weekday": {"mon": _l("Monday"), "tue": _l("Tuesday"), "wed": _l("Wednesday"), "thu": _l("Thursday"),
                "fri": _l("Friday"), "sat": _l("Saturday"), "sun": _l("Sunday")},
    "reason": {"changed_mind": _l("I changed my mind"), "wrong_size": _l("Wrong size"),
               "not_as_described": _l("Not as described"), "damaged": _l("Damaged in transport"),
               "faulty": _l("Faulty product"), "wrong_item": _l("Wrong product delivered"),
               "other": _l("Other reason")},
    "language": {"fi": _l("Finnish"), "sv": _l("Swedish"), "en": _l("English")},
}


def code_label(code: object, kind: str) -> str:
    """``code`` (a string or a str enum) as a word in the reader's language; unknown codes as they are."""
    value = getattr(code, "value", code)
    if value is None:
        return ""
    label = LABELS[kind].get(str(value))
    return str(label) if label is not None else str(value)
