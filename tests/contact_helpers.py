"""Helpers shared by the contact-form tests (tests/test_contact.py, tests/test_contact_survey.py)."""
from __future__ import annotations

from tests.mail_helpers import sent_mail as outbox  # noqa: F401


EN = {"Accept-Language": "en"}
