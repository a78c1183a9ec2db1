"""Helpers shared by the contact-form tests (tests/inquiries/test_contact.py, tests/inquiries/test_contact_survey.py)."""
from __future__ import annotations

import io

import pytest
from werkzeug.test import EnvironBuilder

from kb.db import commit, session
from kb.models import Channel, ChannelKind
from kb.services.shop.channels import set_setting
from tests.fixtures.mail_helpers import sent_mail as outbox  # noqa: F401
from tests.support.html_forms import csrf_token

EN = {"Accept-Language": "en"}
STATED = "We reply within one working day"
WEEKDAYS = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


def form_data(**overrides) -> dict:
    data = {"inquiry_type": "delivery", "name": "Aino Virtanen", "email": "aino@example.com", "order_number": "",
            "subject": "Delivery time", "message": "How long does the delivery take to Tampere?", "website": ""}
    data.update(overrides)
    return data


def send(client, data: dict | None = None, files: list[tuple[bytes, str]] | None = None):
    """Fill in the real form (CSRF token from the page) and post it."""
    page = client.get("/yhteydenotto", headers=EN).get_data(as_text=True)
    payload = {**(data or form_data()), "csrf_token": csrf_token(page)}
    if not files:
        return client.post("/yhteydenotto", data=payload, headers=EN, content_type="multipart/form-data")
    payload["attachments"] = [(io.BytesIO(content), name) for content, name in files]
    builder = EnvironBuilder(path="/yhteydenotto", method="POST", data=payload, headers=EN)
    environ = builder.get_environ()
    try:
        return client.open(environ)
    finally:  # big bodies are spooled to a temporary file that the test client leaves open
        environ["wsgi.input"].close()
        builder.close()


@pytest.fixture
def shop(app, create_article):
    """The form channel with hours and a stated time, and help articles for returns and changes."""
    create_article(slug="returns", title="How to return a product", language="en", category="returns",
                   body="Register the return on the return page, pack the product and send it back.")
    create_article(slug="changes", title="Changing your order", language="en", category="orders",
                   body="You can change or cancel your order until it is packed.")
    create_article(slug="delivery-times", title="Delivery times", language="en", category="delivery",
                   body="Deliveries take one to three working days to Tampere and elsewhere in Finland.")
    with app.app_context():
        session().add(Channel(kind=ChannelKind.FORM, hours=WEEKDAYS, response_times={"en": STATED, "fi": STATED}))
        set_setting(session(), "help_article_returns", "returns")
        set_setting(session(), "help_article_changes", "changes")
        commit()
