"""Helpers shared by the contact-form tests (tests/test_contact.py, tests/test_contact_survey.py)."""
from __future__ import annotations

from tests.mail_helpers import sent_mail


EN = {"Accept-Language": "en"}


def outbox(app) -> list:
    """The mail the app sent so far (the queue is delivered first)."""
    return sent_mail(app)
