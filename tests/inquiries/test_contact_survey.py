"""The satisfaction survey sent when a ticket is solved: answering it once, its ranges and its link."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from kb.db import commit, session, utcnow
from kb.models import ChannelKind, SurveyResponse, Ticket, TicketStatus
from kb.services.inquiries.surveys import send_survey
from tests.conftest import both_backends
from tests.support.contact_helpers import EN, outbox
from tests.support.html_forms import csrf_token


# ---------- the survey

@pytest.fixture
def survey_token(app, client):
    """A solved ticket whose customer was sent the survey; returns the token."""
    with app.test_request_context():
        db = session()
        ticket = Ticket(external_id="T-000777", channel=ChannelKind.FORM, language="en",
                        customer_email="aino@example.com", status=TicketStatus.SOLVED, created_at=utcnow())
        db.add(ticket)
        db.flush()
        token = send_survey(db, ticket, now=utcnow())
        commit()
    return token


@both_backends
def test_survey_is_answered_once(app, client, survey_token: str) -> None:
    [mail] = outbox(app)
    assert f"/kysely/{survey_token}" in mail.get_content() and "T-000777" in mail["Subject"]
    page = client.get(f"/kysely/{survey_token}", headers=EN)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "How satisfied are you with the help you got?" in html
    assert "How easy was it to get your issue handled?" in html
    data = {"csrf_token": csrf_token(html), "csat": "5", "ces": "6", "comment": "Kiitos!"}
    r = client.post(f"/kysely/{survey_token}", data=data)
    assert r.status_code == 302
    assert "already been answered" in client.get(r.headers["Location"], headers=EN).get_data(as_text=True)
    again = client.post(f"/kysely/{survey_token}", data={**data, "csat": "1"}, headers=EN)
    assert again.status_code == 409 and "already been answered" in again.get_data(as_text=True)
    with app.app_context():
        row = session().scalar(select(SurveyResponse))
        assert (row.csat, row.ces, row.comment) == (5, 6, "Kiitos!") and row.answered_at is not None
        assert row.token_hash != survey_token


@pytest.mark.parametrize("csat,ces", [("6", "4"), ("0", "4"), ("3", "8"), ("", "4"), ("3", "x")])
def test_survey_answers_out_of_range_are_refused(app, client, survey_token: str, csat: str, ces: str) -> None:
    html = client.get(f"/kysely/{survey_token}", headers=EN).get_data(as_text=True)
    r = client.post(f"/kysely/{survey_token}", data={"csrf_token": csrf_token(html), "csat": csat, "ces": ces},
                    headers=EN)
    assert r.status_code == 400 and "Choose one of the numbers." in r.get_data(as_text=True)
    with app.app_context():
        assert session().scalar(select(SurveyResponse.answered_at)) is None


def test_unknown_survey_token_is_404(client) -> None:
    assert client.get("/kysely/not-a-token").status_code == 404
    assert client.get("/kysely/" + "x" * 500).status_code == 404


def test_survey_is_not_sent_again_once_answered(app, client, survey_token: str) -> None:
    with app.app_context():
        db = session()
        row = db.scalar(select(SurveyResponse))
        row.answered_at, row.csat, row.ces = utcnow(), 4, 5
        commit()
    with app.test_request_context():
        ticket = session().scalar(select(Ticket))
        assert send_survey(session(), ticket, now=utcnow()) == ""
    assert len(outbox(app)) == 1


def test_survey_link_uses_the_public_address_outside_a_request(app) -> None:
    app.config["MAIL_BASE_URL"] = "https://help.example.fi"
    with app.app_context():  # as from a command: no request to take the host from
        db = session()
        ticket = Ticket(external_id="T-000778", channel=ChannelKind.EMAIL, language="fi",
                        customer_email="eero@example.com", status=TicketStatus.SOLVED, created_at=utcnow())
        db.add(ticket)
        db.flush()
        token = send_survey(db, ticket, now=utcnow())
        commit()
    assert f"https://help.example.fi/kysely/{token}" in outbox(app)[0].get_content()
