"""Helpers shared by the contact-form tests (tests/test_contact.py, tests/test_contact_survey.py)."""
from __future__ import annotations

from pathlib import Path

from kb.services.mail import read_outbox


EN = {"Accept-Language": "en"}


def outbox(app) -> list:
    return read_outbox(Path(app.instance_path) / "outbox")
