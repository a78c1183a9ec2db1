"""The link that proves an inquiry's sender reads the address the inquiry names.

The contact form takes any address and a mail's From header can be forged, so an inquiry from
someone not logged in is shown under that address's "My messages" only once its sender opened
this link, which goes out with the automatic answer (the contact form's confirmation, the
e-mail acknowledgement). The ticket's own copy of that answer leaves the link out: agents see
what the customer was told, not a link that would confirm the address for them. Rules:
:mod:`kb.services.inquiries.customer_inquiries`.
"""
from __future__ import annotations

from flask import current_app
from flask_babel import force_locale, gettext as _

from kb.mailing.emailing import email_link
from kb.models import Ticket
from kb.services.inquiries.customer_inquiries import sender_token


def sender_paragraph(ticket: Ticket) -> str:
    """The paragraph, in the ticket's language, that invites the sender to prove the address."""
    link = email_link("contact.confirm_sender", token=sender_token(current_app.config["SECRET_KEY"], ticket))
    with force_locale(ticket.language):
        return _("If you sent this message and want to follow it under My messages when you log in with this "
                 "address, confirm it here: %(link)s\nIf you did not send it, ignore this link.", link=link)
